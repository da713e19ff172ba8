"""A database (its file and journal) read one group at a time through its record index, by a process that does
not write it: for passes over many groups (an export), holding one group's records instead of every record.

The file is held open from the start, so a fold by the writer meanwhile (which replaces the file) does not
change what is read: the file and the journal are one version, as store.db.journal_format.read_database reads
them. `Stale` whenever the index cannot be trusted or a record read through it is not what it says; the caller
then reads the whole files as before (and learns there of any damage). A damaged journal line is the
CorruptFileError the journal's parser raises.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from store.db.journal_format import JOURNAL_SUFFIX, SUMMARY_OP, Check, check_record, parse_journal, read_journal
from store.db.record_index import RecordIndex, Stale
from store.db.storage import file_stamp

Tables = dict[str, dict[str, dict[str, Any]]]


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

    def close(self) -> None:
        self._handle.close()
        self._index.close()

