"""Offset units and text direction: code points (ours, Python, Label Studio since 1.4) <-> UTF-16 code units
(JavaScript string positions: doccano's span editor, Label Studio before 1.4), where each character
outside the BMP (an emoji) counts 2. See FORMATS.md for the evidence behind each format's unit."""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from store.text.direction import FIRST_STRONG, paragraph_direction

CODEPOINT = "codepoint"
UTF16 = "utf-16-code-unit"
UNITS = (CODEPOINT, UTF16)
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


def direction(text: str, rule: str = FIRST_STRONG) -> str:
    """'rtl' or 'ltr' for an exported text under a paragraph direction rule (see store.text.direction): by
    default from the first strong character (Unicode bidi rules P2-P3; isolates skipped)."""
    return paragraph_direction(text, rule)


@dataclass(frozen=True)
class Notice:
    """Something a labelled import did that the user should know, though nothing was skipped (e.g. offsets
    read as UTF-16 code units because the file's span texts prove it)."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class Utf16:
    """Converts offsets in one text between code points and UTF-16 code units (O(log n) per offset)."""

    __slots__ = ("_astral", "_astral16")

    def __init__(self, text: str) -> None:
        self._astral = [m.start() for m in _ASTRAL.finditer(text)]
        # Where each astral character starts in UTF-16 units: its code point index + astral ones before it.
        self._astral16 = [cp + i for i, cp in enumerate(self._astral)]

    @property
    def differs(self) -> bool:
        """True when the two units disagree somewhere in this text (it holds a character outside the BMP)."""
        return bool(self._astral)

    def to_unit(self, cp: int, unit: str) -> int:
        """Code point offset `cp` counted in `unit`."""
        return self.to_utf16(cp) if unit == UTF16 else cp

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
