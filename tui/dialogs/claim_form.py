"""The claim form: check-worthiness, type, verdict, claimant and a note for a marked claim."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select

from ..bidi import visual_snippet
from .form import FormDialog


class ClaimForm(FormDialog[dict[str, Any]]):
    """Set a claim's attributes; Enter saves, Escape cancels (the claim is not made)."""

    DEFAULT_CSS = """
    ClaimForm { align: center middle; }
    ClaimForm > Vertical { width: 72; height: auto; border: thick $accent; background: $surface; padding: 1 2; }
    ClaimForm Label { margin-top: 1; }
    ClaimForm #quote { color: $text-muted; }
    ClaimForm Horizontal { height: auto; margin-top: 1; }
    """

    def __init__(self, text: str, attributes: dict[str, list[str]], claimants: list[tuple[str, str]],
                 values: dict[str, Any] | None = None, reorder: bool = True) -> None:
        super().__init__()
        self.text = text
        self.attributes = attributes
        self.claimants = claimants
        """(label shown, annotation id) of the article's entities that may be the claimant."""
        self.values = values or {}
        self.reorder = reorder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Claim", classes="title")
            yield Label(visual_snippet(self.text, 66, reorder=self.reorder), id="quote", markup=False)
            for name, choices in self.attributes.items():
                yield Label(name.replace("_", " ").capitalize())
                default = self.values.get(name, choices[0])
                yield Select([(c, c) for c in choices], value=default, allow_blank=False, id=f"attr-{name}")
            yield Label("Claimant")
            yield Select([(visual_snippet(t, 60, reorder=self.reorder), i) for t, i in self.claimants],
                         value=self.values.get("claimant") or Select.NULL, id="claimant",
                         prompt="(none)")
            yield Label("Note")
            yield Input(self.values.get("note") or "", id="note")
            with Horizontal():
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query(Select).first().focus()

    def result(self) -> dict[str, Any]:
        values: dict[str, Any] = {n: self.query_one(f"#attr-{n}", Select).value for n in self.attributes}
        claimant = self.query_one("#claimant", Select).value
        values["claimant"] = None if claimant is Select.NULL else claimant
        values["note"] = self.query_one("#note", Input).value.strip() or None
        return values
