"""What the app remembers per annotator between runs: last article, cursors, library view, triage, theme."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from store.db.atomic import write_atomic
from store.db.storage import loads

STATE_DIR = "state"
MAX_CURSORS = 500
"""Cursor places kept: the articles most recently left; older ones are forgotten."""


class SessionState:
    """A small JSON document per annotator (`state/<annotator>.json`), saved atomically.

    A change of view (sort, filters, triage, theme) is saved at once; cursor moves are only remembered
    in memory and saved by `save()`, which the app calls on leaving an article, after a pause and on exit.
    It is a convenience: a missing or unreadable file starts fresh instead of stopping the app (`problem`
    says so in one line, and a damaged file is copied to `<annotator>.json.damaged` before it is replaced).
    """

    def __init__(self, workspace_path: Path, annotator: str) -> None:
        self.path = workspace_path / STATE_DIR / f"{annotator}.json"
        self.problem: str | None = None
        """Why the saved state was (partly) not used, one line for the app to show; else None."""
        self._damaged: bytes | None = None
        """The damaged file's bytes, copied to `<annotator>.json.damaged` before the file is first replaced."""
        raw = b""
        try:
            raw = self.path.read_bytes()
            data = loads(raw)
        except FileNotFoundError:
            data = {}
        except (OSError, ValueError) as exc:  # (storage.loads turns nesting too deep into a ValueError)
            data = self._set_aside(raw, f"cannot read ({(str(exc).splitlines() or [type(exc).__name__])[0]})")
        if not isinstance(data, dict):
            data = self._set_aside(raw, f"expected an object, got {type(data).__name__}")
        wrong = _wrong_field(data)
        if wrong is not None:
            self._set_aside(raw, f"field {wrong!r} holds a value of the wrong type", "the app forgets that field")
        while wrong is not None:  # forget each field that would trip the app up (the file is kept)
            data = {k: v for k, v in data.items() if k != wrong.split(".")[0]}
            wrong = _wrong_field(data)
        self.data: dict[str, Any] = data
        if not isinstance(self.data.get("cursors"), dict):
            self.data["cursors"] = {}
        self.dirty = False
        """Changes not yet written (cursor moves)."""

    def _set_aside(self, raw: bytes, why: str,
                   what: str = "the app starts afresh (last article, cursors, library view)") -> dict[str, Any]:
        self._damaged = raw
        self.problem = (f"{self.path}: {why}; {what} (the file is copied to {self.path.name}.damaged before it "
                        "is next saved)")
        return {}

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
            if self._damaged is not None:  # never written over before a copy is kept
                write_atomic(self.path.with_name(self.path.name + ".damaged"), self._damaged)
                self._damaged = None
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


_FIELDS: dict[str, Any] = {
    "theme": str, "last_article": str, "cursors": dict, "library": dict, "library.sort": str,
    "library.reverse": bool, "library.filters": dict, "triage": dict, "triage.queue": list, "triage.position": int,
}
"""The type of each field the app reads (a dotted name is a field inside another); others are kept as they are."""


def _wrong_field(data: dict[str, Any]) -> str | None:
    """The first field the app reads that holds a value of the wrong type, else None."""
    for name, kind in _FIELDS.items():
        outer, _, inner = name.partition(".")
        value = data.get(outer)
        if inner:
            value = value.get(inner) if isinstance(value, dict) else None
        if value is None:
            continue
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            return name
        if name == "library.filters" and not all(
                v is None or (type(v) is int if k.startswith("credibility") else isinstance(v, str))
                for k, v in value.items()):
            return name
        if name == "triage.queue" and not all(isinstance(v, str) for v in value):
            return name
    return None
