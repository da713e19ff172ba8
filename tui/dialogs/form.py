"""Base for the small forms: Save (ctrl+s, Enter in a field) returns `result()`, Escape returns None."""

from __future__ import annotations

from typing import Generic, TypeVar

from textual import on
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Button, Input

T = TypeVar("T")


class FormDialog(ModalScreen[T | None], Generic[T]):
    """Subclasses compose their fields plus buttons #save and #cancel, and implement `result()`."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="form-cancel"),
                Binding("ctrl+s", "save", "Save", id="form-save")]

    def result(self) -> T:
        raise NotImplementedError

    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def action_save(self) -> None:
        self.dismiss(self.result())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
