"""Pilot: the agreement screen opens over the library, shows the figures with their n, and Escape goes back."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_agreement import annotate_three
from textual.widgets import DataTable

from store import Workspace
from tui.app import make_app
from tui.screens.agreement import AgreementScreen
from tui.screens.library import LibraryScreen

pytestmark = pytest.mark.usefixtures("quiet_waits")  # Pilot waits for the app, not the clock (conftest.py)


def cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_agreement_screen_shows_numbers_and_goes_back(workspace_path: Path) -> None:
    annotate_three(workspace_path)
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.pause()
        screen = AgreementScreen()
        app.push_screen(screen)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.report is not None
        cred = screen.query_one("#credibility", DataTable)
        rows = cells(cred)
        assert ["Krippendorff's alpha (interval)", "alice, bob, carol", "0.848", "3"] in rows
        assert ["Fleiss' kappa (rated by all)", "alice, bob, carol", "0.077", "2"] in rows
        ents = cells(screen.query_one("#entities", DataTable))
        assert ["alice / bob", "ORG", "1.000", "1.000", "1.000", "1.000", "1.000", "1.000", "1", "1", "4"] in ents
        claims = screen.query_one("#claims", DataTable)
        assert claims.row_count == 3  # three pairs touched common articles
        status = str(screen.query_one("#agreement-status").render())
        assert "not compared: gold, predictions.model" in status
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LibraryScreen)


async def test_agreement_screen_with_chosen_annotators(workspace_path: Path) -> None:
    annotate_three(workspace_path)
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.pause()
        screen = AgreementScreen(["alice", "zed"])
        app.push_screen(screen)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.report is None
        assert "Agreement failed: no annotations by zed" in str(screen.query_one("#agreement-status").render())


async def test_library_key_opens_agreement_once_wired(workspace_path: Path) -> None:
    if not hasattr(LibraryScreen, "action_agreement"):
        pytest.skip("the library has no agreement binding yet")
    annotate_three(workspace_path)
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(140, 50)) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AgreementScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.report is not None and app.screen.report["credibility"]["items"] == 3
