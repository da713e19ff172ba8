"""The journal's files on disk: their names, the line format, and what a damaged database still holds.

Files, for a database `annotations/alice.json`:

* `alice.json` - a plain TinyDB JSON file (`{"annotations": {"1": {...}}, "progress": {...}}`): the state
  as of the last *fold*. Replaced atomically (temp file, fsync, rename, fsync folder), never edited;
  `encode_tables` gives its bytes in chunks.
* `alice.journal` - the changes since, one line each: `CRC32HEX JSON\\n` (`encode_line`), where JSON is a list
  of operations `["p", table, doc_id, record]` (put: the whole record) or `["d", table, doc_id]` (delete), and
  the summaries they leave, `["s", "summary", group, value]` (derived data that is not a record: the new summary
  of a group of records, e.g. an article's, or null; see store.annotation.summary). Replaying a put or delete
  twice gives the same state; summary operations are not replayed into the tables.
* `alice.lock` - `flock`ed by the one process that writes alice (store.db.lock); holds "PID HOST" for the
  refusal message.
* `alice.journal.torn` - the torn last line a writer cut off (see below).
* `alice.json.prev`, `alice.journal.prev` - the versions the last fold replaced (`prev_path`).

Reading a journal (`parse_journal`, `read_line`): only whole lines count. A last line without its newline is a
save torn by a crash before it returned (or one being appended right now): it is handed back as the torn tail.
Any other bad line (checksum, not a journal entry, a record `check` refuses) is corruption: CorruptFileError
naming the file and line, or, when reading only to look, the line is skipped and described.

Replaying `alice.journal.prev` and then `alice.journal` over `alice.json.prev` gives the current state at any
instant (replaying lines a database already holds is harmless), so a damaged `alice.json` can be rebuilt
(`recover_tables`, used by read-only opening and `tahqiq doctor`), together with every intact record of the
damaged file itself (`salvage_tables`, a per-record parser of the TinyDB layout).

Functions of bytes and files only: the live store that writes and reads these files is store.db.journal.
"""

from __future__ import annotations

import json
import os
import re
import zlib
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from store.db.storage import dumps, file_stamp, loads, read_tables
from store.errors import CorruptFileError, StoreError

JOURNAL_SUFFIX = ".journal"
LOCK_SUFFIX = ".lock"
TORN_SUFFIX = ".journal.torn"
PREV_SUFFIX = ".prev"
"""`alice.json.prev`, `alice.journal.prev`: the versions the last fold replaced (see the module doc)."""
FOLD_CHUNK = 2000
"""Records encoded per chunk when folding, between which other threads get to run."""

Op = list  # ["p", table, key, record] | ["d", table, key] | ["s", "summary", group, value]
SUMMARY_OP = "s"

Check = Callable[[str, dict[str, Any]], "str | None"]
"""`check(table, record)`: what makes a record unusable, or None."""


def check_record(check: Check | None, table: str, record: Any) -> str | None:
    """What makes a record read from a database file unusable (not a JSON object, or what `check` says), or None."""
    if type(record) is not dict:
        return "not a record"
    return check(table, record) if check is not None else None


def prev_path(path: Path) -> Path:
    """Where the version of `path` (a database or journal) that the last fold replaced is kept."""
    return path.with_name(path.name + PREV_SUFFIX)


def encode_line(ops: list[Op]) -> bytes:
    """The journal line of one save: the CRC32 of the JSON of `ops` in hex, a space, the JSON, a newline."""
    body = dumps(ops)
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def parse_journal(data: bytes, path: Path, first_line: int = 1,
                  damage: list[str] | None = None, check: Check | None = None) -> tuple[list[Op], int, bytes]:
    """(operations, bytes consumed, torn tail) of journal bytes; CorruptFileError on a damaged line, or,
    given a `damage` list (read-only opening), the line is skipped and its description appended there.

    Only whole lines are consumed: the segment after the last newline is the torn tail (a save cut short
    by a crash, or one being appended right now)."""
    ops: list[Op] = []
    pos = 0
    number = first_line
    end = data.rfind(b"\n") + 1
    while pos < end:
        nl = data.index(b"\n", pos)
        line = data[pos:nl]
        problem, batch = read_line(line, check)
        if problem is not None:
            message = f"{path}: line {number}: {problem} (run `tahqiq doctor`)"
            if damage is None:
                raise CorruptFileError(message)
            damage.append(message)
        else:
            ops.extend(batch)
        pos = nl + 1
        number += 1
    return ops, pos, data[pos:]


def read_line(line: bytes, check: Check | None = None) -> tuple[str | None, list[Op]]:
    """(what is wrong with one journal line or None, its operations): the one check that reading the
    journal and `tahqiq doctor` share. `check(table, record)` says what is wrong with a record put, if anything."""
    problem = _check_line(line)
    if problem is not None:
        return problem, []
    try:
        batch = loads(line[9:])
    except ValueError:
        batch = None
    if not isinstance(batch, list) or not all(_valid_op(op) for op in batch):
        return "not a journal entry", []
    for op in batch if check is not None else ():
        why = check(op[1], op[3]) if op[0] == "p" else None
        if why is not None:
            return f"record {op[2]} of table {op[1]!r}: {why}", []
    return None, batch


def _check_line(line: bytes) -> str | None:
    if len(line) < 10 or line[8:9] != b" ":
        return "damaged entry (no checksum)"
    try:
        crc = int(line[:8], 16)
    except ValueError:
        return "damaged entry (bad checksum field)"
    if zlib.crc32(line[9:]) != crc:
        return "damaged entry (checksum mismatch)"
    return None


def _valid_op(op: Any) -> bool:
    if not isinstance(op, list) or len(op) < 3 or not isinstance(op[1], str) or not isinstance(op[2], str):
        return False
    return ((op[0] == "p" and len(op) == 4 and isinstance(op[3], dict)) or (op[0] == "d" and len(op) == 3)
            or (op[0] == SUMMARY_OP and len(op) == 4 and (op[3] is None or isinstance(op[3], list))))


def replay(tables: dict[str, dict[str, dict[str, Any]]], ops: list[Op]) -> None:
    """Apply journal operations to `tables` in place: puts and deletes (summary operations are not records)."""
    for op in ops:
        if op[0] == "p":
            tables.setdefault(op[1], {})[op[2]] = op[3]
        elif op[0] == "d":
            tables.get(op[1], {}).pop(op[2], None)


def encode_tables(tables: dict[str, dict[str, dict[str, Any]]], places: list | None = None,
                  group: str | None = None) -> Iterator[bytes]:
    """A TinyDB JSON file, in chunks of FOLD_CHUNK records (the same bytes as one dumps of the whole).

    `places`: a list to which each record's (value of its `group` field, table number, key, offset, length,
    crc32) is appended, for store.db.record_index."""
    yield b"{"
    at = 1
    for t, (name, rows) in enumerate(tables.items()):
        head = (b"," if t else b"") + dumps(name) + b":{"
        yield head
        at += len(head)
        step = FOLD_CHUNK if places is None else FOLD_CHUNK // 10  # (records encoded one by one: a pause oftener)
        pending = iter(rows.items())  # (a chunk at a time: listing 200,000 items at once held the interpreter ~10 ms)
        i = 0
        while items := list(islice(pending, step)):
            if places is None:
                yield (b"," if i else b"") + dumps(dict(items))[1:-1]
            else:
                parts = []
                for n, (key, record) in enumerate(items):
                    value = dumps(record)
                    piece = (b"," if i or n else b"") + dumps(key) + b":"
                    at += len(piece)
                    places.append((record.get(group) if isinstance(record, dict) else None, t, key, at, len(value),
                                   zlib.crc32(value)))
                    at += len(value)
                    parts += (piece, value)
                yield b"".join(parts)
            i += len(items)
        yield b"}"
        at += 1
    yield b"}"


_PAIR = re.compile(r'\s*"((?:[^"\\]|\\.)*)"\s*:\s*')
_RESYNC = re.compile(r'"(\d+)"\s*:\s*\{|"((?:[^"\\]|\\.)*)"\s*:\s*\{\s*(?="\d+"\s*:\s*\{|\})')
_UNDECODABLE = re.compile("[\udc80-\udcff]")


def salvage_tables(raw: bytes) -> tuple[dict[str, dict[str, dict[str, Any]]], int]:
    """Every intact record of a (damaged) TinyDB JSON file, `{"table": {"1": {...}, ...}, ...}`, read record
    by record, and how many damaged stretches were skipped. A record is intact when it parses whole and holds
    only valid UTF-8; after a damaged stretch, reading resumes at the next `"N": {` record or table."""
    text = raw.decode("utf-8", "surrogateescape")
    decoder = json.JSONDecoder()
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    table: str | None = None
    skipped = 0
    n = len(text)
    pos = len(text) - len(text.lstrip())
    if text.startswith("{", pos):
        pos += 1
    while pos < n:
        while pos < n and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= n:
            break
        if text[pos] == "}":
            table = None
            pos += 1
            continue
        pair = _PAIR.match(text, pos)
        if pair is not None and text.startswith("{", pair.end()):
            try:
                key = json.loads(f'"{pair.group(1)}"')
            except ValueError:
                key = None
            if key is not None and table is None and not key.isdigit():
                table = key
                tables.setdefault(table, {})
                pos = pair.end() + 1
                continue
            if key is not None and table is not None:
                try:
                    value, end = decoder.raw_decode(text, pair.end())
                except (ValueError, RecursionError):  # (a record nested thousands deep is damage too)
                    value, end = None, pos
                if isinstance(value, dict) and not _UNDECODABLE.search(text, pair.end(), end):
                    tables[table][key] = value
                    pos = end
                    continue
        skipped += 1
        found = _RESYNC.search(text, pos + 1)
        if found is None:
            break
        if found.group(1) is None:
            table = None  # a table starts here
        pos = found.start()
    return tables, skipped


def recover_tables(db_path: Path) -> tuple[dict[str, dict[str, dict[str, Any]]], str]:
    """The tables of a damaged database as far as they can be had, before its journal is replayed: every intact
    record of the damaged file, and where the fold kept it, the previous version replayed with the journal it
    was folded with (which wins where both hold a record: the journal replayed afterwards covers both).
    Never raises; also says what it used, in a few words."""
    db_path = Path(db_path)
    try:
        raw = db_path.read_bytes()
    except OSError:
        raw = b""
    salvaged, skipped = salvage_tables(raw)
    intact = sum(len(rows) for rows in salvaged.values())
    how = f"{intact} intact record(s) of the damaged file"
    if skipped:
        how += f", {skipped} damaged stretch(es) skipped"
    base: dict[str, dict[str, dict[str, Any]]] = {}
    prev = prev_path(db_path)
    if prev.exists():
        try:
            base = {name: dict(rows) for name, rows in read_tables(prev)[0].items()}
        except CorruptFileError:
            base = salvage_tables(prev.read_bytes())[0]
        try:
            data = prev_path(db_path.with_suffix(JOURNAL_SUFFIX)).read_bytes()
        except OSError:
            data = b""
        replay(base, parse_journal(data, prev, damage=[])[0])
        how += f" and the previous version ({prev.name} with its journal)"
    for name, rows in salvaged.items():
        into = base.setdefault(name, {})
        for key, record in rows.items():
            into.setdefault(key, record)
    return {name: {k: r for k, r in rows.items() if isinstance(r, dict)} for name, rows in base.items()}, how



def read_journal(journal: Path) -> tuple[int | None, bytes]:
    """(inode, bytes) of a journal file, (None, b"") when there is none; CorruptFileError if it cannot be read."""
    try:
        with open(journal, "rb") as handle:
            return os.fstat(handle.fileno()).st_ino, handle.read()
    except FileNotFoundError:
        return None, b""
    except OSError as exc:
        raise CorruptFileError(f"{journal}: cannot read: {exc.strerror}") from exc


def read_database(db_path: Path, check: Check | None, damage: list[str] | None = None) -> tuple[
        dict[str, dict[str, dict[str, Any]]], list[Op], tuple[int, int, int] | None, int | None, int]:
    """What a reader of a database sees: (its tables, every record checked; the operations of its journal's whole
    lines, not applied; the database's stamp (inode, mtime_ns, size); the journal's inode; the journal bytes
    read), the two files read as one version (again if a fold replaced the database meanwhile).

    A damaged database or line, or a record `check` refuses, is a CorruptFileError; given a `damage` list (a
    read-only opening), what is whole is returned instead (a damaged database: what `recover_tables` gets back)
    and what was left out is described there. No database yet is empty tables."""
    journal = Path(db_path).with_suffix(JOURNAL_SUFFIX)
    for _ in range(20):
        found: list[str] = []
        try:
            tables, stamp = read_tables(db_path)
        except CorruptFileError as exc:
            if not db_path.exists():  # nothing saved yet: created by the first writer (a journal may come first)
                tables, stamp = {}, None
            elif damage is None:
                raise
            else:
                stamp = file_stamp(db_path)
                tables, how = recover_tables(db_path)
                found.append(f"{exc} [showing {how}]")
        j_ino, data = read_journal(journal)
        if file_stamp(db_path) != stamp:
            continue  # folded meanwhile: read both again
        ops, used, _torn = parse_journal(data, journal, damage=found if damage is not None else None, check=check)
        tables = {name: dict(rows) for name, rows in tables.items()}
        for name, rows in tables.items():
            wrong = {k: why for k, r in rows.items() if (why := check_record(check, name, r)) is not None}
            if wrong:
                key, why = next(iter(wrong.items()))
                more = f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""
                problem = f"{db_path}: table {name!r}, record {key}: {why}{more} (run `tahqiq doctor`)"
                if damage is None:
                    raise CorruptFileError(problem)
                found.append(problem)
                tables[name] = {k: r for k, r in rows.items() if k not in wrong}
        if damage is not None:
            damage.extend(found)
        return tables, ops, stamp, j_ino, used
    raise StoreError(f"{db_path}: changing too fast to read (another process folding?)")

