"""Extended grapheme clusters (UAX #29) are the layout's units: one cell each, whole, in logical order."""
import pytest
import regex
from bidi_reference import render_text
from rich.cells import cell_len

from store.text.direction import paragraph_rule
from tui.bidi import layout

FAMILY = "👨\u200d👩\u200d👧"  # man ZWJ woman ZWJ girl
MOROCCO = "🇲🇦"  # regional indicators M + A
ROW = f"عائلة {FAMILY} في {MOROCCO} المغرب"
SCOTLAND = "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"  # tag sequence
KINDS = {
    "zwj-family": FAMILY,
    "flag": MOROCCO,
    "skin-tone": "👍🏽",
    "skin-tone-zwj": "👩🏽\u200d💻",
    "vs16": "❤\ufe0f",
    "vs16-zwj": "🏳\ufe0f\u200d🌈",
    "keycap-digit": "1\ufe0f\u20e3",
    "keycap-hash": "#\ufe0f\u20e3",
    "subdivision-flag": SCOTLAND,
    "hangul-jamo": "\u1100\u1161\u11a8",
    "combining-accent": "e\u0301",
}


def clusters(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in regex.finditer(r"\X", text)]


def cells_over(line, start: int, end: int):
    return [c for c in line.cells if c.start < end and c.end > start]


def test_emoji_in_an_rtl_row_are_one_whole_cell_each():
    lay = layout(ROW, 40)
    line = lay.line(0)
    assert len(lay) == 1 and line.rtl
    for emoji in (FAMILY, MOROCCO):
        start = ROW.index(emoji)
        [cell] = cells_over(line, start, start + len(emoji))
        assert (cell.start, cell.end) == (start, start + len(emoji))
        assert cell.text == emoji  # logical order, never reversed inside the RTL run
        assert cell.width == cell_len(emoji) == 2
    # RTL: the family (earlier in the text) is right of the flag
    assert line.column_of(ROW.index(FAMILY)) > line.column_of(ROW.index(MOROCCO))
    assert cell_len(line.text) == line.width == 40  # what Textual's compositor will measure
    assert line.text.endswith(f" {FAMILY} \ufe94\ufee0\ufe8b\ufe8e\ufecb")  # ... عائلة


@pytest.mark.parametrize("width", [1, 3, 7, 12, 40])
def test_column_of_and_offset_at_never_land_inside_a_cluster(width):
    lay = layout(ROW, width)
    spans = clusters(ROW)
    starts = {s for s, _ in spans}
    for s, e in spans:
        if ROW[s] == " ":
            continue  # a break space may be hung at a line end
        where = {lay.row_of(o) for o in range(s, e)}
        assert len(where) == 1, f"cluster {ROW[s:e]!r} drawn in pieces"
        row, col = where.pop()
        assert lay.offset_at(row, col) == s
        line = lay.line(row)
        [cell] = cells_over(line, s, e)
        assert all(lay.offset_at(row, c) == s for c in range(col, col + cell.width))
    for r in range(len(lay)):
        for c in range(width + 1):
            hit = lay.offset_at(r, c)
            assert hit is None or hit in starts


@pytest.mark.parametrize("direction", ["auto", "rtl", "ltr", paragraph_rule("arabic")])
@pytest.mark.parametrize("cluster", list(KINDS.values()), ids=list(KINDS))
def test_each_kind_of_cluster_is_one_cell(cluster, direction):
    text = f"قال {cluster} أمس"
    line = layout(text, 40, direction=direction).line(0)
    start = text.index(cluster)
    [cell] = cells_over(line, start, start + len(cluster))
    assert (cell.start, cell.end, cell.text) == (start, start + len(cluster), cluster)
    assert cell.width == cell_len(cluster) >= 1
    assert cell_len(line.text) == line.width


def test_regional_indicators_pair_up():
    cells = layout("🇲🇦🇪🇬🇲", 20).line(0).cells
    assert [(c.text, c.start, c.end, c.width) for c in cells] == [
        ("🇲🇦", 0, 2, 2), ("🇪🇬", 2, 4, 2), ("🇲", 4, 5, 1)]


def test_wrapping_never_splits_a_cluster():
    lay = layout(" ".join([FAMILY, SCOTLAND, "1\ufe0f\u20e3"] * 4), 3)
    for r in range(len(lay)):
        for cell in lay.line(r).cells:
            assert cell.text in (FAMILY, SCOTLAND, "1\ufe0f\u20e3")


def test_harakat_ligature_and_controls_keep_their_rules():
    assert [(c.start, c.end) for c in layout("عَلَى", 10).line(0).cells] == [(4, 5), (2, 4), (0, 2)]
    assert [(c.text, c.start, c.end) for c in layout("لا", 5).line(0).cells] == [("\ufefb", 0, 2)]
    shown = layout(f"\u202e{FAMILY}\u202c", 10, reveal_controls=True).line(0)
    assert sorted(c.text for c in shown.cells) == sorted(["⇚", FAMILY, "⇞"]) and shown.cells[1].text == FAMILY
    assert layout(f"\u202e{FAMILY}\u202c", 10).line(0).text == FAMILY
    assert layout(f"a\t{MOROCCO}", 10).line(0).text == f"a    {MOROCCO}"


def test_zwj_outside_an_emoji_is_not_drawn_and_joins_no_cells():
    # Between Arabic letters the ZWJ ends the first cluster: a hidden unit, as before; shaping still joins.
    line = layout("ب\u200dب", 10).line(0)
    assert [(c.text, c.start, c.end) for c in line.cells] == [("\ufe90", 2, 3), ("\ufe91", 0, 1)]
    # A letter, ZWJ and an emoji: the letter, then the emoji; the dangling ZWJ is not drawn.
    line = layout("ب\u200d👍", 10).line(0)
    assert [(c.text, c.start, c.end) for c in line.cells] == [("👍", 2, 3), ("\ufe91", 0, 1)]
    assert "\u200d" not in render_text(f"{FAMILY[0]}\u200d قال", 20)


def test_a_cluster_across_embedding_levels_is_cut_where_the_level_changes():
    # U+0600 (Prepend, class AN) + "a" (L) is one grapheme cluster but two levels in an LTR paragraph.
    line = layout("\u0600a", 10, direction="ltr").line(0)
    assert [(c.start, c.end) for c in line.cells] == [(0, 1), (1, 2)]
    # Same level: U+0600 with the Arabic digit after it is one cell.
    line = layout("x \u0600\u0661\u0662", 10, direction="ltr").line(0)
    assert [(c.start, c.end) for c in line.cells][2:] == [(2, 4), (4, 5)]
