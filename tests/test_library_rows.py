"""The library's table holds every article and lays out a title only when its line is drawn: at 3,000 articles
the first screen lays out the rows it shows, End reaches the last article and Enter opens it, paging lays
out one page, and a resize keeps the cursor on its article."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from store import Workspace
from tui.app import make_app
from tui.bidi.display import DisplayOptions
from tui.screens.library import LibraryScreen
from tui.screens.reader import ReaderScreen
from tui.widgets.article_table import ArticleTable

pytestmark = pytest.mark.usefixtures("quiet_waits")

COUNT = 3000
TITLES = [f"خبر رقم {i} عن المغرب والجزائر" for i in range(COUNT)]
PAGE = 40
"""More than the rows a 30-line terminal shows."""


@pytest.fixture(scope="module")
def big_path(tmp_path_factory) -> Path:
    """3,000 small articles imported from one JSONL file (built once: the tests only read it)."""
    tmp_path = tmp_path_factory.mktemp("many")
    src = tmp_path / "many.jsonl"
    src.write_text("".join(json.dumps({"id": f"a{i:04}", "title": t, "text": f"{t}. نص الخبر {i}."},
                                      ensure_ascii=False) + "\n" for i, t in enumerate(TITLES)), encoding="utf-8")
    ws = Workspace.open(tmp_path / "ws")
    assert len(ws.import_paths([src]).imported) == COUNT
    ws.close()
    return tmp_path / "ws"


@pytest.fixture
def laid_out(monkeypatch) -> list[str]:
    """Every text the bidi engine lays out as a table cell, in order."""
    texts: list[str] = []
    cell = DisplayOptions.cell

    def counting(self, text: str, width: int) -> str:
        texts.append(text)
        return cell(self, text, width)

    monkeypatch.setattr(DisplayOptions, "cell", counting)
    return texts


def titles_in(texts: list[str]) -> set[str]:
    return {t for t in texts if t in TITLES}


def on_screen(table: ArticleTable) -> list[str]:
    """The lines of the table as drawn (the header first)."""
    return [table.render_line(y).text for y in range(table.size.height)]


async def test_every_row_is_reachable_and_only_drawn_rows_are_laid_out(big_path: Path, laid_out) -> None:
    app = make_app(Workspace.open(big_path), "alice")
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, LibraryScreen)
            table = app.screen.query_one(ArticleTable)
            assert len(table.rows) == COUNT
            first = titles_in(laid_out)
            assert 0 < len(first) <= PAGE, len(first)  # the rows on screen, not 3,000
            await pilot.press("pagedown")
            await pilot.pause()
            paged = titles_in(laid_out)
            assert len(first) < len(paged) <= 2 * PAGE  # the next page, laid out as it is drawn
            await pilot.press("end")
            await pilot.pause()
            last = table.rows[-1]
            assert table.cursor == COUNT - 1 and app.screen.current_id() == last.id
            assert last.title in titles_in(laid_out) and len(titles_in(laid_out)) <= 3 * PAGE
            cell = table.cell_texts(last)[[k for k, _, _ in table.columns].index("title")]
            assert cell.strip() and cell == DisplayOptions().cell(last.title, len(cell))
            assert on_screen(table)[-1].find(cell) >= 0  # the last article is the bottom line
            await pilot.press("up", "home")
            assert table.cursor == 0 and table.scroll_y == 0
            await pilot.press("end", "enter")
            await pilot.pause()
            assert isinstance(app.screen, ReaderScreen) and app.screen.article.id == last.id
    finally:
        app.workspace.close()


async def test_a_click_moves_the_cursor_and_a_second_click_opens(big_path: Path) -> None:
    app = make_app(Workspace.open(big_path), "alice")
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            table = app.screen.query_one(ArticleTable)
            await pilot.press("pagedown", "pagedown")
            top = round(table.scroll_y)
            assert top > 0
            plain = table.render_line(3)
            await pilot.hover(ArticleTable, offset=(30, 3))  # the third row on screen
            assert table.render_line(3) != plain and table.render_line(3).text == plain.text  # highlighted
            await pilot.click(ArticleTable, offset=(30, 3))
            target = table.rows[top + 2].id
            assert app.screen.current_id() == target
            await pilot.click(ArticleTable, offset=(30, 3))
            await pilot.pause()
            assert isinstance(app.screen, ReaderScreen) and app.screen.article.id == target
    finally:
        app.workspace.close()


async def test_a_resize_keeps_the_cursor_article_on_screen(big_path: Path) -> None:
    app = make_app(Workspace.open(big_path), "alice")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            table = app.screen.query_one(ArticleTable)
            table.cursor = 2500  # far past the 500 rows the DataTable held
            await pilot.pause()
            chosen = app.screen.current_id()
            wide = [key for key, _, _ in table.columns]
            await pilot.resize_terminal(50, 16)
            for _ in range(50):  # Textual sends the resize on idle: wait for it (the clock, not a bare pause)
                await pilot.pause(0.02)
                if table.size.width < 100:
                    break
            await pilot.pause()
            assert [key for key, _, _ in table.columns] != wide  # narrower: the outlet and date went
            assert app.screen.current_id() == chosen
            row = table.rows[table.cursor]
            title = table.cell_texts(row)[[key for key, _, _ in table.columns].index("title")]
            assert any(title in line for line in on_screen(table)[1:])  # still on screen after the resize
    finally:
        app.workspace.close()


def test_only_the_rows_with_figures_or_an_assignment_are_kept(workspace_path: Path) -> None:
    """Only the figures of an article someone touched, or that is assigned, are kept (store.team.rows.Rows); any
    row is made from the catalog and those figures when asked for, a blank row where there are none."""
    from store.team import assign
    from store.team.rows import ArticleRow
    from store.team.stats import LibraryRows

    ws = Workspace.open(workspace_path)
    try:
        ids = ws.catalog().ids
        ws.annotations("bob").set_state(ids[1], "done")
        assign.save(ws.path, {ids[3]: ["alice"]})
        alice, carol = LibraryRows(ws, "alice").rows(), LibraryRows(ws, "carol", team=False).rows()
        assert [r.id for r in alice] == [r.id for r in carol] == list(ids) and alice.position(ids[2]) == 2
        assert set(alice.figures) == {1, 3} and not carol.figures  # (carol: no team, nothing assigned)
        article = ws.article(ids[0])
        assert alice[0] == carol[0] == ArticleRow(ids[0], article.title, article.source, article.date)
        assert alice[0].state == "not started" and not alice[0].assigned and not alice[0].done_by
        assert alice[1].done_by == {"bob"} and not carol[1].done_by
        assert alice[3].assigned and not carol[3].assigned and alice[-1].id == ids[-1]
    finally:
        ws.close()


def _reference_order(rows: list, filters, key: str, reverse: bool, hits: set[str] | None) -> list[str]:
    """The library's order as it was made over a list of every row: filter, keep the hits, a stable sort, and
    those assigned first."""
    keys = {"state": lambda r: ["not started", "in progress", "done"].index(r.state), "title": lambda r: r.title,
            "source": lambda r: r.source or "", "date": lambda r: r.date or "",
            "credibility": lambda r: r.credibility or 0, "mean": lambda r: r.credibility_mean or 0,
            "entities": lambda r: r.entities, "claims": lambda r: r.claims}
    kept = [r for r in rows if filters.accepts(r)] if filters.active else list(rows)
    if hits is not None:
        kept = [r for r in kept if r.id in hits]
    kept.sort(key=keys[key], reverse=reverse)
    return [r.id for r in kept if r.assigned] + [r.id for r in kept if not r.assigned]


def test_the_order_over_positions_is_the_order_of_every_row_sorted(tmp_path: Path) -> None:
    """`visible` sorts and filters positions, never making the blank rows: for random catalogs (titles, outlets and
    dates missing or repeated), random figures on some articles (some "not started" with figures, some assigned),
    every sort both ways, random filters and random search hits, it gives exactly the ids the old way did (and
    triage's queue of them, too)."""
    import random

    from store.corpus.catalog import Catalog, CorpusIndex, write_index
    from store.team.rows import NOBODY, SORTS, ArticleRow, Filters, Rows, visible

    rng = random.Random(7)
    for trial in range(60):
        count = rng.randrange(0, 40)
        records = [{"id": f"a{n:03}", "title": rng.choice(["", "ب", "ا", "خبر", f"t{n % 5}"]), "body": "نص",
                    **({"source": rng.choice(["x", "y", "z"])} if rng.random() < 0.7 else {}),
                    **({"date": rng.choice(["2020-01-01", "2021-05-05", "2022-02-02"])} if rng.random() < 0.7
                       else {})} for n in range(count)]
        if trial % 2:  # (half of them through a real corpus.idx: the titles decoded where asked)
            path = tmp_path / f"c{trial}.idx"
            write_index(path, (1, 2, 3), records)
            index = CorpusIndex.open(path)
            catalog = index.catalog()
        else:
            catalog = Catalog.of(records)
        figures = {n: (rng.choice(["not started", "in progress", "done"]), rng.choice([None, 1, 3, 5]),
                       rng.choice([None, 2.5, 4.0]), rng.randrange(0, 3), rng.randrange(0, 2),
                       rng.choice([NOBODY, frozenset({"PER"})]), rng.choice([NOBODY, frozenset({"bob"})]),
                       NOBODY, rng.random() < 0.2)
                   for n in rng.sample(range(count), rng.randrange(0, count + 1))}
        rows = Rows(catalog, figures)
        every = [ArticleRow(catalog.ids[n], catalog.titles[n], catalog.sources[n], catalog.dates[n],
                            *figures.get(n, ())) for n in range(count)]
        assert list(rows) == every
        for key in SORTS:
            for reverse in (False, True):
                filters = Filters(**rng.choice([{}, {"state": "not started"}, {"state": "done"}, {"source": "x"},
                                                {"date_from": "2021-01-01"}, {"date_to": "2021-12-31"},
                                                {"credibility_min": 3}, {"label": "PER"}, {"annotator": "bob"},
                                                {"source": "y", "state": "not started"}]))
                hits = None if rng.random() < 0.5 else {i for i in catalog.ids if rng.random() < 0.5} | {"gone"}
                view = visible(rows, filters, key, reverse, None if hits is None else {i: 1 for i in hits})
                want = _reference_order(every, filters, key, reverse, hits)
                assert [r.id for r in view] == want, (trial, key, reverse, filters)
                assert [view[k].id for k in range(len(view))] == want == [r.id for r in view[:]]
                assert all(view.index_of(i) == want.index(i) for i in want)
                assert view.index_of("gone") is None and len(view) == len(want)
                by_id = {r.id: r for r in every}  # (triage's queue: not done; only the assigned when any is)
                queue = [by_id[i] for i in want if by_id[i].state != "done"]
                if any(r.assigned for r in every):
                    queue = [r for r in queue if r.assigned]
                assert rows.unfinished(view.order) == [r.id for r in queue]
        if trial % 2:
            index.close()
