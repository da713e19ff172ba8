"""Pure bidi layout for tahqiq: visual order, shaping, wrapping and column maps (no Textual)."""
from tui.bidi.direction import DIRECTIONS, Direction, Rule, base_direction
from tui.bidi.display import DEFAULT_DISPLAY, DisplayOptions, display_options
from tui.bidi.layout import Layout, layout, visual_line, visual_snippet
from tui.bidi.lines import Cell, VisualLine
from tui.bidi.sanitize import BIDI_CONTROLS, inert, sanitize

__all__ = ["layout", "Layout", "VisualLine", "Cell", "sanitize", "inert", "BIDI_CONTROLS", "visual_line",
           "visual_snippet", "DisplayOptions", "DEFAULT_DISPLAY", "display_options", "DIRECTIONS", "Direction", "Rule",
           "base_direction"]
