"""Pure bidi layout for tahqiq: visual order, shaping, wrapping and column maps (no Textual)."""
from .direction import DIRECTIONS, Direction, Rule, base_direction
from .display import DEFAULT_DISPLAY, DisplayOptions
from .layout import Layout, layout, render_text, visual_line, visual_snippet
from .lines import Cell, VisualLine
from .reorder import visual_order
from .sanitize import BIDI_CONTROLS, inert, sanitize

__all__ = ["visual_order", "layout", "Layout", "VisualLine", "Cell", "sanitize", "inert", "BIDI_CONTROLS",
           "render_text", "visual_line", "visual_snippet", "DisplayOptions", "DEFAULT_DISPLAY",
           "DIRECTIONS", "Direction", "Rule", "base_direction"]
