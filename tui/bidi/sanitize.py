"""Make untrusted article text safe to draw: no control character may reach the terminal.

`sanitize` keeps the length in code points, so offsets into the result are offsets into the input.
"""
from __future__ import annotations

import re

# Bidi formatting characters: honoured by the layout, invisible unless revealed.
LRE, RLE, PDF, LRO, RLO = "\u202a", "\u202b", "\u202c", "\u202d", "\u202e"
LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"
LRM, RLM, ALM = "\u200e", "\u200f", "\u061c"
BIDI_CONTROLS = frozenset({LRE, RLE, LRO, RLO, PDF, LRI, RLI, FSI, PDI, LRM, RLM, ALM})

# One-cell marks shown for bidi controls when `reveal_controls=True`.
REVEAL_SYMBOLS = {
    LRM: "→", RLM: "←", ALM: "↞",
    LRE: "⇉", RLE: "⇇", LRO: "⇛", RLO: "⇚", PDF: "⇞",
    LRI: "⊳", RLI: "⊲", FSI: "⋄", PDI: "⊥",
}

C1_SYMBOL = "\ufffd"  # no standard picture for C1 controls
_TABLE = {c: 0x2400 + c for c in range(0x20) if c not in (0x0A, 0x09)}
_TABLE[0x7F] = 0x2421  # ␡
_TABLE.update({c: ord(C1_SYMBOL) for c in range(0x80, 0xA0)})
_TABLE.update({c: ord(C1_SYMBOL) for c in range(0xD800, 0xE000)})  # lone surrogates


def _char_class(codes: set[int]) -> str:
    """A regex character class of `codes`, written as ranges (2,000 single characters take ~10 ms to compile)."""
    ranges: list[list[int]] = []
    for c in sorted(codes):
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    return "[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]"


_UNSAFE = re.compile(_char_class(set(_TABLE)))
"""Any character `_TABLE` replaces (a scan much faster than `translate` over text that has none)."""


def sanitize(text: str) -> str:
    """Replace C0 (but \\n and \\t), DEL, C1 controls and lone surrogates with visible symbols."""
    return text.translate(_TABLE) if _UNSAFE.search(text) else text


TAB_SYMBOL, NEWLINE_SYMBOL, INVISIBLE_SYMBOL = "⇥", "↵", "◌"
INVISIBLE = frozenset(
    [0x00AD, 0x034F, 0x180E, 0x200B, 0x2028, 0x2029, 0xFEFF, 0xFFF9, 0xFFFA, 0xFFFB, 0xE0001]
    + list(range(0x2060, 0x2065)) + list(range(0x206A, 0x2070)) + list(range(0xE0020, 0xE0080)))
"""Characters that draw nothing (or break the line) but are not bidi controls: zero-width space, word joiner,
BOM, soft hyphen, invisible operators, tags, line/paragraph separators. ZWJ and ZWNJ are not here: they
only choose how the letters beside them join (Persian words, emoji sequences) and hide nothing."""
_INERT = {**_TABLE, **{ord(c): s for c, s in REVEAL_SYMBOLS.items()}, 0x09: ord(TAB_SYMBOL),
          **{c: ord(INVISIBLE_SYMBOL) for c in INVISIBLE}}
_INERT_LINE = {**_INERT, 0x0A: ord(NEWLINE_SYMBOL)}


def inert(text: str, lines: bool = False) -> str:
    """`text` for a plain terminal line (CLI output for people): `sanitize`, and every bidi control, TAB and
    invisible character shown as a visible one-cell symbol, so nothing in it can reorder, hide or split the
    text around it (an unbalanced RLO in a title cannot reverse the rest of the line). A newline becomes ↵
    unless `lines`. One code point in, one out."""
    return text.translate(_INERT if lines else _INERT_LINE)
