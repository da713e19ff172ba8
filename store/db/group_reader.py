"""A database (its file and journal) read one group at a time through its record index, by a process that does
not write it: for passes over many groups (an export), holding one group's records instead of every record.
`read(group)` gives a group's records parsed and checked; `scan()` walks every group in the file's order and
parses each run of records in one go, for a reader that checks the records itself (store.exchange.stream) and
reads a group with `read` whenever it has a doubt.

The file is held open from the start, so a fold by the writer meanwhile (which replaces the file) does not
change what is read: the file and the journal are one version, as store.db.journal_format.read_database reads
them. `Stale` whenever the index cannot be trusted or a record read through it is not what it says; the caller
then reads the whole files as before (and learns there of any damage). A damaged journal line is the
CorruptFileError the journal's parser raises.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from operator import add
from pathlib import Path
from typing import Any
from zlib import crc32

import orjson

from store.db.journal_format import JOURNAL_SUFFIX, SUMMARY_OP, Check, check_record, parse_journal, read_journal
from store.db.record_index import RecordIndex, Stale
from store.db.storage import file_stamp

Tables = dict[str, dict[str, dict[str, Any]]]
_LINES = 1 << 20
"""Bytes of the index's lines parsed at once by `scan`."""
_GAP = 64
"""Records of a group at most this many bytes apart are read with one pread (`scan`)."""


class GroupReader:
    """`read(group)`: the tables holding that group's records, as the database and its journal say now."""

    def __init__(self, db_path: Path, group: str, check: Check | None = None) -> None:
        self.db_path = Path(db_path)
        self.group = group
        self.check = check
        index = RecordIndex.open(self.db_path)
        if index is None:
            raise Stale("no index fits the database")
        self._index = index
        self._handle = open(self.db_path, "rb")  # noqa: SIM115 - held until close(): this version of the file
        try:
            st = os.fstat(self._handle.fileno())
            if (st.st_ino, st.st_mtime_ns, st.st_size) != tuple(index.stamp):
                raise Stale("the database changed")
            _ino, data = read_journal(self.db_path.with_suffix(JOURNAL_SUFFIX))
            if file_stamp(self.db_path) != index.stamp:
                raise Stale("folded meanwhile")
            ops, _used, _torn = parse_journal(data, self.db_path.with_suffix(JOURNAL_SUFFIX), check=check)
        except BaseException:
            self.close()
            raise
        self._ops: dict[tuple[str, str], list[tuple[int, dict[str, Any] | None]]] = {}
        """(table, key) -> what the journal did to it, in order: (line order, the record put, or None: deleted)."""
        self._put_into: dict[Any, set[tuple[str, str]]] = {}
        for n, op in enumerate(ops):
            if op[0] == SUMMARY_OP:
                continue
            record = op[3] if op[0] == "p" else None
            self._ops.setdefault((op[1], op[2]), []).append((n, record))
            if record is not None:
                self._put_into.setdefault(record.get(group), set()).add((op[1], op[2]))

    def groups(self) -> set[Any]:
        """Every group with a record in the database or put by the journal (some may have none left)."""
        return {place[0] for place in self._index.all_places()} | set(self._put_into)

    def read(self, value: Any) -> Tables:
        """The records of group `value`, table by table, in the order a whole read gives them (the database's,
        then the journal's new keys in its order); Stale: read the whole files instead."""
        tables: Tables = {name: {} for name in self._index.tables}
        for table, key, record in self._index.read(self._handle, value):
            if check_record(self.check, table, record) is not None or record.get(self.group) != value:
                raise Stale(f"record {key} is not one of {value!r}")
            tables[table][key] = record
        keys = {(table, key) for table, rows in tables.items() for key in rows} | self._put_into.get(value, set())
        steps = sorted((n, table, key, record) for table, key in keys for n, record in self._ops.get((table, key), ()))
        for _n, table, key, record in steps:  # the journal replayed over this group, in its order
            rows = tables.setdefault(table, {})
            if record is not None and record.get(self.group) == value:
                rows[key] = record
            else:
                rows.pop(key, None)
        return tables

    def scan(self, wanted: Callable[[Any], bool] | None = None) -> Iterator[tuple[Any, Tables | None]]:
        """Every group of the index (or only those `wanted` says yes to: the others are not read), in the order it
        lists them (the file's), as (group, tables): its records as `read` would give them, parsed but NOT checked
        (the caller checks each one, and reads the group with `read` at any doubt); each record's bytes checked
        against the index's crc32 (Stale otherwise), each run of records lying close together in the file read and
        parsed at once. `tables` is None where the journal changed any of the group's records, or a run does not
        parse as one (then `read` gives them, or says what is wrong). Last, as (group, None), every group (wanted)
        only the journal put records into."""
        index, fd = self._index, self._handle.fileno()
        changed = set(self._ops)
        put_into = self._put_into
        names = index.tables
        seen: set[Any] = set()
        for block in index.line_blocks(_LINES):  # (parsed in bulk, not one by one as RecordIndex.places does)
            if wanted is not None:
                block = _lines_of(block, wanted)
            try:
                lines = orjson.loads(b"[" + block.replace(b"\n", b",") + b"]")
            except orjson.JSONDecodeError as exc:
                raise Stale(f"index lines: {exc}") from exc
            for line in lines:
                try:
                    group, entries = line
                    seen.add(group)
                    if wanted is not None and not wanted(group):
                        continue
                    if group in put_into or changed and any((names[e[0]], str(e[1])) in changed for e in entries):
                        tables = None
                    else:
                        tables = self._tables(fd, names, entries)
                except (TypeError, ValueError, IndexError, OSError) as exc:  # (not [group, [[table, key, offset, ...
                    raise Stale(f"index line {line!r:.80}: {exc}") from exc
                yield group, tables
        for group in put_into:
            if group not in seen and (wanted is None or wanted(group)):
                yield group, None

    @staticmethod
    def _tables(fd: int, names: list[str], entries: list[list]) -> Tables | None:
        """The records at a group's index entries (see `scan`): each run of them, the records of one table a few
        bytes apart (`,"key":` between them, as the file holds a table), read with one pread, its records' crc32s
        checked and the run parsed as one JSON object, whose keys must be the entries' keys."""
        tables, keys, offsets, lengths, crcs = zip(*entries)
        ends = list(map(add, offsets, lengths))
        out: Tables = {name: {} for name in names}
        count, n = len(entries), 0
        while n < count:
            m = n + 1
            while m < count and tables[m] == tables[n] and ends[m - 1] < offsets[m] <= ends[m - 1] + _GAP:
                m += 1
            first = offsets[n]
            run = os.pread(fd, ends[m - 1] - first, first)
            starts = [offset - first for offset in offsets[n:m]]
            if len(run) != ends[m - 1] - first or list(map(crc32, map(run.__getitem__, map(
                    slice, starts, map(add, starts, lengths[n:m]))))) != list(crcs[n:m]):
                raise Stale(f"records of table {names[tables[n]]!r} at {first}: not the bytes indexed")
            try:
                rows = orjson.loads(b"{" + orjson.dumps(str(keys[n])) + b":" + run + b"}")
            except orjson.JSONDecodeError:
                return None  # (one record orjson does not take, say: `read` parses each one as the store does)
            if type(rows) is not dict or list(rows) != list(map(str, keys[n:m])):
                return None
            out[names[tables[n]]].update(rows)
            n = m
        return out

    def close(self) -> None:
        self._handle.close()
        self._index.close()


def _lines_of(block: bytes, wanted: Callable[[Any], bool]) -> bytes:
    """The lines of `block` (index lines `[group,entries]`) but those of the groups `wanted` says no to, told from
    the group's JSON string at the line's start, not parsed: at 100,000 articles an export's two processes each
    parsed every line of every index (~0.6 s), for their share of them. A group that is not a plain string there (an
    escape in it, not a string) is kept, and judged once parsed."""
    kept = []
    for line in block.split(b"\n"):
        if line.startswith(b'["'):
            end = line.find(b'"', 2)
            token = line[2:end]
            if end >= 2 and b"\\" not in token:
                try:
                    if not wanted(token.decode()):
                        continue
                except UnicodeDecodeError:
                    pass
        kept.append(line)
    return b"\n".join(kept)

