"""The library: every article of the workspace in a table; Enter opens one in the reader."""

from __future__ import annotations

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
        shaping = self.app.shaping
        for article in self.app.workspace.articles():
            title = visual_snippet(article.title, TITLE_WIDTH, shape=shaping,
                                   reorder=self.app.bidi_mode == "app")
            table.add_row(title, visual_snippet(article.source or "-", 16, shape=shaping,
                                                reorder=self.app.bidi_mode == "app"),
                          article.date or "-", key=article.id)

    @on(DataTable.RowSelected)
    def open_article(self, event: DataTable.RowSelected) -> None:
        from .reader import ReaderScreen

        self.app.push_screen(ReaderScreen(str(event.row_key.value)))
