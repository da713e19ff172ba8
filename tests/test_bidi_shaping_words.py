"""Shaping word by word (remembered words) is shaping the paragraph at once, cell for cell; lam-alef joining."""
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.bidi import layout, shaping
from tui.bidi.shaping import _RESHAPER, LAM_LIKE, _align, _shape_whole, shape

PIECES = (list("بتجحدرسصطعفقكلمنهويءأإآةىـ") + ["لا", " ", " ", "  ", "a", "1", "(", "\u00a0", "\t"]
          + ["\u064e", "\u0650", "\u0651", "\u0652", "\u0670", "\u200d", "\u200c", "\u06cc", "\u06a9"])
texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts, texts)
def test_shape_by_words_is_shape_at_once(before, text):
    shape(before)  # words of another paragraph are remembered first
    assert shape(text) == _shape_whole(text)


def test_a_word_the_reshaper_misaligns_shapes_the_paragraph_at_once():
    word = "ب\u200d\u064e"  # a haraka after a trailing ZWJ: reshaping this word alone drops it
    assert _align(word, _RESHAPER.reshape(word)) is None
    text = f"سلام {word} عليكم"
    shaping._WORDS.clear()
    assert shape(text) == _shape_whole(text)
    assert shape(text) == _shape_whole(text)  # again, with the word remembered as misaligned


def test_remembered_words_are_bounded(monkeypatch):
    monkeypatch.setattr(shaping, "_WORDS_MAX", 50)
    shaping._WORDS.clear()
    for k in range(40):
        shape(" ".join(f"ب{'ت' * k}{'ج' * m}" for m in range(5)))
        assert len(shaping._WORDS) <= 50


def test_lam_like_is_every_lam_under_nfkc():
    lams = {chr(c) for c in range(0x110000) if unicodedata.normalize("NFKC", chr(c)) == "\u0644"}
    assert set(LAM_LIKE) == lams


@pytest.mark.parametrize("shape_arabic", [True, False])
def test_a_lam_drawn_as_a_presentation_form_joins_its_alef(shape_arabic):
    cells = layout("\ufedf\u0627 \ufee0\u0623", 20, shape=shape_arabic).line(0).cells
    assert [(c.text, c.start, c.end) for c in cells] == [("\ufef8", 3, 5), (" ", 2, 3), ("\ufefb", 0, 2)]
