"""The claim form: check-worthiness, type, verdict, claimant and a note for a marked claim."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select

from tui.bidi import display_options
from tui.dialogs.form import FormDialog
from tui.widgets.bidi_input import BidiInput


class ClaimForm(FormDialog[dict[str, Any]]):
    """Set a claim's attributes, each "(not set)" until chosen; Enter saves, Escape cancels (the claim is not
    made)."""

    DEFAULT_CSS = """
    ClaimForm { align: center middle; }
    ClaimForm > Vertical { width: 72; max-width: 100%; height: auto;
        border: thick $accent; background: $surface; padding: 1 2; }
    ClaimForm Label { margin-top: 1; }
    ClaimForm #quote { color: $text-muted; }
    ClaimForm Horizontal { height: auto; margin-top: 1; }
    """

    def __init__(self, text: str, attributes: dict[str, list[str]], claimants: list[tuple[str, str]],
                 values: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.text = text
        self.attributes = attributes
        self.claimants = claimants
        """(label shown, annotation id) of the article's entities that may be the claimant."""
        self.values = values or {}

    def compose(self) -> ComposeResult:
        options = display_options(self)
        with Vertical():
            yield Label("Claim", classes="title")
            yield Label(options.snippet(self.text, 66), id="quote", markup=False)
            for n, (name, choices) in enumerate(self.attributes.items()):
                # labels.toml text is drawn like article text (sanitised, no markup); ids are by position,
                # since an attribute name may be any string
                yield Label(options.snippet(name.replace("_", " ").capitalize(), 66), markup=False)
                chosen = self.values.get(name)
                yield Select([(Text(options.snippet(c, 60)), c) for c in choices],
                             value=chosen if chosen in choices else Select.NULL, prompt="(not set)", id=f"attr-{n}")
            yield Label("Claimant")
            yield Select([(Text(options.snippet(t, 60)), i) for t, i in self.claimants],
                         value=self.values.get("claimant") or Select.NULL, id="claimant",
                         prompt="(none)")
            yield Label("Note")
            yield BidiInput(self.values.get("note") or "", id="note")
            with Horizontal():
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query(Select).first().focus()

    def result(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for n, name in enumerate(self.attributes):
            value = self.query_one(f"#attr-{n}", Select).value
            if value is not Select.NULL:
                values[name] = value
        claimant = self.query_one("#claimant", Select).value
        values["claimant"] = None if claimant is Select.NULL else claimant
        values["note"] = self.query_one("#note", Input).value.strip() or None
        return values
