"""A text input that draws its value like the reader: visual order, joined letters, sanitised.

The value is edited in logical order by Textual's `Input`; only drawing, the caret's screen column,
arrow keys and mouse clicks go through the bidi layout of the app's `DisplayOptions`.
"""
from __future__ import annotations

from bisect import bisect_right
from typing import NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widgets import Input
from textual.widgets._input import Selection

from tui.bidi.display import DisplayOptions, display_options
from tui.bidi.lines import Cell, VisualLine


class _Row(NamedTuple):
    """The value on one row: its cells, whether it reads right to left on screen, and its caret stops
    as (column, logical offset) from left to right."""

    cells: list[Cell]
    rtl: bool
    stops: list[tuple[int, int]]

    @property
    def width(self) -> int:
        """Columns of the cells plus the one for the caret at the end of the value."""
        return sum(c.width for c in self.cells) + 1


def _one_row(options: DisplayOptions, text: str) -> VisualLine:
    """`text` laid out on a single row, at a width nothing wraps in (a tab, the widest cell, takes 4)."""
    flat = text.replace("\n", " ")
    return options.layout(flat, 4 * len(flat) + 1).line(0)


class BidiInput(Input):
    """`Input` whose value reads as on paper: an RTL value is right-aligned and drawn in visual order.

    Caret stops are the drawn cells (a lam-alef or a letter with its harakat is one stop) and the end of
    the value, drawn left of an RTL line and right of an LTR one. Left/right arrows (and ctrl+arrows, by
    paragraph direction) move on screen; home/end and all editing stay logical. Input's `highlighter` and
    `suggester` are not supported.
    """

    _row_cache: tuple[tuple, _Row] | None = None

    @property
    def _display(self) -> DisplayOptions:
        return display_options(self)

    def _row(self) -> _Row:
        options, value = self._display, self.value
        key = (value, self.password, options)
        if self._row_cache is None or self._row_cache[0] != key:
            if self.password:
                cells, rtl = [Cell("•", i, i + 1, 1) for i in range(len(value))], False
            else:
                line = _one_row(options, value)
                cells, rtl = line.cells, line.rtl and options.reorder
            column = 1 if rtl else 0
            stops = [(0, len(value))] if rtl else []
            for cell in cells:
                stops.append((column, cell.start))
                column += cell.width
            if not rtl:
                stops.append((column, len(value)))
            self._row_cache = (key, _Row(cells, rtl, stops))
        return self._row_cache[1]

    def _snap(self, offset: int) -> int:
        """The first caret stop at or after `offset` (never inside a cell or before a hidden control)."""
        return min(o for _, o in self._row().stops if o >= offset)

    def _align(self) -> int:
        """Blank columns left of an RTL value that fits the field, to right-align it."""
        row = self._row()
        return max(0, self.scrollable_content_region.width - row.width) if row.rtl else 0

    def validate_selection(self, selection: Selection) -> Selection:
        start, end = super().validate_selection(selection)
        return Selection(self._snap(start), self._snap(end))

    def _watch_value(self, value: str) -> None:
        super()._watch_value(value)
        # an edit logically after the caret moves it on screen (in RTL) without changing the selection
        self._watch_selection(self.selection)

    @property
    def _cursor_offset(self) -> int:
        """Content column of the caret, before scrolling."""
        if not self.value:
            return 0
        cursor = self._snap(self.cursor_position)
        return self._align() + next(c for c, o in self._row().stops if o == cursor)

    def _cell_offset_to_index(self, offset: int) -> int:
        """The caret stop drawn at content column `offset` (mouse clicks and drags)."""
        if not self.value:
            return 0
        stops = self._row().stops
        column = offset + self.scroll_offset.x - self._align()
        return stops[max(0, bisect_right([c for c, _ in stops], column) - 1)][1]

    @property
    def content_width(self) -> int:
        if not self.value:
            return max(1, sum(c.width for c in _one_row(self._display, self.placeholder).cells))
        return self._row().width

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y != 0:
            return Strip.blank(self.size.width, self.rich_style)
        caret = self.get_component_rich_style("input--cursor") if self.has_focus and self._cursor_visible else None
        if self.value:
            row = self._row()
            end = [(" ", len(self.value))]
            pieces = [(c.text, c.start) for c in row.cells]
            pieces = end + pieces if row.rtl else pieces + end
            low, high = sorted(self.selection) if self.has_focus else (0, 0)
            selected = self.get_component_rich_style("input--selection")
            cursor = self.cursor_position
            segments = [Segment(" " * self._align())]
            for text, offset in pieces:
                style = Style()
                if low <= offset < high:
                    style += selected
                if caret is not None and offset == cursor:
                    style += caret
                segments.append(Segment(text, style))
        else:
            placeholder = self.get_component_rich_style("input--placeholder")
            segments = [Segment(c.text, placeholder) for c in _one_row(self._display, self.placeholder).cells]
            if caret is not None:
                first = segments[0] if segments else Segment(" ")
                segments[:1] = [Segment(first.text, (first.style or Style()) + caret)]
        scroll_x = self.scroll_offset.x
        strip = Strip(segments).crop(scroll_x, scroll_x + width).extend_cell_length(width)
        return strip.apply_style(self.rich_style)

    def _step(self, step: int, select: bool) -> None:
        """Move the caret (or, with `select`, the selection's end) one stop left (-1) or right (+1) on screen."""
        stops = [o for _, o in self._row().stops]
        start, end = self.selection
        if select or self.selection.is_empty:
            target = stops[max(0, min(len(stops) - 1, stops.index(self._snap(end)) + step))]
            self.selection = Selection(start, target) if select else Selection.cursor(target)
        else:  # collapse the selection to its end on that side of the screen
            ends = sorted((stops.index(self._snap(start)), stops.index(self._snap(end))))
            self.cursor_position = stops[ends[step > 0]]

    def action_cursor_left(self, select: bool = False) -> None:
        self._step(-1, select)

    def action_cursor_right(self, select: bool = False) -> None:
        self._step(1, select)

    def action_cursor_left_word(self, select: bool = False) -> None:
        if self._row().rtl:
            super().action_cursor_right_word(select)
        else:
            super().action_cursor_left_word(select)

    def action_cursor_right_word(self, select: bool = False) -> None:
        if self._row().rtl:
            super().action_cursor_left_word(select)
        else:
            super().action_cursor_right_word(select)
