"""Rules L1 (reset trailing whitespace) and L2 (reverse runs) of UAX #9.

python-bidi gives levels before L1; the rest of reordering is done here, per line.
"""
from __future__ import annotations

from tui.bidi.levels import REMOVED_CLASSES

# Classes reset to the paragraph level by L1 when they trail a line or precede S/B.
_TRAILING = frozenset({"WS", "FSI", "LRI", "RLI", "PDI"}) | REMOVED_CLASSES
_SEPARATORS = frozenset({"S", "B"})


def line_levels(levels: list[int], classes: list[str], para_levels: list[int],
                start: int = 0, end: int | None = None) -> list[int]:
    """Levels of code points [start, end) after rule L1, treating the range as one line."""
    end = len(levels) if end is None else end
    out = levels[start:end]
    if _SEPARATORS.isdisjoint(classes[start:end]):  # only the trailing run changes
        i = end - 1
        while i >= start and classes[i] in _TRAILING:
            out[i - start] = para_levels[i]
            i -= 1
        return out
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
    if hi == lo:  # one odd level: the whole line reversed
        return order[::-1]
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
