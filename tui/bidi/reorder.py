"""Rules L1 (reset trailing whitespace) and L2 (reverse runs) of UAX #9.

python-bidi gives levels before L1; the rest of reordering is done here, per line.
"""
from __future__ import annotations

from tui.bidi.direction import Direction
from tui.bidi.levels import REMOVED_CLASSES, resolve

# Classes reset to the paragraph level by L1 when they trail a line or precede S/B.
_TRAILING = frozenset({"WS", "FSI", "LRI", "RLI", "PDI"}) | REMOVED_CLASSES
_SEPARATORS = frozenset({"S", "B"})


def line_levels(levels: list[int], classes: list[str], para_levels: list[int],
                start: int = 0, end: int | None = None) -> list[int]:
    """Levels of code points [start, end) after rule L1, treating the range as one line."""
    end = len(levels) if end is None else end
    out = levels[start:end]
    trailing = True  # inside a run that reaches the line end or a separator
    for i in range(end - 1, start - 1, -1):
        cls = classes[i]
        if cls in _SEPARATORS:
            out[i - start] = para_levels[i]
            trailing = True
        elif trailing and cls in _TRAILING:
            out[i - start] = para_levels[i]
        else:
            trailing = False
    return out


def reorder(levels: list[int]) -> list[int]:
    """Rule L2: positions 0..n-1 in left-to-right visual order for the given levels."""
    n = len(levels)
    order = list(range(n))
    if n == 0:
        return order
    hi, lo = max(levels), min(levels)
    lo_odd = lo if lo % 2 else lo + 1
    if hi < lo_odd:
        return order
    lv = list(levels)
    for level in range(hi, lo_odd - 1, -1):
        i = 0
        while i < n:
            if lv[i] >= level:
                j = i + 1
                while j < n and lv[j] >= level:
                    j += 1
                if j - i > 1:
                    order[i:j] = order[i:j][::-1]
                    lv[i:j] = lv[i:j][::-1]
                i = j
            else:
                i += 1
    return order


def visual_order(text: str, direction: Direction = "auto") -> list[int]:
    """Logical indices of one single-line paragraph in left-to-right screen order (X9 chars omitted)."""
    info = resolve(text, direction)
    final = line_levels(info.levels, info.classes, info.para_levels)
    kept = [i for i, c in enumerate(info.classes) if c not in REMOVED_CLASSES]
    return [kept[k] for k in reorder([final[i] for i in kept])]


def resolved_levels(text: str, direction: Direction = "auto") -> list[int | None]:
    """Levels after L1 per code point, None for X9-removed ones (as in BidiCharacterTest field 3)."""
    info = resolve(text, direction)
    final = line_levels(info.levels, info.classes, info.para_levels)
    return [None if c in REMOVED_CLASSES else lv for c, lv in zip(info.classes, final)]
