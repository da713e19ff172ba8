"""What the app remembers per annotator between runs: last article, cursors, library view, triage, theme."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .atomic import write_atomic

STATE_DIR = "state"
MAX_CURSORS = 500
"""Cursor places kept: the articles most recently left; older ones are forgotten."""


class SessionState:
    """A small JSON document per annotator (`state/<annotator>.json`), saved atomically.

    A change of view (sort, filters, triage, theme) is saved at once; cursor moves are only remembered
    in memory and saved by `save()`, which the app calls on leaving an article, after a pause and on exit.
    It is a convenience: a missing or unreadable file starts fresh instead of stopping the app.
    """

    def __init__(self, workspace_path: Path, annotator: str) -> None:
        self.path = workspace_path / STATE_DIR / f"{annotator}.json"
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            data = {}
        self.data: dict[str, Any] = data if isinstance(data, dict) else {}
        if not isinstance(self.data.get("cursors"), dict):
            self.data["cursors"] = {}
        self.dirty = False
        """Changes not yet written (cursor moves)."""

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        """Remember `value` under `key` and save (a failed save is ignored: this is not annotation data)."""
        if self.data.get(key) == value:
            return
        self.data[key] = value
        self.dirty = True
        self.save()

    def save(self) -> None:
        """Write what changed since the last save (nothing if nothing did)."""
        if not self.dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(self.data, ensure_ascii=False).encode("utf-8"))
            self.dirty = False
        except OSError:
            pass

    def cursor(self, article_id: str) -> int | None:
        """Where the cursor was left in an article."""
        value = self.data["cursors"].get(article_id)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def set_cursor(self, article_id: str, offset: int) -> None:
        """Remember the cursor in memory (saved by `save`); the most recent MAX_CURSORS articles are kept."""
        cursors: dict[str, int] = self.data["cursors"]
        if cursors.get(article_id) == offset:
            return
        cursors.pop(article_id, None)
        cursors[article_id] = offset  # last in order = most recent
        while len(cursors) > MAX_CURSORS:
            del cursors[next(iter(cursors))]
        self.dirty = True
