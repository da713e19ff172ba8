"""`Spool`: what an export's first pass keeps of one annotator (store.exchange.stream), in an anonymous temporary
file, read back by the second pass in article order."""

from __future__ import annotations

import marshal
import os
import tempfile
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any


def spool_file() -> IO[bytes]:
    """An anonymous temporary file (gone when closed) for a Spool."""
    return tempfile.TemporaryFile(prefix="tahqiq-export-", buffering=1 << 20)  # (read back with pread)


@dataclass
class Spool:
    """One annotator's entries (marshal) in a file, read back in article order whatever the order they were
    added in. The entries may be added by another process writing to the same file (`adopt`)."""

    annotator: str
    file: IO[bytes]
    count: int = 0
    _positions: array = field(default_factory=lambda: array("q"))
    _ends: array = field(default_factory=lambda: array("q"))
    _order: list[int] = field(default_factory=list)
    _next: int = 0
    _size: int = 0

    def add(self, position: int, payload: bytes) -> None:
        """An entry, `payload`, for the article at `position` in the export's order."""
        self.file.write(payload)
        self._size += len(payload)
        self._positions.append(position)
        self._ends.append(self._size)
        self.count += 1

    def where(self) -> tuple[bytes, bytes]:
        """The positions and the ends of the entries added, for `adopt` in another process."""
        return self._positions.tobytes(), self._ends.tobytes()

    def adopt(self, positions: bytes, ends: bytes) -> None:
        """The entries another process added to this spool's file (its `where`), as if added here."""
        self._positions.frombytes(positions)
        self._ends.frombytes(ends)
        self.count = len(self._positions)
        self._size = self._ends[-1] if self.count else 0

    @property
    def positions(self) -> array:
        """The position of each entry, in the order they were added."""
        return self._positions

    def rewind(self, start: int = 0, end: int | None = None) -> Iterator[int]:
        """Make ready to read in article order the entries of the articles from position `start` to `end` (not
        included; None: to the last): their positions in that order (`take` gives each entry in turn)."""
        self.file.flush()
        positions = self._positions
        entries: Iterable[int] = range(self.count)
        if start or end is not None:
            entries = [n for n in entries if start <= positions[n] and (end is None or positions[n] < end)]
        self._order = sorted(entries, key=positions.__getitem__)
        self._next = 0
        return map(positions.__getitem__, self._order)

    def take(self) -> tuple[str, Any]:
        """The next entry in article order: (state, what `prepare` made, or the sorted rows)."""
        n = self._order[self._next]
        self._next += 1
        start = self._ends[n - 1] if n else 0
        return marshal.loads(os.pread(self.file.fileno(), self._ends[n] - start, start))
