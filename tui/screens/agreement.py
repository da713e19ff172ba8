"""Inter-annotator agreement: the report of `tahqiq agreement` as three tables (credibility, entities,
claims), every figure with the n it rests on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Header, Label

from store import StoreError, Workspace
from store.team.agreement import (
    CLAIM_HEADER,
    CREDIBILITY_HEADER,
    ENTITY_HEADER,
    claim_rows,
    credibility_rows,
    entity_rows,
    report,
)
from tui.screens.base import AppScreen
from tui.widgets.footer import Footer


def compute(workspace_path: Path, annotators: list[str] | None) -> dict[str, Any]:
    """The report on its own Workspace, so it can run in a worker thread without sharing the app's handles."""
    workspace = Workspace.open(workspace_path)
    try:
        return report(workspace, annotators)
    finally:
        workspace.close()


class AgreementScreen(AppScreen):
    """Agreement between annotators on the articles more than one of them did. `r` recomputes."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="agreement-back"),
        Binding("r", "refresh_report", "Recompute", id="agreement-refresh"),
    ]
    DEFAULT_CSS = """
    AgreementScreen VerticalScroll { height: 1fr; }
    AgreementScreen DataTable { height: auto; max-height: 24; margin-bottom: 1; }
    AgreementScreen .section { text-style: bold; margin-top: 1; }
    AgreementScreen #agreement-status { color: $text-muted; }
    """

    def __init__(self, annotators: list[str] | None = None) -> None:
        super().__init__()
        self.annotators = annotators
        self.report: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Label("Computing agreement…", id="agreement-status")
            yield Label("Credibility (1-5) · n: articles", classes="section")
            yield DataTable(id="credibility", cursor_type="row", zebra_stripes=True)
            yield Label("Entities · P, R: A against B · ~ overlap (same label, intersecting, one to one) · "
                        "n: spans · articles: touched by both", classes="section")
            yield DataTable(id="entities", cursor_type="row", zebra_stripes=True)
            yield Label("Claims · spans only", classes="section")
            yield DataTable(id="claims", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        for table_id, header in (("credibility", CREDIBILITY_HEADER), ("entities", ENTITY_HEADER),
                                 ("claims", CLAIM_HEADER)):
            table = self.query_one(f"#{table_id}", DataTable)
            for name in header:
                table.add_column(name, key=name)
        self.query_one("#credibility", DataTable).focus()
        self.action_refresh_report()

    def action_refresh_report(self) -> None:
        """Recompute in a worker thread (it reads every annotator's file)."""
        path = self.app.workspace.path
        annotators = self.annotators

        def run() -> None:
            try:
                result = compute(path, annotators)
            except (StoreError, OSError) as exc:
                self.app.call_from_thread(self._failed, str(exc))
                return
            self.app.call_from_thread(self.show, result)

        self.run_worker(run, thread=True, exclusive=True, group="agreement", name="agreement")

    def _failed(self, message: str) -> None:
        if not self.is_attached:
            return  # the user went back before the worker finished
        self.query_one("#agreement-status", Label).update(f"Agreement failed: {message}")
        self.notify(f"Agreement failed: {message}", severity="error")

    def show(self, result: dict[str, Any]) -> None:
        """Fill the tables from a report (store.team.agreement.report)."""
        if not self.is_attached:
            return
        self.report = result
        for table_id, rows, names in (("credibility", credibility_rows(result), 2),
                                      ("entities", entity_rows(result), 2), ("claims", claim_rows(result), 1)):
            table = self.query_one(f"#{table_id}", DataTable)
            table.clear()
            for row in rows:  # names to the left, figures to the right
                table.add_row(*row[:names], *(Text(cell, justify="right") for cell in row[names:]))
        status = f"annotators: {', '.join(result['annotators']) or 'none'}"
        if result["excluded"]:
            status += f" · not compared: {', '.join(result['excluded'])}"
        cred = result["credibility"]
        fleiss = cred["fleiss"]
        if fleiss is not None and fleiss["items"] < cred["items"]:
            status += (f" · Fleiss' kappa: the {fleiss['items']} of {cred['items']} articles all "
                       f"{len(fleiss['annotators'])} scored")
        if not cred["items"] and not result["entities"]["pairs"]:
            status += " · no article was done by more than one annotator yet"
        self.query_one("#agreement-status", Label).update(status)
