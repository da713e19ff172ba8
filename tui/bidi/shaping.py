"""Arabic shaping (presentation forms) in logical order, one output per input code point.

arabic-reshaper with delete_harakat=False, support_ligatures=False maps code points 1:1 except that
it drops ZWJ; we re-insert ZWJ positions so shaped[i] is always the form of text[i]. A word without ZWJ is
shaped by `_joined`, which applies the reshaper's joining rules to its letter table: the same forms, found
faster. Lam-alef is joined afterwards by `lam_alef` into one cell that covers both code points.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from arabic_reshaper import ArabicReshaper
from arabic_reshaper.arabic_reshaper import HARAKAT_RE
from arabic_reshaper.letters import FINAL, INITIAL, ISOLATED, MEDIAL

ZWJ = "\u200d"
_RESHAPER = ArabicReshaper(configuration={"delete_harakat": False, "support_ligatures": False})
_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")
_WORDS: dict[str, tuple[str, ...] | None] = {}
"""Shaped forms of each word (text between ASCII spaces) met so far; None where the reshaper misaligned."""
_WORDS_MAX = 20_000


def _has_arabic(text: str) -> bool:
    return _ARABIC.search(text) is not None


def shape(text: str) -> list[str]:
    """Per code point of `text`, the character to draw (its contextual form); ZWJ maps to itself.

    The reshaper joins nothing across a space (not one of its letters; harakat after it stay after it), so
    reshaping a paragraph is reshaping each space-separated word: words are shaped once and remembered, the
    ones not met yet without ZWJ by `_joined`, the others in one call. Where a word's output misaligns, the
    whole paragraph takes the original path (`_shape_whole`), so the result is always exactly that of reshaping
    the paragraph at once."""
    if not _has_arabic(text):
        return list(text)
    words = text.split(" ")
    known = _WORDS
    missing = [w for w in dict.fromkeys(words) if w not in known]
    if missing:
        if len(known) + len(missing) > _WORDS_MAX:
            known.clear()
        slow = []  # the words only the reshaper shapes
        for word in missing:
            if _JOINED and ZWJ not in word:
                known[word] = _joined(word)
            else:
                slow.append(word)
        if slow:
            outs = _RESHAPER.reshape(" ".join(slow)).split(" ")
            if len(outs) != len(slow):
                return _shape_whole(text)
            for word, out in zip(slow, outs):
                known[word] = _align(word, out)
    shaped: list[str] = []
    extend = shaped.extend
    for word in words:
        forms = known.get(word)
        if forms is None:
            return _shape_whole(text)
        extend(forms)
        shaped.append(" ")
    shaped.pop()
    return shaped


def _shape_whole(text: str) -> list[str]:
    """`shape` of `text` reshaped in one piece."""
    forms = _align(text, _RESHAPER.reshape(text))
    return list(text) if forms is None else list(forms)  # unexpected reshaper behaviour: draw unshaped


def _align(text: str, out: str) -> tuple[str, ...] | None:
    """Per code point of `text`, its form in the reshaper's output `out`; None if `out` is not one code point
    per code point of `text` but ZWJ (which the reshaper drops)."""
    if len(out) + text.count(ZWJ) != len(text):
        return None
    shaped = []
    j = 0
    for ch in text:
        if ch == ZWJ:
            shaped.append(ch)
        else:
            form = out[j]
            # The reshaper moves harakat that follow a ZWJ after the next letter: a form that is not
            # ch's own (ch itself or a presentation form of it) is out of place, so ch is drawn unshaped.
            shaped.append(form if form == ch or _form_of(form) == _form_of(ch) else ch)
            j += 1
    return tuple(shaped)


@lru_cache(maxsize=1024)
def _form_of(form: str) -> str:
    """NFKC: the letter a presentation form stands for, e.g. U+FE91 -> U+0628."""
    return unicodedata.normalize("NFKC", form)


_JOINED = all(_RESHAPER.configuration.getboolean(name) is False for name in (
    "delete_harakat", "delete_tatweel", "shift_harakat_position", "use_unshaped_instead_of_isolated",
    "support_ligatures"))
"""Whether the reshaper has the settings `_joined` follows (the environment may give it others)."""
_FORMS = {letter: tuple(f if not f or f == letter or _form_of(f) == _form_of(letter) else letter for f in forms)
          for letter, forms in _RESHAPER.letters.items()}
"""The reshaper's (isolated, initial, medial, final) forms of each of its letters as `_align` keeps them ("" where
the letter has no such form)."""


def _joined(word: str) -> tuple[str, ...] | None:
    """`_align(word, _RESHAPER.reshape(word))` for a `word` without ZWJ, found without the reshaper (three times
    faster): its rules with its letters. Harakat stay in place and are skipped: a letter joins the letter before it
    if nothing else comes between them, it has a final or medial form, and the one before has an initial or medial
    form, and a medial one if it joins the letter before it too. Then the letter before takes its initial form
    (medial if it joins on both sides), this one its final form. None if a letter has no form to take."""
    marks = {m.start() for m in HARAKAT_RE.finditer(word)} if HARAKAT_RE.search(word) else ()
    shaped = list(word)
    last, last_form = -1, ISOLATED  # the letter before (-1 if another character came after it), its form
    for i, ch in enumerate(word):
        if i in marks:
            continue
        forms = _FORMS.get(ch)
        form = ISOLATED
        if last >= 0:
            before = _FORMS[word[last]]
            if forms is not None and (forms[FINAL] or forms[MEDIAL]) and (before[INITIAL] or before[MEDIAL]) \
                    and (last_form != FINAL or before[MEDIAL]):
                last_form = INITIAL if last_form == ISOLATED else MEDIAL
                form = FINAL
            shaped[last] = before[last_form]
            if not shaped[last]:
                return None
        last, last_form = (-1, ISOLATED) if forms is None else (i, form)
    if last >= 0:
        shaped[last] = _FORMS[word[last]][last_form]
        if not shaped[last]:
            return None
    return tuple(shaped)


# Lam-alef ligatures by alef: (isolated, final). Used when lam is initial (isolated ligature) or medial (final).
_LAM_ALEF = {"\u0627": ("\ufefb", "\ufefc"), "\u0623": ("\ufef7", "\ufef8"),
             "\u0625": ("\ufef9", "\ufefa"), "\u0622": ("\ufef5", "\ufef6")}
_LAM_INITIAL, _LAM_MEDIAL = "\ufedf", "\ufee0"
ALEFS = "".join(_LAM_ALEF)
"""The alefs that join a lam before them (`lam_alef`)."""
LAM_LIKE = "\u0644\ufedd\ufede\ufedf\ufee0\U0001ee0b\U0001ee2b\U0001ee4b\U0001ee8b\U0001eeab"
"""Every code point that is a lam under NFKC: `shape` draws no other as an initial or medial lam."""


def lam_alef(shaped_lam: str, alef: str) -> str | None:
    """The ligature for a shaped lam followed by `alef`, or None if they do not form one."""
    forms = _LAM_ALEF.get(alef)
    if forms is None or shaped_lam not in (_LAM_INITIAL, _LAM_MEDIAL):
        return None
    return forms[0] if shaped_lam == _LAM_INITIAL else forms[1]
