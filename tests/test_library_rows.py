"""The library's table lays out a title when its row is drawn, not when the row is added: at 300 articles the
first screen lays out the rows it shows (plus the pinned one), and paging down lays out the next page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import DataTable

from store import Workspace
from tui.app import make_app
from tui.bidi.display import DisplayOptions
from tui.screens.library import LibraryScreen

pytestmark = pytest.mark.usefixtures("quiet_waits")

TITLES = [f"خبر رقم {i} عن المغرب والجزائر" for i in range(300)]


@pytest.fixture
def big_path(tmp_path: Path) -> Path:
    src = tmp_path / "many.jsonl"
    src.write_text("".join(json.dumps({"id": f"a{i:03}", "title": t, "text": f"{t}. نص الخبر {i}."},
                                      ensure_ascii=False) + "\n" for i, t in enumerate(TITLES)), encoding="utf-8")
    ws = Workspace.open(tmp_path / "ws")
    assert len(ws.import_paths([src]).imported) == 300
    ws.close()
    return tmp_path / "ws"


async def test_titles_are_laid_out_as_their_rows_are_drawn(big_path: Path, monkeypatch) -> None:
    laid_out: list[str] = []
    cell = DisplayOptions.cell

    def counting(self, text: str, width: int) -> str:
        laid_out.append(text)
        return cell(self, text, width)

    monkeypatch.setattr(DisplayOptions, "cell", counting)
    app = make_app(Workspace.open(big_path), "alice")
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LibraryScreen)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 300
        titles_first = {t for t in laid_out if t in TITLES}
        assert 0 < len(titles_first) <= 40, len(titles_first)  # the rows on screen, not 300
        await pilot.press("pagedown")
        await pilot.pause()
        titles_after = {t for t in laid_out if t in TITLES}
        assert len(titles_after) > len(titles_first)  # the next page, laid out as it is drawn
        row = table.get_row(table.coordinate_to_cell_key(table.cursor_coordinate).row_key)
        title = str(row[[c.label.plain for c in table.ordered_columns].index("Title")])
        assert title.strip() and title == DisplayOptions().cell(title_of(table, app), len(title))


def title_of(table: DataTable, app) -> str:
    key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
    return app.workspace.article(key).title
