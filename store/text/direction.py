"""Paragraph direction rules, shared by the bidi engine (tui.bidi) and the exports: one place decides
whether a paragraph (or an exported article) reads right to left. Pure: stdlib and python-bidi only.

Rules (the workspace's `paragraph_direction` in labels.toml):

- "arabic": a text holding any right-to-left character (bidi class AL or R: Arabic, Hebrew...) is
  right to left; otherwise the first strong character decides (as "first-strong"). The default: an
  Arabic news paragraph that opens with "Apple" or a flag emoji still reads right to left.
- "first-strong": Unicode bidi rules P2-P3: the first character of class L, R or AL outside isolates.
- "rtl" / "ltr": always that direction.

The bidi engine may not import this package: the app hands it a rule as a plain callable,
`paragraph_rule(name)`, and the engine applies rules P2-P3 itself where the rule returns None. Both sides
detect the first strong character with the same code, python-bidi's `get_base_level` (the Rust crate
unicode-bidi), so an exported article's direction and the reader's agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from bidi import get_base_level

ARABIC = "arabic"
FIRST_STRONG = "first-strong"
PARAGRAPH_DIRECTIONS = (ARABIC, FIRST_STRONG, "rtl", "ltr")
"""The values of `paragraph_direction` in labels.toml."""
DEFAULT_PARAGRAPH_DIRECTION = ARABIC

# Every code point of bidi class R or AL lies in these ranges (checked against unicodedata); a match is
# confirmed with unicodedata.bidirectional, so unassigned or neutral code points in them do not count.
_RTL_RANGES = re.compile("[\u0590-\u08ff\u200f\ufb1d-\ufdff\ufe70-\ufefe"
                         "\U00010800-\U00010fff\U0001e800-\U0001efff]")
# An exported article is read as one paragraph: its paragraph separators (bidi class B) become spaces, so
# the first strong character of the whole text decides. Lone surrogates (which python-bidi cannot take and
# a workspace never holds) become "a": class L, the class unicodedata and UAX #9's default give them.
_SEPARATORS = re.compile("[\n\r\x1c-\x1e\x85\u2029]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_ISOLATE_INITIATORS = ("\u2066", "\u2067", "\u2068")
_PDI, _HEBREW_ALEF = "\u2069", "\u05d0"
_HEAD = 64


def has_rtl_letter(text: str) -> bool:
    """Whether `text` holds a character of bidi class AL or R (anywhere, isolates included)."""
    return any(unicodedata.bidirectional(m.group()) in ("R", "AL") for m in _RTL_RANGES.finditer(text))


def _one_paragraph(text: str) -> str:
    return _SURROGATES.sub("a", _SEPARATORS.sub(" ", text))


def first_strong(text: str) -> str:
    """'rtl' or 'ltr' from the first strong character of the whole text (rules P2-P3, isolates skipped,
    paragraph separators read as spaces); 'ltr' when there is none. The detector is python-bidi's
    `get_base_level`, the bidi engine's."""
    if not text:
        return "ltr"
    head = _one_paragraph(text[:_HEAD])  # the first strong character is nearly always here: resolve no more
    if len(head) < len(text):
        if get_base_level(head) % 2:
            return "rtl"  # the head's first strong character (outside isolates) is R/AL: so is the text's
        # An R after the head, every isolate closed: level 0 means an L came first in the head, 1 that none did.
        if not get_base_level(head + _PDI * sum(map(head.count, _ISOLATE_INITIATORS)) + _HEBREW_ALEF) % 2:
            return "ltr"
        head = _one_paragraph(text)
    return "rtl" if get_base_level(head) % 2 else "ltr"


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


@dataclass(frozen=True)
class ParagraphRule:
    """A rule of PARAGRAPH_DIRECTIONS as a plain callable for the bidi engine: `rule(paragraph)` is the
    direction it imposes ('rtl' / 'ltr'), or None to let rules P2-P3 decide. Equal rules compare equal."""

    name: str

    def __call__(self, text: str) -> str | None:
        return forced_direction(text, self.name)

    def __repr__(self) -> str:
        return f"paragraph_rule({self.name!r})"


def paragraph_rule(name: str) -> Callable[[str], str | None]:
    """The rule `name` (one of PARAGRAPH_DIRECTIONS) as a callable: what the app passes to tui.bidi as
    `direction`. ValueError for an unknown name."""
    if name not in PARAGRAPH_DIRECTIONS:
        raise ValueError(f"paragraph direction must be one of {', '.join(PARAGRAPH_DIRECTIONS)}, not {name!r}")
    return ParagraphRule(name)


def paragraph_direction(text: str, rule: str = DEFAULT_PARAGRAPH_DIRECTION) -> str:
    """'rtl' or 'ltr' for `text` under `rule` (a text with no strong character is 'ltr')."""
    return forced_direction(text, rule) or first_strong(text)
