"""Copying text from the app: one way for every copy key (the reader's citation and annotations, the article's
selection)."""

from __future__ import annotations

import pyperclip
from textual.app import App


def copy(app: App, text: str) -> bool:
    """Put `text` on the clipboard through the terminal (OSC 52, which works over SSH) and on the local
    clipboard where there is one (pyperclip); whether the local clipboard took it."""
    app.copy_to_clipboard(text)
    try:
        pyperclip.copy(text)
    except Exception:  # noqa: BLE001 - pyperclip raises its own error types when no clipboard exists (over SSH)
        return False
    return True
