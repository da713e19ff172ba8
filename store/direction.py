"""Paragraph direction rules, shared by the bidi engine (tui.bidi) and the exports: one place decides
whether a paragraph (or an exported article) reads right to left. Pure: no textual, no tui.

Rules (the workspace's `paragraph_direction` in labels.toml):

- "arabic": a text holding any right-to-left character (bidi class AL or R: Arabic, Hebrew...) is
  right to left; otherwise the first strong character decides (as "first-strong"). The default: an
  Arabic news paragraph that opens with "Apple" or a flag emoji still reads right to left.
- "first-strong": Unicode bidi rules P2-P3: the first character of class L, R or AL outside isolates.
- "rtl" / "ltr": always that direction.
"""

from __future__ import annotations

import re
import unicodedata

ARABIC = "arabic"
FIRST_STRONG = "first-strong"
PARAGRAPH_DIRECTIONS = (ARABIC, FIRST_STRONG, "rtl", "ltr")
"""The values of `paragraph_direction` in labels.toml."""
DEFAULT_PARAGRAPH_DIRECTION = ARABIC

# Every code point of bidi class R or AL lies in these ranges (checked against unicodedata); a match is
# confirmed with unicodedata.bidirectional, so unassigned or neutral code points in them do not count.
_RTL_RANGES = re.compile("[\u0590-\u08ff\u200f\ufb1d-\ufdff\ufe70-\ufefe"
                         "\U00010800-\U00010fff\U0001e800-\U0001efff]")
_ISOLATE_OPEN = {"\u2066", "\u2067", "\u2068"}
_ISOLATE_CLOSE = "\u2069"


def has_rtl_letter(text: str) -> bool:
    """Whether `text` holds a character of bidi class AL or R (anywhere, isolates included)."""
    return any(unicodedata.bidirectional(m.group()) in ("R", "AL") for m in _RTL_RANGES.finditer(text))


def first_strong(text: str) -> str | None:
    """'rtl' or 'ltr' from the first strong character (rules P2-P3, isolates skipped); None if none."""
    depth = 0
    for ch in text:
        if ch in _ISOLATE_OPEN:
            depth += 1
        elif ch == _ISOLATE_CLOSE:
            depth = max(0, depth - 1)
        elif depth == 0:
            kind = unicodedata.bidirectional(ch)
            if kind == "L":
                return "ltr"
            if kind in ("R", "AL"):
                return "rtl"
    return None


def forced_direction(text: str, rule: str) -> str | None:
    """The direction `rule` imposes on `text` ('rtl' or 'ltr'), or None where the first strong character
    decides (rule "first-strong", or "arabic" on a text with no right-to-left character)."""
    if rule in ("rtl", "ltr"):
        return rule
    if rule == ARABIC:
        return "rtl" if has_rtl_letter(text) else None
    if rule == FIRST_STRONG:
        return None
    raise ValueError(f"paragraph direction must be one of {', '.join(PARAGRAPH_DIRECTIONS)}, not {rule!r}")


def paragraph_direction(text: str, rule: str = DEFAULT_PARAGRAPH_DIRECTION) -> str:
    """'rtl' or 'ltr' for `text` under `rule` (a text with no strong character is 'ltr')."""
    return forced_direction(text, rule) or first_strong(text) or "ltr"
