"""Where each record of a database file lies, by group (one article's records): `alice.offsets`.

A TinyDB file is one JSON document, which can only be parsed whole. But the files this store writes
(store.db.journal_format.encode_tables) hold each record as one compact JSON value at a place the writer knows as
it writes, so it notes those places here, and one article's records can then be read with a few `pread`s and
parsed alone (store.db.journal.JournalStore opened `lazy` with a `group` field) instead of the whole file.

Layout: a header line, JSON: `{"version", "stamp": the database's [inode, mtime_ns, size], "tables": [name, ...],
"next": {table: next key}, "groups": N, "slots": offset, "crc": crc32 of all that follows}`; then one line per
group, JSON: `[group, [[table number, key, offset, length, crc32], ...]]`; then, at `slots`, N slots of 12 bytes
(crc32 of the group's JSON, offset of its line), sorted, for a binary search. The file is mapped, not read.

Derived data: trusted only while the database has the stamp written in it and the rest of it has its crc32
(checked when it is opened); every record read through it is also checked (its bytes' crc32, the JSON, the
record's group), and any doubt is answered by reading the whole database instead (`RecordIndex.read` raising
`Stale`). Anyone may rebuild it: `index_of` finds the places again in a file this store wrote (not in one TinyDB
itself wrote: its JSON has spaces; that file gets its index when the writer next folds).
"""

from __future__ import annotations

import mmap
import os
import struct
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from store.db.atomic import write_atomic_chunks
from store.db.storage import Stamp, dumps, file_stamp, loads, mapped_crc32

OFFSETS_SUFFIX = ".offsets"
VERSION = 1
_SLOT = struct.Struct("<IQ")

Place = tuple[str, int, str, int, int, int]
"""(group, table number, key, offset, length, crc32) of one record in a database file."""


class Stale(Exception):
    """The index cannot answer (stale, damaged, or a record read through it is not what it says)."""


def offsets_path(db_path: Path) -> Path:
    return Path(db_path).with_suffix(OFFSETS_SUFFIX)


def write_record_index(db_path: Path, places: Iterable[Place], tables: list[str], next_keys: Mapping[str, int],
                       stamp: Stamp, pause: Callable[[], None] | None = None) -> None:
    """Write `alice.offsets` for the database file with `stamp` whose records lie at `places` (OSError if the
    disk refuses: derived data); `pause()` is called every few hundred groups (a background fold's)."""
    groups: dict[str, list[list]] = {}
    for group, table, key, offset, length, crc in places:
        groups.setdefault(group, []).append([table, key, offset, length, crc])
    lines = []
    for n, (group, entries) in enumerate(groups.items()):
        lines.append(dumps([group, entries]) + b"\n")
        if pause is not None and n % 200 == 0:
            pause()
    header_for = {"version": VERSION, "stamp": list(stamp), "tables": tables, "next": dict(next_keys),
                  "groups": len(groups)}
    probe = dumps({**header_for, "slots": 0, "crc": 0}) + b"\n"
    # the header's own length moves the lines: give the numbers room for their digits (padded with spaces)
    width = len(probe) + 30
    at = width + sum(map(len, lines))
    slots, offset = [], width
    for group, line in zip(groups, lines):
        slots.append(zlib.crc32(dumps(group)) << 64 | offset)  # (numbers sort faster than pairs: shorter holds)
        offset += len(line)
    slots.sort()
    packed = b"".join([_SLOT.pack(s >> 64, s & 0xFFFFFFFFFFFFFFFF) for s in slots])
    crc = zlib.crc32(packed, zlib.crc32(b"".join(lines)))
    header = dumps({**header_for, "slots": at, "crc": crc}).ljust(width - 1) + b"\n"
    write_atomic_chunks(offsets_path(db_path), [header, *lines, packed])


class RecordIndex:
    """A mapped `alice.offsets` that fits the database now (`open` gives None otherwise)."""

    def __init__(self, db_path: Path, header: dict[str, Any], data: mmap.mmap | bytes) -> None:
        self.db_path = Path(db_path)
        self.stamp: Stamp = tuple(header["stamp"])  # type: ignore[assignment]
        self.tables: list[str] = list(header["tables"])
        self.next: dict[str, int] = {str(k): int(v) for k, v in header["next"].items()}
        self._count = int(header["groups"])
        self._slots = int(header["slots"])
        self._data = data
        if self._slots + self._count * _SLOT.size != len(data):
            raise Stale("slots do not fill the file")
        if mapped_crc32(data, data.find(b"\n") + 1) != header["crc"]:
            raise Stale("damaged")

    @classmethod
    def open(cls, db_path: Path) -> RecordIndex | None:
        """The index of `db_path` if there is one written for the database as it is now, else None."""
        stamp = file_stamp(db_path)
        try:
            with open(offsets_path(db_path), "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                data: mmap.mmap | bytes = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
            end = data.find(b"\n")
            header = loads(data[:end])
            if header.get("version") != VERSION or stamp is None or header.get("stamp") != list(stamp):
                return None
            return cls(db_path, header, data)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, Stale):
            return None

    _crcs: array | None = None
    _lines: list[int] = []

    def _search_arrays(self) -> tuple[array, list[int]]:
        """The slots' crc32s (for bisection) and line offsets, unpacked once."""
        if self._crcs is None:
            pairs = list(_SLOT.iter_unpack(self._data[self._slots:]))
            self._crcs, self._lines = array("I", [p[0] for p in pairs]), [p[1] for p in pairs]
        return self._crcs, self._lines

    def places(self, group: str) -> list[tuple[str, str, int, int, int]]:
        """(table, key, offset, length, crc32) of each record of `group` (none: []); Stale if unsure."""
        crc = zlib.crc32(dumps(group))
        crcs, lines = self._search_arrays()
        out: list[tuple[str, str, int, int, int]] = []
        for i in range(bisect_left(crcs, crc), self._count):
            if crcs[i] != crc:
                break
            name, entries = self._line(lines[i])
            if name == group:
                for table, key, offset, length, record_crc in entries:
                    out.append((self.tables[table], str(key), int(offset), int(length), int(record_crc)))
        return out

    def all_places(self) -> list[Place]:
        """Every record's place, group by group (for checks)."""
        return list(self._places())

    def _places(self, pause: Callable[[], None] | None = None) -> Iterator[Place]:
        at = self._data.find(b"\n") + 1
        n = 0
        while at < self._slots:
            name, entries = self._line(at)
            for t, k, o, length, c in entries:
                yield name, int(t), str(k), int(o), int(length), int(c)
            at = self._data.find(b"\n", at, self._slots) + 1
            n += 1
            if pause is not None and n % 200 == 0:
                pause()

    def line_blocks(self, size: int) -> Iterator[bytes]:
        """The index's group lines, in blocks of whole lines of about `size` bytes (each without its last
        newline), for a reader that parses many lines at once (store.db.group_reader.scan)."""
        data, at, end = self._data, self._data.find(b"\n") + 1, self._slots
        while at < end:
            stop = data.rfind(b"\n", at, min(at + size, end)) + 1 or data.find(b"\n", at, end) + 1
            if stop <= at:
                raise Stale("an index line without its end")
            yield data[at:stop - 1]
            at = stop

    def places_in_order(self, pause: Callable[[], None] | None = None) -> list[Place]:
        """Every record's place, in the order of the database file (`pause()` every few hundred groups)."""
        by_offset = {place[3]: place for place in self._places(pause)}
        return [by_offset[at] for at in sorted(by_offset)]

    def _line(self, at: int) -> tuple[Any, list]:
        end = self._data.find(b"\n", at, self._slots)
        try:
            name, entries = loads(self._data[at:end])
        except (ValueError, TypeError) as exc:
            raise Stale(f"line at {at}: {exc}") from exc
        return name, entries

    def read(self, handle: Any, group: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(table, key, record) of each record of `group`, read from the open database file `handle`;
        Stale if a record's bytes are not what the index says."""
        out = []
        places = self.places(group)
        if not places:
            return out
        first = min(p[2] for p in places)
        last = max(p[2] + p[3] for p in places)
        span = b""
        if last - first <= 2 * sum(p[3] for p in places) + 4096:  # (close together: one read for them all)
            span = os.pread(handle.fileno(), last - first, first)
        for table, key, offset, length, crc in places:
            raw = span[offset - first:offset - first + length] if span else os.pread(handle.fileno(), length, offset)
            if len(raw) != length or zlib.crc32(raw) != crc:
                raise Stale(f"record {key} of {group!r} at {offset}: not the bytes indexed")
            try:
                record = loads(raw)
            except ValueError as exc:
                raise Stale(f"record {key}: {exc}") from exc
            out.append((table, key, record))
        return out

    def close(self) -> None:
        if isinstance(self._data, mmap.mmap):
            self._data.close()


def index_of(raw: bytes, tables: Mapping[str, Mapping[str, Mapping[str, Any]]], group: str) -> list[Place] | None:
    """Where each record of `tables` lies in `raw`, the database file they were read from, if that file is
    exactly what this store writes for them (store.db.journal_format.encode_tables); else None."""
    from store.db.journal_format import encode_tables  # (journal_format imports this module)

    places: list[Place] = []
    at = 0
    for chunk in encode_tables(tables, places, group):
        if raw[at:at + len(chunk)] != chunk:
            return None
        at += len(chunk)
    return places if at == len(raw) else None


def next_keys(tables: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """Table -> one more than its highest numeric key (where a writer numbers new records from)."""
    return {name: max((int(k) for k in rows if k.isdigit()), default=0) + 1 for name, rows in tables.items()}


def rebuild_record_index(db_path: Path, group: str) -> bool:
    """Write the index of `db_path` as it is now (for tools that write databases themselves); False when the
    file is not laid out as this store writes it (then it has none until its writer folds it). OSError if the
    disk refuses, CorruptFileError on a damaged database. The caller makes sure no writer changes it meanwhile."""
    from store.db.storage import read_tables

    raw = Path(db_path).read_bytes()
    tables, stamp = read_tables(db_path)
    places = index_of(raw, tables, group)
    if places is None or not all(isinstance(p[0], str) for p in places) or file_stamp(db_path) != stamp:
        return False
    write_record_index(db_path, places, list(tables), next_keys(tables), stamp)
    return True
