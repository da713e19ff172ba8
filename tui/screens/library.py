"""The library: every article of the workspace in a table; Enter opens one in the reader."""

from __future__ import annotations

from bidi import get_base_level
from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from ..bidi import visual_snippet

TITLE_WIDTH = 60


class LibraryScreen(Screen[None]):
    """The article list: title (bidi-correct), source and date."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="articles", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Title", width=TITLE_WIDTH, key="title")
        table.add_column("Source", key="source")
        table.add_column("Date", key="date")
        self.refresh_rows()
        table.focus()

    def refresh_rows(self) -> None:
        """Fill the table from the workspace."""
        table = self.query_one(DataTable)
        table.clear()
        for article in self.app.workspace.articles():
            table.add_row(self._cell(article.title, TITLE_WIDTH), self._cell(article.source or "-", 16),
                          article.date or "-", key=article.id)

    def _cell(self, text: str, width: int) -> Text:
        """Text for a table cell in visual order; right-aligned when it reads right to left."""
        reorder = self.app.bidi_mode == "app"
        snippet = visual_snippet(text, width, shape=self.app.shaping, reorder=reorder)
        rtl = reorder and get_base_level(text) == 1
        return Text(" " * max(0, width - cell_len(snippet)) + snippet if rtl else snippet, no_wrap=True)

    @on(DataTable.RowSelected)
    def open_article(self, event: DataTable.RowSelected) -> None:
        from .reader import ReaderScreen

        self.app.push_screen(ReaderScreen(str(event.row_key.value)))
