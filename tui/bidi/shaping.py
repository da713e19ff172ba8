"""Arabic shaping (presentation forms) in logical order, one output per input code point.

arabic-reshaper with delete_harakat=False, support_ligatures=False maps code points 1:1 except that
it drops ZWJ; we re-insert ZWJ positions so shaped[i] is always the form of text[i]. Lam-alef is
joined afterwards by `lam_alef` into one cell that covers both code points.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

from arabic_reshaper import ArabicReshaper

ZWJ = "\u200d"
_RESHAPER = ArabicReshaper(configuration={"delete_harakat": False, "support_ligatures": False})


def _has_arabic(text: str) -> bool:
    return any("\u0600" <= c <= "\u06ff" or "\u0750" <= c <= "\u077f" or "\u08a0" <= c <= "\u08ff"
               for c in text)


def shape(text: str) -> list[str]:
    """Per code point of `text`, the character to draw (its contextual form); ZWJ maps to itself."""
    if not _has_arabic(text):
        return list(text)
    out = _RESHAPER.reshape(text)
    if len(out) + text.count(ZWJ) != len(text):
        return list(text)  # unexpected reshaper behaviour: draw unshaped rather than misalign
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
    return shaped


@lru_cache(maxsize=1024)
def _form_of(form: str) -> str:
    """NFKC: the letter a presentation form stands for, e.g. U+FE91 -> U+0628."""
    return unicodedata.normalize("NFKC", form)


# Lam-alef ligatures by alef: (isolated, final). Used when lam is initial (isolated ligature) or medial (final).
_LAM_ALEF = {"\u0627": ("\ufefb", "\ufefc"), "\u0623": ("\ufef7", "\ufef8"),
             "\u0625": ("\ufef9", "\ufefa"), "\u0622": ("\ufef5", "\ufef6")}
_LAM_INITIAL, _LAM_MEDIAL = "\ufedf", "\ufee0"


def lam_alef(shaped_lam: str, alef: str) -> str | None:
    """The ligature for a shaped lam followed by `alef`, or None if they do not form one."""
    forms = _LAM_ALEF.get(alef)
    if forms is None or shaped_lam not in (_LAM_INITIAL, _LAM_MEDIAL):
        return None
    return forms[0] if shaped_lam == _LAM_INITIAL else forms[1]
