"""The library: sort, filters, forgiving search, triage with resume, and the progress figures."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli
from textual.widgets import Input, Label, ProgressBar

from store import Workspace
from store.db import journal
from store.search.query import find
from store.session import SessionState
from tui.app import make_app
from tui.screens.library import LibraryScreen
from tui.screens.reader import ReaderScreen
from tui.widgets.article_table import ArticleTable

pytestmark = pytest.mark.usefixtures("quiet_waits")  # Pilot waits for the app, not the clock (conftest.py)

IDS = ["f6acadc5c55dd27f", "d9577bfa1a0662c0", "d1451bac8b1dfa5c", "52f015e52f40b84e", "73d8cda007db96f7"]


def close_for_restart(workspace: Workspace) -> None:
    """Close the workspace as quitting does, and check that this process caches nothing of it any more
    (store.db.journal keeps one store per file per process): what the next app opens is read from disk."""
    workspace.close()
    root = os.path.realpath(workspace.path)
    cached = [key for key in journal._OPEN if key.startswith(root + os.sep)]
    assert not cached, f"still cached in this process, a reopening would not read the disk: {cached}"


def shown(app) -> list[str]:
    return [row.id for row in app.screen.query_one(ArticleTable).rows]


def cells(app, article_id: str) -> dict[str, str]:
    """What an article's row shows in each column, as drawn (trailing blanks dropped)."""
    table = app.screen.query_one(ArticleTable)
    row = table.rows[table.index_of(article_id)]
    return {key: text.rstrip() for (key, _, _), text in zip(table.columns, table.cell_texts(row))}


async def wait_rows(pilot, app, predicate, tries: int = 50) -> list[str]:
    for _ in range(tries):
        await pilot.pause(0.05)
        rows = shown(app)
        if predicate(rows):
            return rows
    raise AssertionError(f"rows never matched: {shown(app)}")


async def test_sort_by_date_and_reverse_and_persist(workspace_path: Path) -> None:
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(140, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, LibraryScreen)
        screen.sort_key = "date"
        screen.refresh_table()
        assert shown(app)[-2:] == [IDS[0], IDS[1]]  # dated articles after undated ones, 2014 before 2016
        await pilot.press("r")
        assert shown(app)[:2] == [IDS[1], IDS[0]]
        table = screen.query_one(ArticleTable)
        keys = [key for key, _, _ in table.columns]
        x = sum(width + 2 for _, _, width in table.columns[:keys.index("source")])
        await pilot.click(ArticleTable, offset=(x + 2, 0))  # the Source header
        assert screen.sort_key == "source"
    close_for_restart(app.workspace)
    # The sort survives a restart.
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(140, 30)):
        assert app.screen.sort_key == "source"
    close_for_restart(app.workspace)


async def test_filters_and_progress_numbers(workspace_path: Path) -> None:
    ws = Workspace.open(workspace_path)
    alice, bob = ws.annotations("alice"), ws.annotations("bob")
    alice.set_credibility(IDS[0], 2)
    alice.set_state(IDS[0], "done")
    body = ws.article(IDS[3]).body
    alice.add_entity(IDS[3], body.index("سبيك"), body.index("سبيك") + 4, "PER")
    bob.set_credibility(IDS[0], 4)
    bob.set_state(IDS[2], "done")
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(140, 30)) as pilot:
        screen = app.screen
        bar = screen.query_one(ProgressBar)
        assert (bar.progress, bar.total) == (1, 5)
        assert "me 1/5 · team 2/5" in str(screen.query_one("#progress-text", Label).render())
        row = cells(app, IDS[0])
        assert row["state"] == " ● done" and row["credibility"] == "2" and row["mean"] == "3.0"
        assert cells(app, IDS[3])["state"] == " ◐ doing" and cells(app, IDS[3])["entities"] == "1"

        await pilot.press("f")
        await pilot.pause()
        form = app.screen
        form.query_one("#date_from", Input).value = "2015-01-01"
        await pilot.click("#apply")
        await pilot.pause()
        assert shown(app) == [IDS[1]]
        await pilot.press("f")
        await pilot.pause()
        app.screen.query_one("#date_from", Input).value = "not a date"
        await pilot.click("#apply")
        await pilot.pause()
        assert "date from" in str(app.screen.query_one("#error", Label).render())
        await pilot.click("#clear")
        await pilot.pause()
        from store.team.rows import Filters

        for filters, expected in [(Filters(state="done"), [IDS[0]]), (Filters(label="PER"), [IDS[3]]),
                                  (Filters(credibility_min=1, credibility_max=3), [IDS[0]]),
                                  (Filters(annotator="bob"), [IDS[0], IDS[2]]),
                                  (Filters(source="فبراير"), [IDS[1]])]:
            screen.filters = filters
            screen.refresh_table()
            assert sorted(shown(app)) == sorted(expected), filters


@pytest.mark.parametrize(
    "query, expect_in",
    [
        ("الامن الوطني", "73d8cda007db96f7"),   # alef without hamza finds أ
        ("الأمن الوطنى", "73d8cda007db96f7"),   # alef maqsura finds yaa
        ("سبيك", "52f015e52f40b84e"),
        ("داعشيوها", "d1451bac8b1dfa5c"),        # a title word
        ("الخارجيه", "f6acadc5c55dd27f"),        # taa marbuta written as haa
        ("مـسـؤول", "f6acadc5c55dd27f"),          # tatweel in the query
        ("مُسْؤُول", "f6acadc5c55dd27f"),          # harakat in the query
        ("مسوول", "f6acadc5c55dd27f"),            # waw for hamza on waw
    ],
)
async def test_search_forgives_spelling(workspace_path: Path, query: str, expect_in: str) -> None:
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.press("slash")
        box = app.screen.query_one("#search", Input)
        assert box.has_focus
        await pilot.press(*query)
        rows = await wait_rows(pilot, app, lambda r: expect_in in r and len(r) < 5 or r == [expect_in])
        assert expect_in in rows
        app.screen._select(expect_in)
        await pilot.pause()
        label = app.screen.query_one("#hit-context")
        assert label.text.endswith(("hit)\u2069", "hits)\u2069"))
        drawn = "".join(label._rows(120))  # after an Arabic excerpt the count still reads "(N hit…)", not "(hit… N)"
        assert re.search(r"\(\d+ hits?\)", drawn) and "\u2066" not in drawn and "\u2069" not in drawn, drawn


def test_text_variants_match_plain_query_both_ways() -> None:
    text = "قالَ المسؤولُ إنّ الأمنَ في مدرسةٍ كبرى. The POLICE said"
    assert [text[s:e] for s, e in find(text, "مسوول")] == ["مسؤولُ"]
    assert [text[s:e] for s, e in find(text, "الامن")] == ["الأمنَ"]
    assert [text[s:e] for s, e in find(text, "مدرسه كبري")] == ["مدرسةٍ كبرى"]
    assert [text[s:e] for s, e in find(text, "police")] == ["POLICE"]
    plain = "المسوول في مدرسه كبري"
    assert [plain[s:e] for s, e in find(plain, "المسؤولُ")] == ["المسوول"]
    assert [plain[s:e] for s, e in find(plain, "مَدْرَسَة كُبْرَى")] == ["مدرسه كبري"]


async def test_open_search_hit_places_cursor_and_n_moves(workspace_path: Path) -> None:
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.press("slash", *"سبيك")
        await wait_rows(pilot, app, lambda r: sorted(r) == ["52f015e52f40b84e", "73d8cda007db96f7"])
        await pilot.press("enter")  # from the search box to the list
        app.screen._select("52f015e52f40b84e")
        await pilot.press("enter")
        await pilot.pause()
        reader = app.screen
        assert isinstance(reader, ReaderScreen)
        view = reader.view
        hits = reader.hits
        assert len(hits) >= 5
        assert view.words[view.cursor][0] == hits[0][0]
        await pilot.press("n")
        assert view.words[view.cursor][0] == hits[1][0]
        await pilot.press("N", "N")
        assert view.words[view.cursor][0] == hits[-1][0]


async def test_triage_loop_keys_and_resume(workspace_path: Path) -> None:
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.press("t")
        await pilot.pause()
        assert app.screen.article.id == IDS[0]
        await pilot.press("4")      # credibility 4, next
        await pilot.pause()
        assert app.screen.article.id == IDS[1]
        await pilot.press("s")      # skip
        await pilot.pause()
        assert app.screen.article.id == IDS[2]
        await pilot.press("b")      # back
        await pilot.pause()
        assert app.screen.article.id == IDS[1]
        await pilot.press("d")      # done, next
        await pilot.pause()
        assert app.screen.article.id == IDS[2]
        assert "decided 2" in app.screen.sub_title and "3 left" in app.screen.sub_title
    close_for_restart(app.workspace)
    reopened = Workspace.open(workspace_path)
    notes = reopened.annotations("alice")
    assert notes.for_article(IDS[0])[0]["attributes"]["score"] == 4
    assert notes.state(IDS[1]) == "done"
    close_for_restart(reopened)
    # Restart: triage resumes where it was.
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.press("t")
        await pilot.pause()
        assert app.screen.article.id == IDS[2]
        await pilot.press("5", "5", "5")
        await pilot.pause()
        assert isinstance(app.screen, LibraryScreen)  # finished: back to the list
    close_for_restart(app.workspace)


async def test_state_survives_restart(workspace_path: Path) -> None:
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.press("down", "enter")
        await pilot.pause()
        await pilot.press("left", "left", "left")
        cursor = app.screen.view.cursor
        await pilot.press("escape", "f2")
        theme = app.theme
    close_for_restart(app.workspace)
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(140, 30)) as pilot:
        assert app.theme == theme
        assert app.screen.current_id() == IDS[1]
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.view.cursor == cursor
    close_for_restart(app.workspace)


def test_list_search_on_the_command_line(workspace_path: Path) -> None:
    result = run_cli(["--workspace", str(workspace_path), "list", "--json", "--search", "الامن الوطنى"])
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == ["73d8cda007db96f7"]
    assert rows[0]["hits"] >= 1 and "الأمن الوطني" in rows[0]["context"]


def test_assign_splits_with_overlap(workspace_path: Path) -> None:
    from store.team import assign
    # A new process, the real entry point (`assign`'s one); the refusal below runs in this process.
    result = subprocess.run([sys.executable, "-m", "tui.cli", "--workspace", str(workspace_path), "assign",
                             "--annotators", "amina,omar", "--overlap", "0.4"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    saved = assign.load(workspace_path)
    assert sorted(saved) == sorted(IDS)
    assert sum(len(v) == 2 for v in saved.values()) == 2  # 40 % of 5
    assert all(len(set(v)) == len(v) for v in saved.values())
    assert assign.split(IDS, ["amina", "omar"], 0.4) == saved  # deterministic
    bad = run_cli(["--workspace", str(workspace_path), "assign", "--annotators", "amina", "--overlap", "0.5"])
    assert bad.returncode == 1 and "needs at least two annotators" in bad.stderr


async def test_assigned_first_triage_follows_and_teammates_saves_appear(workspace_path: Path) -> None:
    from store.team import assign
    assign.save(workspace_path, assign.split(IDS, ["alice", "bob"], 0.0))
    mine = [i for i, names in assign.load(workspace_path).items() if "alice" in names]
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(140, 30)) as pilot:
        assert set(shown(app)[:len(mine)]) == set(mine)
        # A teammate saves in another process; the running library shows it within seconds.
        body = Workspace.open(workspace_path).article(IDS[1]).body
        subprocess.run([sys.executable, "-c", (
            "import sys; from store import Workspace; ws = Workspace.open(sys.argv[1]); "
            "ws.annotations('bob').set_credibility(sys.argv[2], 1); "
            "ws.annotations('bob').set_state(sys.argv[2], 'done')"),
            str(workspace_path), IDS[1]], check=True)
        for _ in range(60):
            await pilot.pause(0.1)
            if cells(app, IDS[1])["mean"] == "1.0":
                break
        assert cells(app, IDS[1])["mean"] == "1.0"
        assert "team 1/5" in str(app.screen.query_one("#progress-text", Label).render())
        expected = [i for i in shown(app) if i in mine]
        await pilot.press("t")
        await pilot.pause()
        assert app.screen.article.id in mine and app.screen.triage.queue == expected
        assert body  # the teammate's article text was untouched


async def test_large_workspace_shows_every_row_then_the_team_figures(workspace_path: Path, monkeypatch) -> None:
    """The path a 100,000-article workspace takes, forced on the seeds: every article in the table (no cap,
    no "first N shown"), the cursor on the last article opened, the team's figures loaded after the first
    screen, and the cursor kept on its article when the sort changes."""
    from tui.screens import library

    ws = Workspace.open(workspace_path)
    articles = ws.articles()
    ws.annotations("bob").set_credibility(articles[0].id, 2)
    ws.annotations("carol").set_credibility(articles[0].id, 4)
    ws.annotations("bob").set_state(articles[1].id, "done")
    ws.close()
    monkeypatch.setattr(library, "TEAM_IN_BACKGROUND_FROM", 0)
    SessionState(workspace_path, "alice").set("last_article", articles[4].id)
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(140, 30)) as pilot:
        screen = app.screen
        table = screen.query_one(ArticleTable)
        assert len(table.rows) == 5 and screen.current_id() == articles[4].id
        assert "shown" not in str(screen.query_one("#filter-text", Label).render())
        for _ in range(200):  # the team's figures load once the user is idle (App.when_idle), in a thread
            await pilot.pause(0.05)  # (no waiting for workers: a newer read of the team's figures cancels an older)
            row = next(r for r in screen.rows if r.id == articles[0].id)
            if row.credibility_mean is not None:
                break
        assert row.credibility_mean == 3.0  # bob's and carol's, read in the background
        assert "team 1/5" in str(screen.query_one("#progress-text", Label).render())
        before = shown(app)
        await pilot.press("s")  # sort (cycles the key): the rows move, the cursor stays on its article
        await pilot.pause()
        assert shown(app) != before and sorted(shown(app)) == sorted(before)
        assert screen.current_id() == articles[4].id


async def test_a_large_library_rereads_the_team_off_the_ui_thread_when_it_comes_back(workspace_path: Path,
                                                                                    monkeypatch) -> None:
    """At 100,000 articles everyone's figures take ~0.3 s to read: a library that comes back to the screen after
    the workspace changed on disk reads them in the background, as its poll does (at a team's 9:00, twenty sessions
    started at once each read them on the UI thread before). A teammate opening a session (their lock file)
    changes nothing to reread."""
    from store.team.stats import workspace_stamp
    from tui.screens import library

    ws = Workspace.open(workspace_path)
    articles = ws.articles()
    ws.annotations("bob").set_credibility(articles[0].id, 2)
    ws.close()
    monkeypatch.setattr(library, "TEAM_IN_BACKGROUND_FROM", 0)
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(140, 30)) as pilot:
        screen = app.screen

        async def mean() -> float | None:
            for _ in range(200):  # (a newer read of the team's figures cancels an older one: no waiting for workers)
                await pilot.pause(0.05)
                found = next(r for r in screen.rows if r.id == articles[0].id).credibility_mean
                if found not in (None, 2.0):
                    return found
            return None

        stamp = workspace_stamp(app.workspace)
        (workspace_path / "annotations" / "carol.lock").write_text("4242\n", encoding="utf-8")
        assert workspace_stamp(app.workspace) == stamp
        on_ui: list[bool] = []
        monkeypatch.setattr(screen, "reload", lambda team=True: on_ui.append(team))
        app.push_screen(ReaderScreen(articles[1].id))
        await pilot.pause()
        other = Workspace.open(workspace_path)  # bob, in his own session, while alice reads
        other.annotations("bob").set_credibility(articles[0].id, 4)
        other.close()
        app.pop_screen()
        assert await mean() == 4.0 and on_ui == []
