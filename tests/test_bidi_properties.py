"""Hypothesis properties: exact offset coverage, column maps that round-trip, safe output."""
import os
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.bidi import BIDI_CONTROLS, layout, sanitize, visual_order

ALPHABET = (
    list("abc XYZ 123 .,:;!?-+#%$()[]{}<>«»“”\"'")
    + list("ابتثجحخدذرزسشصضطظعغفقكلمنهويءأإآةى") + ["لا", "ـ", "٢٠٠٩", "؟", "،"]
    + ["\u064e", "\u064f", "\u0650", "\u0651", "\u0652", "\u064b", "\u0301"]  # harakat, acute
    + ["\n", "\t", "  ", "\u00a0", "\u2007", "\u3000"]
    + sorted(BIDI_CONTROLS) + ["\u200d", "\u200c", "\u200b", "\u00ad", "\ufeff"]
    + ["👍", "👍🏽", "❤\ufe0f", "中", "문", "\x1b", "\x07", "\x7f", "\x85", "\r", "\u2028", "\u2029"]
    + ["אב", "ש"]
)
texts = st.lists(st.sampled_from(ALPHABET), max_size=60).map("".join)
settings.register_profile("bidi", max_examples=int(os.environ.get("BIDI_EXAMPLES", "300")), deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = settings.get_profile("bidi")


def all_rows(lay):
    return [lay.line(r) for r in range(len(lay))]


def is_removed(ch: str) -> bool:
    return unicodedata.bidirectional(ch) in ("BN", "LRE", "RLE", "LRO", "RLO", "PDF")


@PROFILE
@given(texts, st.integers(1, 30), st.sampled_from(["auto", "ltr", "rtl"]), st.booleans(), st.booleans())
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
    if direction == "auto":
        assert all(directions[line.paragraph] == ("rtl" if line.rtl else "ltr") for line in rows)


@PROFILE
@given(texts, st.integers(1, 30), st.sampled_from(["auto", "ltr", "rtl"]), st.booleans())
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
@given(texts, st.sampled_from(["auto", "ltr", "rtl"]), st.booleans())
def test_single_line_agrees_with_visual_order(text, direction, shape):
    text = sanitize(text.replace("\n", " ").replace("\u2029", " "))
    lay = layout(text, 1000, direction=direction, shape=shape)
    assert len(lay) == 1
    starts = [c.start for c in lay.line(0).cells]
    shown = set(starts)
    assert starts == [i for i in visual_order(text, direction) if i in shown]


@PROFILE
@given(texts, st.integers(1, 30), st.booleans())
def test_no_control_character_reaches_the_screen(text, width, reveal):
    for line in all_rows(layout(text, width, reveal_controls=reveal)):
        for ch in line.text:
            assert unicodedata.category(ch) != "Cc"
            assert ch not in BIDI_CONTROLS and not is_removed(ch)
