"""Reference results of the bidi engine's parts, for the bidi tests: the order and levels of UAX #9 for one line
(what BidiCharacterTest.txt lists), and a layout drawn as plain text."""

from __future__ import annotations

from tui.bidi.direction import Direction
from tui.bidi.layout import layout
from tui.bidi.levels import REMOVED_CLASSES, resolve
from tui.bidi.reorder import line_levels, reorder


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


def render_text(text: str, width: int, **kw) -> str:
    """Every row of the layout as drawn, joined with newlines."""
    return "\n".join(line.text for line in layout(text, width, **kw))
