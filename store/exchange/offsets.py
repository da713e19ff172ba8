"""Offset units and text direction: code points (ours, Python) <-> UTF-16 code units (JavaScript tools).

Label Studio counts JavaScript string positions, so each character outside the BMP (an emoji) counts 2.
"""

from __future__ import annotations

import re
from bisect import bisect_left

from ..direction import FIRST_STRONG, paragraph_direction

CODEPOINT = "codepoint"
UTF16 = "utf-16-code-unit"
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


def direction(text: str, rule: str = FIRST_STRONG) -> str:
    """'rtl' or 'ltr' for an exported text under a paragraph direction rule (see store.direction): by
    default from the first strong character (Unicode bidi rules P2-P3; isolates skipped)."""
    return paragraph_direction(text, rule)


class Utf16:
    """Converts offsets in one text between code points and UTF-16 code units (O(log n) per offset)."""

    __slots__ = ("_astral", "_astral16")

    def __init__(self, text: str) -> None:
        self._astral = [m.start() for m in _ASTRAL.finditer(text)]
        # Where each astral character starts in UTF-16 units: its code point index + astral ones before it.
        self._astral16 = [cp + i for i, cp in enumerate(self._astral)]

    def to_utf16(self, cp: int) -> int:
        return cp + bisect_left(self._astral, cp) if self._astral else cp

    def to_codepoint(self, u16: int) -> int:
        """The code point offset at UTF-16 offset `u16`; ValueError if it falls inside a surrogate pair."""
        if not self._astral16:
            return u16
        before = bisect_left(self._astral16, u16)
        if before and self._astral16[before - 1] + 1 == u16:
            raise ValueError(f"UTF-16 offset {u16} falls inside a surrogate pair (the middle of an emoji)")
        return u16 - before
