"""Pure bidi layout for tahqiq: visual order, shaping, wrapping and column maps (no Textual)."""
from tui.bidi.direction import DIRECTIONS, Direction, Rule, base_direction
from tui.bidi.display import DEFAULT_DISPLAY, DisplayOptions
from tui.bidi.layout import Layout, layout, render_text, visual_line, visual_snippet
from tui.bidi.lines import Cell, VisualLine
from tui.bidi.reorder import visual_order
from tui.bidi.sanitize import BIDI_CONTROLS, inert, sanitize

__all__ = ["visual_order", "layout", "Layout", "VisualLine", "Cell", "sanitize", "inert", "BIDI_CONTROLS",
           "render_text", "visual_line", "visual_snippet", "DisplayOptions", "DEFAULT_DISPLAY",
           "DIRECTIONS", "Direction", "Rule", "base_direction"]
