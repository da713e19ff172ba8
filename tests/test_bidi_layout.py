"""Layout of real Arabic text: direction, wrapping, shaping, mirroring, widths, controls, laziness."""
from pathlib import Path

import pytest
from bidi_reference import render_text
from rich.cells import cell_len

from store.text.direction import paragraph_rule
from tui.bidi import BIDI_CONTROLS, Cell, layout, sanitize

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds" if (ROOT / "seeds").is_dir() else ROOT.parent / "shared" / "seeds"


def seed_title(n: int = 3) -> str:
    files = sorted(SEEDS.glob("*.txt"))
    if len(files) <= n:
        pytest.skip(f"no seed articles in {SEEDS}")
    return files[n].read_text(encoding="utf-8").split("\n", 1)[0]


def drawn(line) -> str:
    return "".join(c.text for c in line.cells)


def test_seed_title_reads_right_to_left_and_wraps_top_to_bottom():
    title = seed_title()  # "بالفيديو.. سبيك: هذا هو الهدف من “تويتر” ..."
    lay = layout(title, 40)
    first = lay.line(0)
    assert first.rtl and first.start == 0
    assert first.indent + sum(c.width for c in first.cells) == 40  # right-aligned
    assert first.cells[-1].start == 0  # first logical letter at the right end
    word = title.split(" ")[0]
    cols = [first.column_of(i) for i in range(len(word))]
    assert cols == sorted(cols, reverse=True) and cols[0] == 39  # the word runs right to left
    rows = [lay.line(r) for r in range(len(lay))]
    assert len(rows) > 1
    for a, b in zip(rows, rows[1:]):
        assert a.end == b.start  # wrapped lines follow each other top to bottom
    assert rows[-1].end == len(title)
    assert all(sum(c.width for c in r.cells) <= 40 for r in rows)


def test_number_stays_ltr_inside_rtl():
    # عام 2009: "2009" reads LTR, left of the shaped (presentation form) عام
    assert render_text("عام 2009", 20) == " " * 12 + "2009 \ufee1\ufe8e\ufecb"


def test_mixed_ltr_paragraph_left_aligned():
    lay = layout("Egypt's president عبد الفتاح السيسي visited Cairo", 80)
    line = lay.line(0)
    assert not line.rtl and line.indent == 0
    assert line.text.startswith("Egypt's president ")
    assert line.text.endswith(" visited Cairo")
    assert lay.paragraph_directions == ["ltr"]


def test_forced_direction():
    assert layout("abc", 10, direction="rtl").line(0).text == "       abc"
    assert layout("عام", 10, direction="ltr").line(0).indent == 0
    assert layout("abc\nعام", 10).paragraph_directions == ["ltr", "rtl"]


def test_harakat_stay_with_base():
    text = "عَلَى"
    line = layout(text, 10).line(0)
    assert [(c.start, c.end) for c in line.cells] == [(4, 5), (2, 4), (0, 2)]
    assert [c.text for c in line.cells] == ["\ufef0", "\ufee0\u064e", "\ufecb\u064e"]
    assert all(c.width == 1 for c in line.cells)
    assert layout("بَّ", 5).line(0).cells == [Cell("\ufe8f\u064e\u0651", 0, 3, 1)]


def test_parentheses_mirrored_in_rtl():
    text = "مرحبا (بالعالم)"
    line = layout(text, 30).line(0)
    by_start = {c.start: c.text for c in line.cells}
    assert by_start[text.index("(")] == ")"
    assert by_start[text.index(")")] == "("
    assert line.text.strip().startswith("(") and line.text.endswith(")" + " \ufe8e\ufe92\ufea3\ufeae\ufee3")
    assert layout("a (b) c", 10).line(0).text == "a (b) c"  # not at even levels


def test_quotes_and_guillemets():
    # straight and curly quotes are not mirrored; « » are (Bidi_Mirrored=Yes)
    assert render_text('"تويتر"', 10).strip() == '"\ufeae\ufe98\ufef3\ufeee\ufe97"'
    assert render_text("“تويتر”", 10).strip() == "”\ufeae\ufe98\ufef3\ufeee\ufe97“"
    assert render_text("«تويتر»", 10).strip() == "«\ufeae\ufe98\ufef3\ufeee\ufe97»"
    assert render_text('the "تويتر" app', 20) == 'the "\ufeae\ufe98\ufef3\ufeee\ufe97" app'


def test_hashtag_in_rtl_follows_uba():
    # '#' is a neutral between R and L: it takes the RTL direction and sits right of "GES2014"
    line = layout("وسم #GES2014 اليوم", 30).line(0)
    assert "GES2014#" in line.text


def test_tatweel_and_lam_alef():
    text = "كـتـاب"
    line = layout(text, 10).line(0)
    assert [c.start for c in line.cells] == [5, 4, 3, 2, 1, 0]
    # isolated beh, final alef, tatweel, medial teh, tatweel, initial kaf
    assert [c.text for c in line.cells] == ["\ufe8f", "\ufe8e", "\u0640", "\ufe98", "\u0640", "\ufedb"]
    lam_alef = layout("لا", 5).line(0)
    assert [(c.text, c.start, c.end) for c in lam_alef.cells] == [("\ufefb", 0, 2)]  # one ligature cell
    # medial lam + hamza alef -> final ligature; its cell covers both code points
    amn = layout("الأمن", 10).line(0)
    assert [(c.text, c.start, c.end) for c in amn.cells] == [
        ("\ufee6", 4, 5), ("\ufee3", 3, 4), ("\ufef7", 1, 3), ("\ufe8d", 0, 1)]
    assert [c.text for c in layout("سلام", 10).line(0).cells][1] == "\ufefc"
    assert [(c.start, c.end) for c in layout("لَا", 5).line(0).cells] == [(0, 3)]  # marks stay inside
    assert render_text("لا", 5, shape=False).strip() == "\u0627\u0644"


def test_shaping_uses_paragraph_context_across_breaks():
    text = "سلام " + "ب" * 12
    lay = layout(text, 6)
    shaped = [c.text for r in range(len(lay)) for c in lay.line(r).cells]
    assert "\ufe91" in shaped and "\ufe92" in shaped and "\ufe90" in shaped  # initial, medial, final


def test_punctuation_at_line_end_rtl():
    lay = layout("كتب الرئيس. ثم غادر القاعة؟", 12)
    first = lay.line(0)
    assert first.cells[0].text == "."  # logical end of the RTL line is its left end
    last = lay.line(len(lay) - 1)
    assert last.cells[0].text == "؟"


def test_break_space_not_drawn_and_long_word_hard_split():
    lay = layout("abcd efgh", 5)
    assert [lay.line(r).text for r in range(len(lay))] == ["abcd", "efgh"]
    assert lay.line(0).end == 5 and lay.line(1).start == 5
    assert lay.row_of(4) == (0, 4)  # the break space: right after the LTR line
    lay = layout("x" * 25, 10)
    assert [len(lay.line(r).cells) for r in range(len(lay))] == [10, 10, 5]
    lay = layout("ب" * 12, 5)
    assert len(lay) == 3 and lay.line(2).indent == 3
    assert lay.line(0).cells[-1].start == 0


def test_several_spaces_at_break_are_all_hung():
    lay = layout("aaaa    bbbb", 6)
    assert [lay.line(r).text for r in range(len(lay))] == ["aaaa", "bbbb"]


def test_empty_paragraphs():
    lay = layout("أ\n\nب\n", 10)
    assert len(lay) == 4
    assert lay.line(1).cells == [] and lay.line(3).cells == []
    assert [lay.line(r).paragraph for r in range(4)] == [0, 1, 2, 3]
    assert lay.row_of(2)[0] == 1
    assert render_text("", 5) == ""
    assert len(layout("", 5)) == 1
    assert layout("\nب", 5).paragraph_directions == ["ltr", "rtl"]


def test_emoji_are_two_cells_wide():
    line = layout("👍 ok", 10).line(0)
    assert line.cells[0] == Cell("👍", 0, 1, 2)
    assert line.offset_at(1) == 0 and line.offset_at(2) == 1 and line.column_of(3) == 4
    lay = layout("👍👍", 3)
    assert len(lay) == 2
    assert layout("中文", 10).line(0).cells[1].width == 2


def test_tabs_expand_to_four_cells():
    line = layout("a\tb", 20).line(0)
    assert line.text == "a    b"
    assert line.cells[1] == Cell("    ", 1, 2, 4)
    assert [line.offset_at(c) for c in range(6)] == [0, 1, 1, 1, 1, 2]
    rtl = layout("أ\tب", 20).line(0)
    assert rtl.text.endswith("\ufe8f    \ufe83") and rtl.column_of(1) == 15


def test_control_chars_sanitized():
    text = "\x1b[31mخبر\x1b[0m\x07\x9b\x7f"
    assert len(sanitize(text)) == len(text)
    out = render_text(text, 40)
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out and "\x7f" not in out
    assert "␛" in out and "␇" in out and "␡" in out
    assert sanitize("a\tb\nc\r") == "a\tb\nc␍"


def test_bidi_controls_hidden_or_revealed():
    text = "abc \u202eXYZ\u202c def \u200f"
    hidden = layout(text, 40)
    assert sum(hidden.text.count(c) for c in BIDI_CONTROLS) == 3
    assert hidden.line(0).text == "abc ZYX def "
    shown = layout(text, 40, reveal_controls=True).line(0)
    assert shown.text == "abc ⇚ZYX⇞ def ←"
    assert all(c.width == 1 for c in shown.cells)
    assert BIDI_CONTROLS == frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
    # in an RTL paragraph the isolate's marks sit at level 1: LRI on the right, PDI on the left
    iso = layout("أ \u2066b c\u2069 ب", 20, reveal_controls=True).line(0)
    assert "⊥b c⊳" in iso.text
    assert "b c" in layout("أ \u2066b c\u2069 ب", 20).line(0).text


def test_row_of_and_offset_at():
    text = "مرحبا بالعالم\nhello world"
    lay = layout(text, 8)
    for offset, ch in enumerate(text):
        row, col = lay.row_of(offset)
        if ch not in " \n":
            assert lay.offset_at(row, col) == offset
    assert lay.offset_at(99, 0) is None
    assert lay.offset_at(0, 0) is None  # RTL line indent is blank
    assert lay.row_of(len(text)) == (len(lay) - 1, 5)


def test_line_is_lazy_on_a_long_article():
    para = "وقال المتحدث باسم الوزارة إن عام 2009 شهد (تحولا كبيرا) في السياسة. " * 8
    text = "\n".join([para] * 400)
    assert len(text) > 200_000
    lay = layout(text, 80)
    assert lay.line(0).start == 0
    assert lay.paragraphs_laid_out == 1
    lay.line(30)
    assert lay.paragraphs_laid_out < 10
    middle = len(text) // 2
    row, _ = lay.row_of(middle)
    assert lay.paragraphs_laid_out == text.count("\n", 0, middle) + 1
    assert len(lay) > 400 and lay.paragraphs_laid_out == 400
    assert lay.line(row).paragraph == text.count("\n", 0, middle)


def test_rule_l1_tab_and_whitespace_before_it_take_paragraph_level():
    # without L1 "abc \tdef" would stay one LTR run; with it the tab splits the RTL line
    assert render_text("abc \tdef", 20, direction="rtl") == " " * 9 + "def" + "    " + " " + "abc"
    assert render_text("abc \tdef", 20, direction="ltr") == "abc     def"


# --- paragraph direction rules (labels.toml paragraph_direction) ---------------------------------------

APPLE = "Apple تعلن عن هاتف"
FLAG = "🇲🇦 المغرب يفوز"
ARABIC, FIRST_STRONG = paragraph_rule("arabic"), paragraph_rule("first-strong")  # as the app passes them


@pytest.mark.parametrize("text", [APPLE, FLAG])
def test_arabic_rule_makes_a_paragraph_with_arabic_rtl_whatever_it_opens_with(text):
    rtl = layout(text, 40, direction=ARABIC)
    assert rtl.paragraph_directions == ["rtl"] and rtl.line(0).rtl
    second = text.index(" ") + 1  # the first word is drawn right of the second
    assert rtl.line(0).column_of(0) > rtl.line(0).column_of(second)
    assert rtl.line(0).indent + sum(c.width for c in rtl.line(0).cells) == 40
    for rule in (FIRST_STRONG, "auto"):  # UAX #9 P2-P3: "A" (or the regional indicator, class L) first
        ltr = layout(text, 40, direction=rule)
        assert ltr.paragraph_directions == ["ltr"] and not ltr.line(0).rtl and ltr.line(0).indent == 0
        assert ltr.line(0).column_of(0) == 0 < ltr.line(0).column_of(second)
    assert layout(text, 40, direction="ltr").paragraph_directions == ["ltr"]
    assert layout(text, 40, direction="rtl").paragraph_directions == ["rtl"]


def test_arabic_rule_leaves_paragraphs_without_arabic_to_the_first_strong_letter():
    lay = layout("Apple announces a phone\n" + APPLE + "\n2024 אבג\n\n123", 40, direction=ARABIC)
    assert lay.paragraph_directions == ["ltr", "rtl", "rtl", "ltr", "ltr"]
    assert [lay.line(r).rtl for r in range(len(lay))] == [False, True, True, False, False]
    assert render_text("Apple announces", 20, direction=ARABIC) == "Apple announces"


def test_direction_rules_are_checked():
    from tui.bidi.layout import DIRECTIONS

    assert DIRECTIONS == ("ltr", "rtl", "auto")  # the engine knows no workspace rule by name: it is passed in
    for bad in ("arabics", "arabic", "first-strong", None):
        with pytest.raises(ValueError, match="direction must be one of"):
            layout("abc", 10, direction=bad)
    with pytest.raises(ValueError, match="paragraph direction must be one of"):
        paragraph_rule("arabics")
    with pytest.raises(ValueError, match="must return 'rtl', 'ltr' or None"):
        layout("abc", 10, direction=lambda text: "up").line(0)
    assert paragraph_rule("arabic") == ARABIC and repr(ARABIC) == "paragraph_rule('arabic')"


def test_display_options_follow_the_arabic_rule_in_every_method():
    from tui.bidi import DisplayOptions

    arabic, first = DisplayOptions(direction=ARABIC), DisplayOptions(direction=FIRST_STRONG)
    assert arabic.layout(APPLE, 30).line(0).rtl and not first.layout(APPLE, 30).line(0).rtl
    assert arabic.is_rtl(APPLE) and arabic.is_rtl(FLAG) and not arabic.is_rtl("Apple phone")
    assert not first.is_rtl(APPLE) and not first.is_rtl(FLAG)
    assert arabic.snippet(APPLE, 40).endswith("Apple")  # visual order: "Apple" at the right
    assert first.snippet(APPLE, 40).startswith("Apple")
    assert arabic.cell(APPLE, 30).startswith(" ") and arabic.cell(APPLE, 30).endswith("Apple")
    assert first.cell(APPLE, 30).startswith("Apple")
    cut = arabic.snippet(APPLE * 3, 12)
    assert cut.startswith("…") and cell_len(cut) <= 12
    assert arabic.line(APPLE, ARABIC).endswith("Apple") and arabic.line(APPLE).startswith("Apple")
    assert DisplayOptions(direction=ARABIC, reorder=False).cell(APPLE, 30).startswith("Apple")


# Both sides use python-bidi's P2-P3 (the engine per paragraph, the exports over the whole article): isolates
# skipped, embeddings and marks as UAX #9 says, also where an isolate straddles the first 64 characters (the
# exports look there first).
ONE_PARAGRAPH = {
    "\u2067عربي\u2069 abc": "ltr", "\u2066abc\u2069 عربي": "rtl", "\u2068abc": "ltr", "\u2067\u2069x": "ltr",
    "\u2069عربي": "rtl", "1\u2068a\u2067b\u2069c\u2069ع": "rtl", "\u202bعربي\u202c abc": "rtl", "\u202eabc": "ltr",
    "\u200f abc": "rtl", "\u0661\u0662 abc": "ltr", "123": "ltr", "": "ltr", "(" * 70 + "ع": "rtl",
    "1 " * 40 + "\u2067" + " x" * 40 + "\u2069 ع": "rtl", "\u2066" + "ع " * 50 + "\u2069" + ". " * 20 + "b": "ltr",
    "\u2067" * 70 + "a": "ltr", "\u2067" * 70 + "a" + "\u2069" * 70 + "ع": "rtl",
}


@pytest.mark.parametrize("text", list(ONE_PARAGRAPH))
def test_exports_and_the_engine_find_the_same_first_strong_letter(text):
    from store.text.direction import PARAGRAPH_DIRECTIONS, first_strong, paragraph_direction
    from tui.bidi import base_direction

    assert first_strong(text) == base_direction(text, "auto") == ONE_PARAGRAPH[text]
    for name in PARAGRAPH_DIRECTIONS:
        assert paragraph_direction(text, name) == base_direction(text, paragraph_rule(name))
