"""Suggestions an annotator rejected, kept so that they do not come back: `suggestions/<annotator>.json`."""

from __future__ import annotations

import json
from pathlib import Path

from store.db.atomic import write_atomic
from store.db.storage import loads
from store.errors import StoreError


class Rejections:
    """Suggestions an annotator rejected, so they do not come back (`suggestions/<annotator>.json`)."""

    def __init__(self, workspace_path: Path, annotator: str) -> None:
        self.path = workspace_path / "suggestions" / f"{annotator}.json"
        try:
            rows = loads(self.path.read_bytes())
        except FileNotFoundError:
            rows = []
        except (OSError, ValueError) as exc:  # (storage.loads turns nesting too deep into a ValueError)
            raise StoreError(f"{self.path}: cannot read rejected suggestions ({exc})") from exc
        if not isinstance(rows, list):
            raise StoreError(f"{self.path}: cannot read rejected suggestions (expected a list, got "
                             f"{type(rows).__name__})")
        for i, r in enumerate(rows):
            if not (isinstance(r, list) and len(r) == 4 and isinstance(r[0], str) and isinstance(r[3], str)
                    and all(isinstance(v, int) and not isinstance(v, bool) for v in r[1:3])):
                raise StoreError(f"{self.path}: rejected suggestion [{i}]: expected [article id, start, end, "
                                 "label]")
        self._keys = {(r[0], r[1], r[2], r[3]) for r in rows}

    def __contains__(self, item: tuple[str, int, int, str]) -> bool:
        return item in self._keys

    def add(self, article_id: str, start: int, end: int, label: str) -> None:
        """Reject a suggestion for good (saved at once)."""
        self._save(self._keys | {(article_id, start, end, label)})

    def _save(self, keys: set[tuple[str, int, int, str]]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(sorted(keys), ensure_ascii=False).encode("utf-8"))
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot save the rejection ({exc.strerror})") from exc
        self._keys = keys
