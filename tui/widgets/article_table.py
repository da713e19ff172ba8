"""The library's article table: any number of rows, drawn as it is scrolled (Line API).

It holds a view of the rows (store.team.rows.View, filtered and sorted by the screen) and draws only the lines
on screen, asking the view for those rows alone: a title or outlet is laid out by the bidi engine when its line
is first drawn, and kept per (text, width). The header line stays at the top; the cursor is a row index, moved
by keys and clicks.
"""

from __future__ import annotations

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from store.team.rows import EMPTY, ArticleRow, View
from tui.bidi import display_options

Column = tuple[str, str, int]
"""Key, header and width (in cells) of a column."""
COLUMNS: list[Column] = [("state", "State", 8), ("title", "Title", 0), ("source", "Source", 12),
                         ("date", "Date", 10), ("credibility", "Cred", 4), ("mean", "Mean", 4),
                         ("entities", "E", 3), ("claims", "C", 3)]
"""Every column; the title takes the width the others leave (see `columns_for`)."""
NARROW_DROPS = ("source", "date")
"""Columns left out when the title would get fewer than MIN_TITLE cells (the reader shows them)."""
MIN_TITLE, MAX_TITLE = 16, 60
CELL_PADDING = 2
"""One blank column each side of a cell."""
SCROLLBAR = 2
LAID_OUT = ("title", "source")
"""Columns drawn through the bidi engine (text from the articles); the others are figures and ISO dates."""
STATE_MARK = {"not started": "· todo", "in progress": "◐ doing", "done": "● done"}
ASSIGNED_MARK = "▸"
CACHE_LIMIT = 20_000
"""Laid-out cells kept; past this the cache starts again (scrolling through 100,000 titles stays bounded)."""


def columns_for(width: int) -> list[Column]:
    """The columns that fit a terminal `width` columns wide: every figure stays visible, the title gets what
    is left (cut at its logical end), and outlet and date go first when even that is too narrow."""
    def title_room(columns: list[Column]) -> int:
        return width - SCROLLBAR - sum(w + CELL_PADDING for key, _, w in columns if key != "title") - CELL_PADDING

    columns = list(COLUMNS)
    if title_room(columns) < MIN_TITLE:
        columns = [c for c in columns if c[0] not in NARROW_DROPS]
    title = max(8, min(MAX_TITLE, title_room(columns)))
    return [(key, label, title if key == "title" else w) for key, label, w in columns]


def figures(row: ArticleRow) -> dict[str, str]:
    """What each column says about an article, before layout."""
    return {"state": (ASSIGNED_MARK if row.assigned else " ") + STATE_MARK[row.state], "title": row.title,
            "source": row.source or "-", "date": row.date or "-", "credibility": str(row.credibility or "-"),
            "mean": f"{row.credibility_mean:.1f}" if row.credibility_mean is not None else "-",
            "entities": str(row.entities), "claims": str(row.claims)}


class ArticleTable(ScrollView, can_focus=True):
    """Articles one per line under a sticky header; zebra stripes, a row cursor, Enter opens."""

    DEFAULT_CSS = """
    ArticleTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        &:focus {
            background-tint: $foreground 5%;
            & > .article-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .article-table--header { background-tint: $foreground 5%; }
        }
        &:dark > .article-table--even-row { background: $surface-darken-1 40%; }
        & > .article-table--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .article-table--header { background: ansi_bright_blue; color: ansi_default; }
        & > .article-table--even-row { background: $surface-lighten-1 50%; }
        & > .article-table--hover { background: $block-hover-background; }
        & > .article-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    COMPONENT_CLASSES = {"article-table--header", "article-table--even-row", "article-table--odd-row",
                         "article-table--hover", "article-table--cursor"}
    BINDINGS = [
        Binding("enter", "select", "Open", show=False, id="open-article"),
        Binding("up", "move(-1)", "Up", show=False, id="row-up"),
        Binding("down", "move(1)", "Down", show=False, id="row-down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="row-page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="row-page-down"),
        Binding("home,ctrl+home", "first", "First", show=False, id="row-first"),
        Binding("end,ctrl+end", "last", "Last", show=False, id="row-last"),
    ]

    cursor: reactive[int] = reactive(0, layout=False)
    """Index (into `rows`) of the row under the cursor."""

    class Highlighted(Message):
        """The cursor is on another article (None: the table is empty)."""

        def __init__(self, article_id: str | None) -> None:
            super().__init__()
            self.article_id = article_id

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ArticleTable.Highlighted)

    class Selected(Message):
        """Enter, or a click on the cursor's row: open this article."""

        def __init__(self, article_id: str) -> None:
            super().__init__()
            self.article_id = article_id

    class HeaderSelected(Message):
        """A column's header was clicked (the library sorts by it)."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, columns: list[Column], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: View = EMPTY
        self._columns = columns
        self._cells: dict[tuple[str, int], str] = {}
        self._hover: int | None = None
        """The row under the mouse (shown until a key moves the cursor)."""

    # ----- what it holds ------------------------------------------------------------------------
    @property
    def columns(self) -> list[Column]:
        return self._columns

    @columns.setter
    def columns(self, columns: list[Column]) -> None:
        self._columns = columns
        self._resize()

    def show(self, rows: View, keep: str | None = None) -> None:
        """Hold `rows` (any number: only the lines on screen are drawn); the cursor stays on article `keep`
        when it is among them, else goes to the first row."""
        self.rows = rows
        self._resize()
        index = self.index_of(keep) if keep is not None else None
        self.cursor = index if index is not None else 0
        self._scroll_to_cursor()

    def index_of(self, article_id: str) -> int | None:
        return self.rows.index_of(article_id)

    def select(self, article_id: str) -> bool:
        """Put the cursor on an article; False when it is not in the table (filtered out)."""
        index = self.index_of(article_id)
        if index is not None:
            self.cursor = index
        return index is not None

    @property
    def current_id(self) -> str | None:
        return self.rows[self.cursor].id if self.rows else None

    def cell_texts(self, row: ArticleRow) -> list[str]:
        """The row's cells as drawn, one per column, each exactly its column's width (titles and outlets in
        visual order, right-aligned when they read right to left, cut at their logical end)."""
        said = figures(row)
        return [self._laid_out(said[key], width) if key in LAID_OUT else set_cell_size(said[key], width)
                for key, _, width in self._columns]

    def _laid_out(self, text: str, width: int) -> str:
        cell = self._cells.get((text, width))
        if cell is None:  # titles never change and outlets repeat: lay each out once
            if len(self._cells) >= CACHE_LIMIT:
                self._cells.clear()
            cell = self._cells[(text, width)] = display_options(self).cell(text, width)
        return cell

    def _resize(self) -> None:
        self.virtual_size = Size(sum(w + CELL_PADDING for _, _, w in self._columns), len(self.rows) + 1)
        self.refresh()

    # ----- the cursor ---------------------------------------------------------------------------
    def validate_cursor(self, cursor: int) -> int:
        return max(0, min(cursor, len(self.rows) - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        self._set_hover(None)
        self._scroll_to_cursor()
        self.refresh_lines(old + 1)
        self.refresh_lines(new + 1)
        self.post_message(self.Highlighted(self.current_id))

    @property
    def page_rows(self) -> int:
        """Rows on one screen (the height less the header)."""
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_cursor(self) -> None:
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, force=True)
        elif self.cursor >= top + self.page_rows:
            self.scroll_to(y=self.cursor - self.page_rows + 1, animate=False, force=True)

    def on_resize(self, event: events.Resize) -> None:
        self._scroll_to_cursor()

    def action_move(self, rows: int) -> None:
        self.cursor += rows

    def action_page(self, pages: int) -> None:
        self.scroll_to(y=self.scroll_y + pages * self.page_rows, animate=False, force=True)
        self.cursor += pages * self.page_rows

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = len(self.rows) - 1

    def action_select(self) -> None:
        if self.rows:
            self.post_message(self.Selected(self.rows[self.cursor].id))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x = 0
            for key, _, width in self._columns:
                x += width + CELL_PADDING
                if offset.x < x:
                    self.post_message(self.HeaderSelected(key))
                    break
            return
        index = round(self.scroll_y) + offset.y - 1
        if index < len(self.rows):
            event.stop()
            if index == self.cursor:
                self.action_select()
            self.cursor = index
            self._set_hover(index)

    def _set_hover(self, index: int | None) -> None:
        if index != self._hover:
            for line in (self._hover, index):
                if line is not None:
                    self.refresh_lines(line + 1)
            self._hover = index

    def on_mouse_move(self, event: events.MouseMove) -> None:
        offset = event.get_content_offset(self)
        index = round(self.scroll_y) + offset.y - 1 if offset is not None and offset.y > 0 else None
        self._set_hover(index if index is not None and index < len(self.rows) else None)

    def on_leave(self, event: events.Leave) -> None:
        self._set_hover(None)

    # ----- drawing ------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            style = self.get_component_rich_style("article-table--header")
            return self._strip([set_cell_size(label, w) for _, label, w in self._columns], style, width)
        index = round(self.scroll_y) + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        style = self.get_component_rich_style("article-table--odd-row" if index % 2 else "article-table--even-row")
        if index == self._hover:
            style += self.get_component_rich_style("article-table--hover")
        if index == self.cursor:
            style += self.get_component_rich_style("article-table--cursor")
        return self._strip(self.cell_texts(self.rows[index]), style, width)

    @staticmethod
    def _strip(cells: list[str], style: Style, width: int) -> Strip:
        return Strip([Segment(f" {cell} ", style) for cell in cells]).adjust_cell_length(width, style).simplify()
