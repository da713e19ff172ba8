"""Arabic shaping (presentation forms) in logical order, one output per input code point.

arabic-reshaper with delete_harakat=False, support_ligatures=False maps code points 1:1 except that
it drops ZWJ; we re-insert ZWJ positions so shaped[i] is always the form of text[i]. Lam-alef stays
two cells (lam form + alef final form).
"""
from __future__ import annotations

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
            shaped.append(out[j])
            j += 1
    return shaped
