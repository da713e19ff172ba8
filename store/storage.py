"""TinyDB storage that writes atomically, refuses to touch corrupt files, and caches reads."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from .atomic import write_atomic
from .errors import CorruptFileError


class AtomicJSONStorage(Storage):
    """JSON file storage for TinyDB.

    Writes go through `write_atomic`, so the file is always whole. A file that does not parse raises
    `CorruptFileError` naming it, and since TinyDB writes only after a successful read, the damaged file
    is never overwritten. Reads are cached and reused while the file's mtime and size are unchanged.
    """

    def __init__(self, path: str | os.PathLike[str], create: bool = True) -> None:
        self.path = Path(path)
        self._cache: dict[str, Any] | None = None
        self._stamp: tuple[int, int] | None = None
        self.generation = 0
        """Bumped whenever the data may have changed (a write, or a re-read of a changed file)."""
        if create and not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, b"{}")

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def read(self) -> dict[str, Any] | None:
        stamp = self._stat()
        if stamp is None:
            return None
        if self._cache is not None and stamp == self._stamp:
            return self._cache
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise CorruptFileError(f"{self.path}: cannot read: {exc.strerror}") from exc
        if not raw.strip():
            data: Any = {}
        else:
            try:
                data = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise CorruptFileError(f"{self.path}: not a valid database file ({exc})") from exc
        if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
            raise CorruptFileError(f"{self.path}: not a TinyDB database (top level is not tables)")
        self._cache, self._stamp = data, stamp
        self.generation += 1
        return data

    def write(self, data: dict[str, Any]) -> None:
        self._cache = None
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        write_atomic(self.path, payload)
        self._cache, self._stamp = data, self._stat()
        self.generation += 1

    def close(self) -> None:
        self._cache = None
