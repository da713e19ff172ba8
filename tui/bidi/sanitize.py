"""Make untrusted article text safe to draw: no control character may reach the terminal.

`sanitize` keeps the length in code points, so offsets into the result are offsets into the input.
"""
from __future__ import annotations

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


def sanitize(text: str) -> str:
    """Replace C0 (but \\n and \\t), DEL, C1 controls and lone surrogates with visible symbols."""
    return text.translate(_TABLE)
