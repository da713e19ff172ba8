"""The layout engine's shortcuts give exactly what the long ways give: levels resolved with letter runs cut,
words joined without the reshaper, grapheme clusters split only around code points that are not Other, cells
made without the dataclass __init__."""
import dataclasses

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.bidi.levels import LETTER_RUNS, _resolve_dump, resolve
from tui.bidi.lines import Cell, make_cells
from tui.bidi.paragraph import cluster_ends, multi_clusters
from tui.bidi.shaping import _RESHAPER, HARAKAT_RE, ZWJ, _align, _joined

BIDI_PIECES = (list("بتجحدرسصطعفقكلمنهويءأإآةىـپچکگیۀ") + list("abcXYZ") + [" ", " ", " ", "  ", "\t"]
               + list("0123456789٠١٢۱۲") + list(".,:;+-/%#$()[]{}<>«»\"'!?،؛")
               + ["\u064e", "\u0651", "\u0301", "\u05d0", "\u05d1", "\u2029", "\u200d", "\u00ad", "\u00a0"]
               + ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
                  "\u200e", "\u200f", "\u061c"])
bidi_texts = st.lists(st.sampled_from(BIDI_PIECES) | st.text("abcXYZ", min_size=1, max_size=4)
                      | st.text("بتجلماپ", min_size=1, max_size=4), min_size=1, max_size=30).map("".join)


@settings(max_examples=600, deadline=None)
@given(bidi_texts, st.sampled_from(["auto", "ltr", "rtl"]))
def test_levels_with_letter_runs_cut_are_the_levels_of_the_whole_text(text, direction):
    assert resolve(text, direction) == _resolve_dump(text, None if direction == "auto" else direction)


def test_a_letter_run_spans_letters_and_single_spaces():
    text = "كتب الولد  الدرس abc de 12 ف"
    assert [text[a:b] for a, b in (m.span() for m in LETTER_RUNS.finditer(text))] == ["كتب الولد", "الدرس",
                                                                                        "abc de"]
    for case in (text, "a1b", "ب1ت ٢", "x a1b", "ab (cd) ef", "ab\u202bcd ef\u202c gh", "ب\u2067ab cd\u2069 ت",
                 "ab-cd", "ab cd\u2029ef gh", "ab. cd.", "بت، جح"):
        for direction in ("auto", "ltr", "rtl"):
            assert resolve(case, direction) == _resolve_dump(case, None if direction == "auto" else direction)


LETTERS = sorted(set(_RESHAPER.letters) - {ZWJ})
HARAKAT = [chr(c) for c in range(0x600, 0x900) if HARAKAT_RE.match(chr(c))]
words = st.lists(st.sampled_from(LETTERS + HARAKAT + list("a1.(\u00a0\u200c\u0600\ufedf")), max_size=14).map("".join)


@settings(max_examples=600, deadline=None)
@given(words)
def test_joined_words_are_the_reshapers(word):
    assert _joined(word) == _align(word, _RESHAPER.reshape(word))


@pytest.mark.parametrize("between", ["", "\u064e", "\u0651\u064e", "a"])
def test_every_pair_of_letters_joins_as_the_reshaper_joins_it(between):
    for first in LETTERS:
        for second in LETTERS:
            word = first + between + second + first
            assert _joined(word) == _align(word, _RESHAPER.reshape(word)), word


# A code point of each Grapheme_Cluster_Break value, Extended_Pictographic ones and an Indic conjunct's parts.
GRAPHEME_PIECES = ["\r", "\n", "\x01", "\u0301", "\u064e", "\u200d", "\U0001f1f8", "\U0001f1e6", "\u0600", "\u0903",
                   "\u1100", "\u1161", "\u11a8", "\uac00", "\uac01", "\U0001f44d", "\u26f9", "\U0001f3fd", "\ufe0f",
                   "\u0915", "\u094d", "\u0937", "a", "ب", " "]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(GRAPHEME_PIECES), max_size=16).map("".join))
def test_multi_clusters_are_the_clusters_of_more_than_one_code_point(text):
    spans = [m.span() for m in regex.finditer(r"\X", text) if m.end() - m.start() > 1]
    assert multi_clusters(text) == spans
    ends = [m.end() for m in regex.finditer(r"\X", text) for _ in range(m.start(), m.end())]
    assert cluster_ends(text, spans) == ends


def test_made_cells_are_the_cells_cell_makes():
    cells = make_cells(["a", "\ufe91", "  "], [0, 5, 7], [1, 7, 8], [1, 1, 2])
    assert cells == [Cell("a", 0, 1, 1), Cell("\ufe91", 5, 7, 1), Cell("  ", 7, 8, 2)]
    assert hash(cells[1]) == hash(Cell("\ufe91", 5, 7, 1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        cells[0].text = "b"
