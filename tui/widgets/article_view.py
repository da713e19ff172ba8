"""The reader: an article laid out by the bidi engine, with a word cursor and selection in visual order.

Only visible rows are rendered (Line API). Every style (cursor, selection, search hits, annotations) is
placed through the layout's cell map, so a styled word on screen is the same word in the text.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from store.text.normalize import WORD
from tui import clipboard
from tui.bidi import DisplayOptions, Layout, VisualLine, display_options
from tui.bidi.navigator import Navigator, word_at


@dataclass(frozen=True)
class Highlight:
    """A styled logical range [start, end) of the text."""

    start: int
    end: int
    style: Style


class ArticleView(ScrollView, can_focus=True):
    """Shows one article bidi-correct; arrows move the word cursor in screen direction."""

    DEFAULT_CSS = """
    ArticleView {
        scrollbar-gutter: stable;
        padding: 0 1;
    }
    ArticleView > .article-view--cursor { background: $accent; color: $text; }
    ArticleView > .article-view--selection { background: $primary 60%; }
    ArticleView > .article-view--hit { background: $warning 50%; }
    ArticleView > .article-view--mark { color: $warning; }
    """
    COMPONENT_CLASSES = {"article-view--cursor", "article-view--selection", "article-view--hit",
                         "article-view--mark"}
    GUTTER = 2
    """Columns left of the text for margin marks (sentences suggested as claims)."""
    BINDINGS = [
        Binding("left", "move('left')", "←", show=False, id="cursor-left"),
        Binding("right", "move('right')", "→", show=False, id="cursor-right"),
        Binding("up", "move('up')", "↑", show=False, id="cursor-up"),
        Binding("down", "move('down')", "↓", show=False, id="cursor-down"),
        Binding("shift+left", "move('left', True)", "Select ←", show=False, id="select-left"),
        Binding("shift+right", "move('right', True)", "Select →", show=False, id="select-right"),
        Binding("shift+up", "move('up', True)", "Select ↑", show=False, id="select-up"),
        Binding("shift+down", "move('down', True)", "Select ↓", show=False, id="select-down"),
        Binding("escape", "clear_selection", "Clear selection", show=False, id="clear-selection"),
        Binding("y,ctrl+c", "copy", "Copy", id="copy"),
        Binding("ctrl+t", "toggle_controls", "Show bidi marks", id="toggle-controls"),
    ]

    cursor: reactive[int] = reactive(0, layout=False, always_update=True)
    """Index (into `words`) of the word under the cursor."""
    anchor: reactive[int | None] = reactive(None, always_update=True)
    """Word index where the selection started, or None when nothing is selected."""
    reveal_controls: reactive[bool] = reactive(False)
    """Show bidi formatting characters as visible marks."""

    class CursorMoved(Message):
        """The cursor or selection changed; `start`/`end` is the logical range under it."""

        def __init__(self, start: int, end: int, selection: bool) -> None:
            super().__init__()
            self.start, self.end, self.selection = start, end, selection

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ArticleView.CursorMoved)

    def __init__(self, text: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = text
        self.words: list[tuple[int, int]] = [m.span() for m in WORD.finditer(text)] or [(0, len(text))]
        self._word_starts = [s for s, _ in self.words]
        self._layout: Layout | None = None
        self._navigator: Navigator | None = None
        self._highlights: dict[str, list[Highlight]] = {}
        self._dragging = False
        self._goal_column: int | None = None
        self._marks: list[tuple[int, int]] = []
        self._marked_rows: set[int] | None = None
        self._measured = False

    # ----- layout -------------------------------------------------------------------------------
    @property
    def options(self) -> DisplayOptions:
        """The app's display options (bidi mode, shaping, paragraph direction)."""
        return display_options(self)

    @property
    def text_layout(self) -> Layout:
        if self._layout is None:
            self._relayout()
        assert self._layout is not None
        return self._layout

    @property
    def navigator(self) -> Navigator:
        """Word geometry and arrow-key moves on the current layout (tui.bidi.navigator), one per layout."""
        layout = self.text_layout
        if self._navigator is None or self._navigator.layout is not layout:
            self._navigator = Navigator(layout, self.words)
        return self._navigator

    def _relayout(self) -> None:
        width = max(1, self.scrollable_content_region.width - self.GUTTER)
        self._marked_rows = None
        self._measured = False
        self._layout = self.options.layout(self.text, width, reveal_controls=self.reveal_controls)
        self._navigator = None
        # Show the first screen from a partial layout, then count all rows after it is painted.
        self.virtual_size = Size(width, max(self.scrollable_content_region.height + 1, 1))
        self.call_after_refresh(self._measure)

    def _measure(self) -> None:
        if self._layout is not None:
            self.virtual_size = Size(self._layout.width, len(self._layout))
            self._measured = True
            self.refresh()
            self._scroll_to_cursor()

    def on_resize(self, event: events.Resize) -> None:
        if self._layout is None or self._layout.width != max(1, self.scrollable_content_region.width - self.GUTTER):
            resized = self._layout is not None
            self._relayout()
            if resized:  # keep the cursor's word on screen: count the rows now, scroll once they are known
                self._measure()
                self.call_after_refresh(self._scroll_to_cursor)

    def watch_reveal_controls(self) -> None:
        if self.is_mounted:
            self._relayout()
            self.refresh()

    # ----- rendering ----------------------------------------------------------------------------
    def set_highlights(self, key: str, spans: list[Highlight]) -> None:
        """Replace one named group of highlights (annotations, search hits...) and repaint."""
        self._highlights[key] = sorted(spans, key=lambda h: h.start)
        self.refresh()

    def set_marks(self, spans: list[tuple[int, int]]) -> None:
        """Logical ranges whose rows get a mark in the margin (e.g. sentences suggested as claims)."""
        self._marks = sorted(spans)
        self._marked_rows = None
        self.refresh()

    def _row_marked(self, row: int) -> bool:
        # Marks wait for the full layout (after the first paint) so the first screen never waits for them.
        if not self._marks or not self._measured:
            return False
        if self._marked_rows is None:
            rows: set[int] = set()
            for start, end in self._marks:
                first = self.text_layout.row_of(start)[0]
                last = self.text_layout.row_of(max(start, end - 1))[0]
                rows.update(range(first, last + 1))
            self._marked_rows = rows
        return row in self._marked_rows

    def selection_range(self) -> tuple[int, int] | None:
        """The logical range [start, end) selected, or None."""
        if self.anchor is None or self.anchor == self.cursor:
            return None
        lo, hi = sorted((self.anchor, self.cursor))
        return self.words[lo][0], self.words[hi][1]

    def cursor_range(self) -> tuple[int, int]:
        """The logical range of the selection, or of the word under the cursor."""
        return self.selection_range() or self.words[self.cursor]

    def _line(self, row: int) -> VisualLine | None:
        try:
            return self.text_layout.line(row)
        except IndexError:
            return None

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        line = self._line(scroll_y + y)
        if line is None:
            return Strip.blank(width, base)
        ranges: list[tuple[int, int, Style]] = []
        for spans in self._highlights.values():
            ranges.extend((h.start, h.end, h.style) for h in spans if h.start < line.end and h.end > line.start)
        selection = self.selection_range()
        if selection:
            ranges.append((*selection, self.get_component_rich_style("article-view--selection")))
        if self.has_focus or selection is None:
            cur = self.words[self.cursor]
            ranges.append((*cur, self.get_component_rich_style("article-view--cursor")))
        mark = "▌ " if self._row_marked(scroll_y + y) else "  "
        segments = [Segment(mark[: self.GUTTER].ljust(self.GUTTER),
                            self.get_component_rich_style("article-view--mark"))]
        if line.indent:
            segments.append(Segment(" " * line.indent, base))
        for cell in line.cells:
            style = base
            for start, end, extra in ranges:
                if start < cell.end and end > cell.start:
                    style = style + extra
            segments.append(Segment(cell.text, style))
        strip = Strip(Segment.simplify(segments))
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    # ----- cursor movement in visual order -----------------------------------------------------
    def word_at(self, offset: int) -> int:
        """Index of the word at or just before a logical offset."""
        return word_at(self._word_starts, offset)

    def action_move(self, direction: str, select: bool = False) -> None:
        """Move the cursor one word left/right on screen, or one row up/down (the rule: tui.bidi.navigator)."""
        if select and self.anchor is None:
            self.anchor = self.cursor
        elif not select:
            self.anchor = None
        target, self._goal_column = self.navigator.target(self.cursor, direction, self._goal_column)
        if target is not None:
            self.move_cursor(target, keep_goal=direction in ("up", "down"))
        else:
            self.refresh()

    def move_cursor(self, index: int, keep_goal: bool = False) -> None:
        """Put the cursor on word `index` and scroll it into view."""
        self.cursor = max(0, min(index, len(self.words) - 1))
        if not keep_goal:
            self._goal_column = None

    def move_to_offset(self, offset: int) -> None:
        """Put the cursor on the word at a logical offset (for search hits and the annotation list)."""
        self.anchor = None
        self.move_cursor(self.word_at(offset))

    def watch_cursor(self) -> None:
        self._scroll_to_cursor()
        start, end = self.cursor_range()
        self.post_message(self.CursorMoved(start, end, self.selection_range() is not None))
        self.refresh()

    def watch_anchor(self) -> None:
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        if not self.is_mounted or self._layout is None:
            return
        row, _ = self.text_layout.row_of(self.words[self.cursor][0])
        self.scroll_to_region(Region(0, row, 1, 1), animate=False, immediate=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # With nothing selected, escape falls through to the screen (back to the list).
        if action == "clear_selection":
            return self.selection_range() is not None
        return True

    def action_clear_selection(self) -> None:
        self.anchor = None

    def action_toggle_controls(self) -> None:
        self.reveal_controls = not self.reveal_controls

    def action_copy(self) -> None:
        """Copy the selection (or the word under the cursor) in logical order."""
        start, end = self.cursor_range()
        text = self.text[start:end]
        clipboard.copy(self.app, text)
        self.notify(f"Copied {len(text)} characters")

    # ----- mouse --------------------------------------------------------------------------------
    def _word_at_event(self, event: events.MouseEvent) -> int | None:
        offset = event.get_content_offset(self)
        if offset is None:
            return None
        row, column = offset.y + self.scroll_offset.y, offset.x + self.scroll_offset.x - self.GUTTER
        logical = self.text_layout.offset_at(row, column)
        if logical is None:
            return None
        return self.word_at(logical)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        index = self._word_at_event(event)
        if index is None:
            return
        self.focus()
        self._dragging = True
        self.capture_mouse()
        self.anchor = index
        self.move_cursor(index)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._dragging:
            index = self._word_at_event(event)
            if index is not None and index != self.cursor:
                self.move_cursor(index)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._dragging:
            self._dragging = False
            self.release_mouse()
            if self.anchor == self.cursor:
                self.anchor = None
