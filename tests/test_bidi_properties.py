"""Hypothesis properties: exact offset coverage, column maps that round-trip, safe output."""
import os
import unicodedata

import regex
from bidi.mirror import MIRRORED
from bidi_reference import visual_order
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from store.text.direction import PARAGRAPH_DIRECTIONS, paragraph_direction, paragraph_rule
from tui.bidi import BIDI_CONTROLS, base_direction, layout, sanitize

ALPHABET = (
    list("abc XYZ 123 .,:;!?-+#%$()[]{}<>«»“”\"'")
    + list("ابتثجحخدذرزسشصضطظعغفقكلمنهويءأإآةى") + ["لا", "ـ", "٢٠٠٩", "؟", "،"]
    + ["\u064e", "\u064f", "\u0650", "\u0651", "\u0652", "\u064b", "\u0301"]  # harakat, acute
    + ["\n", "\t", "  ", "\u00a0", "\u2007", "\u3000"]
    + sorted(BIDI_CONTROLS) + ["\u200d", "\u200c", "\u200b", "\u00ad", "\ufeff"]
    + ["👍", "👍🏽", "❤\ufe0f", "中", "문", "\x1b", "\x07", "\x7f", "\x85", "\r", "\u2028", "\u2029"]
    + ["אב", "ש"]
)
# Extended grapheme clusters (UAX #29) that must stay one cell: ZWJ sequences, flags, skin tones, keycaps,
# VS16, a tag-sequence flag, a Hangul syllable from jamo, combining marks; and their broken pieces.
EMOJI = [
    "👨\u200d👩\u200d👧", "👩🏽\u200d💻", "🏳\ufe0f\u200d🌈", "🇲🇦", "🇪🇬", "🇲", "👍🏿", "✌\ufe0f", "1\ufe0f\u20e3",
    "#\ufe0f\u20e3", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "\u1100\u1161\u11a8",
    "e\u0301", "\u200d", "\ufe0f", "\U0001f3fd", "\U000e0067", "\u20e3",
]
texts = st.lists(st.sampled_from(ALPHABET + EMOJI), max_size=60).map("".join)
DIRECTIONS = ["auto", "ltr", "rtl", paragraph_rule("arabic"), paragraph_rule("first-strong")]
settings.register_profile("bidi", max_examples=int(os.environ.get("BIDI_EXAMPLES", "300")), deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = settings.get_profile("bidi")


def all_rows(lay):
    return [lay.line(r) for r in range(len(lay))]


def is_removed(ch: str) -> bool:
    return unicodedata.bidirectional(ch) in ("BN", "LRE", "RLE", "LRO", "RLO", "PDF")


@PROFILE
@given(texts, st.integers(1, 30), st.sampled_from(DIRECTIONS), st.booleans(), st.booleans())
def test_every_code_point_covered_once_or_explained(text, width, direction, shape, reveal):
    lay = layout(text, width, direction=direction, shape=shape, reveal_controls=reveal)
    rows = all_rows(lay)
    owner = {}
    for r, line in enumerate(rows):
        for cell in line.cells:
            assert cell.start < cell.end and cell.text
            if text[cell.start] == "\t":
                assert cell.text == " " * cell.width and cell.width == min(4, width)
            else:
                assert cell.width in (1, 2)
            for o in range(cell.start, cell.end):
                assert o not in owner, f"offset {o} drawn twice"
                owner[o] = r
            assert line.start <= cell.start and cell.end <= line.end
        used = sum(c.width for c in line.cells)
        assert used <= width or len(line.cells) == 1
        assert line.indent == (max(0, width - used) if line.rtl else 0)
        assert line.text == " " * line.indent + "".join(c.text for c in line.cells)
    for o, ch in enumerate(text):
        if o in owner:
            continue
        line = next(line for line in rows if line.start <= o < line.end or ch == "\n")
        explained = (ch == "\n" or is_removed(ch) or (ch in BIDI_CONTROLS and not reveal)
                     or all(c in " \t\u3000" or is_removed(c) or (c in BIDI_CONTROLS and not reveal)
                            for c in text[o:line.end]))
        assert explained, f"offset {o} ({ch!r}) is not drawn"
    # rows partition the text: consecutive, the "\n" between paragraphs belongs to none
    assert rows[0].start == 0 and rows[-1].end == len(text)
    for a, b in zip(rows, rows[1:]):
        assert b.start == a.end + (1 if b.paragraph != a.paragraph else 0)
    assert len(rows) >= text.count("\n") + 1
    directions = lay.paragraph_directions
    assert len(directions) == text.count("\n") + 1
    if direction not in ("ltr", "rtl"):
        assert all(directions[line.paragraph] == ("rtl" if line.rtl else "ltr") for line in rows)


@PROFILE
@given(texts, st.integers(1, 30), st.sampled_from(DIRECTIONS), st.booleans())
def test_row_of_and_offset_at_round_trip(text, width, direction, reveal):
    lay = layout(text, width, direction=direction, reveal_controls=reveal)
    for r, line in enumerate(all_rows(lay)):
        col = line.indent
        for cell in line.cells:
            for c in range(col, col + cell.width):
                assert lay.offset_at(r, c) == cell.start
            for o in range(cell.start, cell.end):
                assert lay.row_of(o) == (r, col)
                assert line.column_of(o) == col
            col += cell.width
        assert lay.offset_at(r, col) is None and lay.offset_at(r, line.indent - 1) is None
    for o in range(len(text) + 1):
        r, c = lay.row_of(o)
        assert 0 <= r < len(lay) and 0 <= c <= width


@PROFILE
@given(texts, st.sampled_from(DIRECTIONS), st.booleans())
def test_single_line_agrees_with_visual_order(text, direction, shape):
    text = sanitize(text.replace("\n", " ").replace("\u2029", " "))
    lay = layout(text, 1000, direction=direction, shape=shape)
    assert len(lay) == 1
    starts = [c.start for c in lay.line(0).cells]
    shown = set(starts)
    assert starts == [i for i in visual_order(text, direction) if i in shown]


def cluster_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in regex.finditer(r"\X", text)]


@PROFILE
@given(texts, st.integers(1, 30), st.sampled_from(DIRECTIONS), st.booleans(), st.booleans())
def test_cells_are_whole_grapheme_clusters_measured_as_rich_does(text, width, direction, shape, reveal):
    """A cell starts a grapheme cluster (UAX #29) unless the cluster was cut after an undrawn character or at
    a level change; its code points are drawn in logical order; widths are rich's cell_len, so a row
    measures what Textual's compositor measures."""
    lay = layout(text, width, direction=direction, shape=shape, reveal_controls=reveal)
    t = lay.text
    starts = {s for s, _ in cluster_spans(t)}
    for line in all_rows(lay):
        assert cell_len(line.text) == line.width
        for cell in line.cells:
            logical = t[cell.start:cell.end]
            if len(logical) == 1 and logical in (
                "\t\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u205f\u3000"):
                assert cell.text == " " * cell.width  # a break space (or TAB) is drawn as plain spaces
                continue
            assert cell.width == cell_len(cell.text) >= 1
            if cell.start not in starts:
                prev = t[cell.start - 1]
                assert (is_removed(prev) or prev in BIDI_CONTROLS
                        or unicodedata.bidirectional(prev) != unicodedata.bidirectional(t[cell.start]))
            if shape or logical[0] in MIRRORED or logical[0] in BIDI_CONTROLS or cell_len(logical) == 0:
                continue  # shaped, mirrored, revealed or stand-in for a zero-width cluster
            emoji = regex.search(r"\p{Extended_Pictographic}", logical) is not None
            assert cell.text == "".join(c for c in logical if emoji or not is_removed(c))


@PROFILE
@given(texts, st.integers(1, 30), st.booleans())
def test_no_control_character_reaches_the_screen(text, width, reveal):
    for line in all_rows(layout(text, width, reveal_controls=reveal)):
        for ch in line.text:
            assert unicodedata.category(ch) != "Cc"
            assert ch not in BIDI_CONTROLS
        for cell in line.cells:  # ZWJ and tag characters are drawn only inside an emoji's picture
            emoji = regex.search(r"\p{Extended_Pictographic}", cell.text) is not None
            assert emoji or not any(is_removed(ch) for ch in cell.text)
            assert not cell.text.endswith(("\u200d", "\u200c"))


@PROFILE
@given(texts, st.sampled_from(PARAGRAPH_DIRECTIONS))
def test_exports_and_the_engine_give_a_paragraph_one_direction(text, name):
    """The direction an export writes for a one-paragraph text is the one the reader draws it in."""
    paragraph = regex.sub(r"\p{Bidi_Class=B}", " ", text)
    assert paragraph_direction(paragraph, name) == base_direction(paragraph, paragraph_rule(name))
