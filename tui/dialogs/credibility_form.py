"""The credibility form: score, indicators and a note for the article."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, SelectionList

from tui.bidi import display_options
from tui.dialogs.form import FormDialog
from tui.widgets.bidi_input import BidiInput

UNSET = "unset"


class CredibilityForm(FormDialog[dict[str, Any]]):
    """Score, indicators (checkboxes) and a note. The score is "not set" until the user picks one: indicators
    and a note can be saved without it."""

    DEFAULT_CSS = """
    CredibilityForm { align: center middle; }
    CredibilityForm > Vertical { width: 76; max-width: 100%; height: auto;
        border: thick $accent; background: $surface; padding: 1 2; }
    CredibilityForm SelectionList { height: auto; max-height: 10; }
    CredibilityForm RadioSet { layout: horizontal; }
    CredibilityForm Horizontal { height: auto; margin-top: 1; }
    """

    def __init__(self, indicators: list[str], score: int | None, chosen: list[str], note: str | None) -> None:
        super().__init__()
        self.indicators, self.score, self.chosen, self.note = indicators, score, chosen, note

    def compose(self) -> ComposeResult:
        options = display_options(self)
        with Vertical():
            yield Label("Credibility: 1 = not credible … 5 = credible")
            with RadioSet(id="score"):
                yield RadioButton(UNSET, value=self.score is None, id="score-unset")
                for n in range(1, 6):
                    yield RadioButton(str(n), value=n == self.score, id=f"score-{n}")
            yield Label("Indicators")
            yield SelectionList[str](*[(Content(options.snippet(i, 56)), i, i in self.chosen)  # never markup
                                       for i in self.indicators],
                                     id="indicators")
            yield Label("Note")
            yield BidiInput(self.note or "", id="note")
            with Horizontal():
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def result(self) -> dict[str, Any]:
        pressed = self.query_one(RadioSet).pressed_index
        return {"score": pressed if pressed >= 1 else None,
                "indicators": list(self.query_one(SelectionList).selected),
                "note": self.query_one("#note", Input).value.strip() or None}
