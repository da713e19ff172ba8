"""What the app remembers per annotator between runs: last article, cursors, library view, triage, theme."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .atomic import write_atomic

STATE_DIR = "state"


class SessionState:
    """A small JSON document per annotator (`state/<annotator>.json`), saved atomically on each change.

    It is a convenience: a missing or unreadable file starts fresh instead of stopping the app.
    """

    def __init__(self, workspace_path: Path, annotator: str) -> None:
        self.path = workspace_path / STATE_DIR / f"{annotator}.json"
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        self.data: dict[str, Any] = data if isinstance(data, dict) else {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        """Remember `value` under `key` and save (a failed save is ignored: this is not annotation data)."""
        if self.data.get(key) == value:
            return
        self.data[key] = value
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(self.data, ensure_ascii=False).encode("utf-8"))
        except OSError:
            pass

    def cursor(self, article_id: str) -> int | None:
        """Where the cursor was left in an article."""
        return self.data.get("cursors", {}).get(article_id)

    def set_cursor(self, article_id: str, offset: int) -> None:
        self.set("cursors", {**self.data.get("cursors", {}), article_id: offset})
