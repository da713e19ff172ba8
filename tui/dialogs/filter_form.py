"""The library filter form: state, outlet, date range, credibility range, label present, annotator."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from store.annotation.record import STATES
from store.corpus.importer import normalise_date
from store.team.rows import Filters
from tui.bidi import display_options
from tui.widgets.bidi_input import BidiInput


class FilterForm(ModalScreen[Filters | None]):
    """Choose filters; empty fields mean "any". Returns the new Filters, or None on cancel."""

    DEFAULT_CSS = """
    FilterForm { align: center middle; }
    FilterForm > Vertical { width: 70; max-width: 100%; height: auto;
        border: thick $accent; background: $surface; padding: 1 2; }
    FilterForm Horizontal { height: auto; }
    FilterForm Input { width: 1fr; }
    FilterForm #error { color: $error; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="filter-cancel"),
                Binding("ctrl+s", "apply", "Apply", id="filter-apply")]

    def __init__(self, filters: Filters, sources: list[str], labels: list[str], annotators: list[str]) -> None:
        super().__init__()
        self.filters, self.sources, self.labels, self.annotators = filters, sources, labels, annotators

    def compose(self) -> ComposeResult:
        f = self.filters
        options = display_options(self)
        with Vertical():
            yield Label("State")
            yield Select([(s, s) for s in STATES], value=f.state or Select.NULL,
                         id="state", prompt="any")
            yield Label("Outlet")
            yield Select([(Text(options.snippet(s, 40)), s) for s in self.sources], value=f.source or Select.NULL,
                         id="source", prompt="any")
            yield Label("Date from / to (YYYY-MM-DD)")
            with Horizontal():
                yield BidiInput(f.date_from or "", id="date_from", placeholder="from")
                yield BidiInput(f.date_to or "", id="date_to", placeholder="to")
            yield Label("My credibility from / to (1-5)")
            with Horizontal():
                yield BidiInput(str(f.credibility_min or ""), id="credibility_min", placeholder="1")
                yield BidiInput(str(f.credibility_max or ""), id="credibility_max", placeholder="5")
            yield Label("Has label")
            yield Select([(Text(options.snippet(s, 40)), s) for s in self.labels], value=f.label or Select.NULL,
                         id="label", prompt="any")
            yield Label("Annotated by")
            yield Select([(Text(options.snippet(s, 40)), s) for s in self.annotators],
                         value=f.annotator or Select.NULL, id="annotator",
                         prompt="anyone")
            yield Label("", id="error", markup=False)
            with Horizontal():
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Clear all", id="clear")
                yield Button("Cancel", id="cancel")

    def _select(self, name: str) -> str | None:
        value = self.query_one(f"#{name}", Select).value
        return None if value is Select.NULL else str(value)

    def _filters(self) -> Filters:
        """The filters as entered; ValueError with a message naming the field if one is malformed."""
        values: dict = {name: self._select(name) for name in ("state", "source", "label", "annotator")}
        for name in ("date_from", "date_to"):
            raw = self.query_one(f"#{name}", Input).value.strip()
            try:
                values[name] = normalise_date(raw)
            except ValueError as exc:
                raise ValueError(f"{name.replace('_', ' ')}: {exc}") from None
        for name in ("credibility_min", "credibility_max"):
            raw = self.query_one(f"#{name}", Input).value.strip()
            if raw and (not raw.isdigit() or not 1 <= int(raw) <= 5):
                raise ValueError(f"{name.replace('_', ' ')}: {raw!r} is not 1-5")
            values[name] = int(raw) if raw else None
        return Filters(**values)

    @on(Button.Pressed, "#apply")
    @on(Input.Submitted)
    def action_apply(self) -> None:
        try:
            self.dismiss(self._filters())
        except ValueError as exc:
            options = display_options(self)
            self.query_one("#error", Label).update(options.line(str(exc)))

    @on(Button.Pressed, "#clear")
    def clear(self) -> None:
        self.dismiss(Filters())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
