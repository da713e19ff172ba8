"""A TinyDB database plus an append-only journal of changes: saves cost one small fsynced append.

The files and the line format are store.db.journal_format's; this module keeps them live. A JournalStore holds
the tables of one database (the database file, then every complete journal line replayed over it) with field
indexes. A save appends one line with one `os.write` and `fdatasync`s it before returning, so a line holds one
save whole. Replaying a put or delete twice gives the same state, so replaying a journal over a database that
already contains some of its lines is harmless: that is what makes folding crash-safe.

Writing: one process per database, the one holding the flock of `alice.lock` (store.db.lock; the lock dies
with the process, so a killed process never leaves a stale lock); another is refused with LockedError naming
it. A torn last line (a save cut short by a crash before it returned) is ignored by readers and cut off by the
next writer after a copy is kept in `alice.journal.torn`. A damaged line is a CorruptFileError naming the file
and line, files left untouched; a read-only opening shows what is whole instead (a damaged database: what
`recover_tables` gets back). Readers in other processes notice changes by stat (journal inode/size, database
inode/mtime/size) and read only the new journal lines.

Folding (writer only): when the journal passes FOLD_BYTES (in a background thread) and on close (not a database
over WHOLE_READ_BYTES that this writer read only by group). A
snapshot of the tables is written to a new database file; then the journal lines appended meanwhile are
copied to a fresh journal that atomically replaces the old one. A kill between the two steps leaves the
new database with the old journal, which replays to the same state. Before the database and the journal are
replaced, each is kept as its `.prev` version (hard links, no copy), from which `recover_tables` rebuilds.

One store per file and mode in a process: `open_store` hands out the shared instance (every Workspace of the
process uses it) and `release_store` closes it with its last user; `database_names` lists a folder's databases.

Reading by group (a writer opened `lazy` with a `group` field, while the database has its record index,
store.db.record_index, written at each fold): the journal is read whole, and a group's records (an article's) are
read from the database when a lookup first asks for them, skipping the keys the journal changed; whatever cannot
be answered so (`tables`, a fold, an index that turns out wrong) reads the whole database as above.

One file because JournalStore is one object whose reading, writing and folding share its lock, its journal offset
and its file stamps; what can be said without them (the format, recovery, the record index) is in
store.db.journal_format and store.db.record_index.
"""

from __future__ import annotations

import mmap
import os
import sys
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from store.db.atomic import (
    create_exclusive,
    fsync_dir,
    keep_version,
    remove_stale_temp_files,
    write_atomic,
    write_atomic_chunks,
)
from store.db.journal_format import (
    JOURNAL_SUFFIX,
    LOCK_SUFFIX,
    SUMMARY_OP,
    TORN_SUFFIX,
    Check,
    Op,
    check_record,
    encode_line,
    encode_tables,
    parse_journal,
    prev_path,
    read_database,
    read_journal,
)
from store.db.lock import open_lock, read_holder, try_lock, write_holder
from store.db.record_index import RecordIndex, Stale, write_record_index
from store.db.storage import cannot_save, file_stamp, loads, quiet_gc
from store.errors import LockedError, StoreError, UnsavedError

FOLD_BYTES = 4 * 2**20
"""Journal size past which the writer folds it into the database (in the background)."""
PAUSE_EVERY = 200
"""Records a background fold handles between two pauses (a save waiting for the interpreter gets it then)."""
FOLD_SWITCH_INTERVAL = 0.001
"""Seconds between the interpreter's thread switches while a background fold runs (see `_fold_quietly`). In
alternating runs at 200,000 annotations, the save p99 during a fold was 3.1-4.0x the fsync floor with Python's
5 ms and 2.2-3.8x with 1 ms (noisy; 0.5 ms did no better)."""
WHOLE_READ_BYTES = 16 * 2**20
"""Database size past which a writer that read it only by group does not fold on closing (folding reads the whole
file: at 100,000 articles seconds and hundreds of MB, to say what the journal already says); FOLD_BYTES still
folds it."""



class JournalStore:
    """The live tables of one database (file + journal), with field indexes; one writer process at most.

    Use `open_store` to get the process-wide shared instance for a path. All methods are thread-safe.
    `read_only`: never writes, and reads damaged files as far as they are whole (what it skipped is in
    `damage`), so a user can still see their work while `tahqiq doctor` or a backup repairs it.
    `keep_unsaved`: a save that fails (disk full, read-only folder) is kept in memory, applied, and written
    by `flush` once it can be (the app's mode); otherwise a failed save changes nothing.
    `lazy` (a writer only): the database is read when `tables`, a lookup or a save first needs it, not when
    opened; taking the lock then reads (and checks) only the journal. For a database known to be the one the
    last fold wrote (store.annotation.annotation_set decides), so that an app shows its first screen first.
    `group`, with `lazy`: the field (an indexed one, in every table) by which records are read a group at a time
    while the database has its record index (store.db.record_index, written at each fold): a lookup by that
    field reads that group's records and the journal, not the whole file; so does a lookup by a field in
    `unique` that finds its record among those read. Anything else (`tables`, a fold) reads the whole file.
    """

    def __init__(self, db_path: Path, owner: str, indexes: dict[str, tuple[str, ...]] | None = None,
                 read_only: bool = False, check: Check | None = None, lazy: bool = False,
                 group: str | None = None, unique: tuple[str, ...] = ()) -> None:
        self.check = check
        """`check(table, record)`: what makes a record read from the files unusable, or None (see
        store.annotation.annotation_set)."""
        self.db_path = Path(db_path)
        self.journal_path = self.db_path.with_suffix(JOURNAL_SUFFIX)
        self.lock_path = self.db_path.with_suffix(LOCK_SUFFIX)
        self.owner = owner
        self.lock = threading.RLock()
        self._tables: dict[str, dict[str, dict[str, Any]]] = {}
        self._index_fields = indexes or {}
        self._index: dict[tuple[str, str], dict[Any, dict[str, None]]] = {}
        self._loaded = False
        self._group = group
        self._unique = unique
        self._by_group = lazy and group is not None and not read_only
        """Read by group again after each fold, through the new file's index (what the fold read is let go)."""
        self._partial: RecordIndex | None = None
        """While only some groups are read (see `group`): the database's record index."""
        self._groups_read: set[Any] = set()
        self._journal_keys: set[tuple[str, str]] = set()
        """(table, key) of every record the journal put or deleted since the database was written: the
        database's version of these is not read into a group."""
        self._journal_groups: set[Any] = set()
        """The groups the journal's lines name (records put, and their summary operations): where the database's
        versions of `_journal_keys` lie."""
        self._next: dict[str, int] = {}
        self._db_stamp: tuple[int, int, int] | None = None
        self._j_ino: int | None = None
        self._j_off = 0
        self._lock_fd: int | None = None
        self._j_fd: int | None = None
        self._tail_dirty = False
        self._fold_thread: threading.Thread | None = None
        self._fold_lock = threading.Lock()
        self.generation = 0
        self.refs = 0
        self.read_only = read_only
        self.damage: list[str] = []
        """What a read-only opening skipped (one line each: file, line, what is wrong)."""
        self.keep_unsaved = False
        self._unsaved: list[tuple[bytes, list[Op]]] = []
        self.save_error: str | None = None
        """Why the changes in `unsaved` could not be written yet (None when everything is saved)."""
        self.after_fold: Callable[[dict[str, dict[str, dict[str, Any]]], tuple], None] | None = None
        """Called by the writer after each fold with the tables folded and `position()` just after: to write
        what is derived from them (store.annotation.summary); what it raises is ignored (derived data)."""
        if not lazy or read_only:
            self._load_full()

    @property
    def tables(self) -> dict[str, dict[str, dict[str, Any]]]:
        """The tables (table -> key -> record), read from the files on first use when opened `lazy`."""
        self._ensure_loaded()
        return self._tables

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            with self.lock:
                if not self._loaded:
                    self._load_full()

    def _ensure_group(self, value: Any) -> None:
        """The records whose `group` field is `value` read (the whole database when it cannot be by group)."""
        if self._loaded:
            return
        with self.lock:
            if self._loaded or (self._partial is not None and value in self._groups_read):
                return
            if self._partial is None and not self._start_partial():
                self._load_full()
                return
            try:
                self._read_group(value)
            except Stale:
                self._load_full()

    def _start_partial(self) -> bool:
        """Begin reading by group: the database's record index and the whole journal (False: no index fits)."""
        if self._group is None or self.read_only:
            return False
        index = RecordIndex.open(self.db_path)
        if index is None:
            return False
        j_ino, data = read_journal(self.journal_path)
        if file_stamp(self.db_path) != index.stamp:
            index.close()
            return False
        ops, used, _torn = parse_journal(data, self.journal_path, check=self.check)
        self._tables, self._index, self._groups_read, self._journal_keys = {}, {}, set(), set()
        self._journal_groups = set()
        for table, fields in self._index_fields.items():
            for f in fields:
                self._index[(table, f)] = {}
        self._next = dict(index.next)
        self._partial, self._loaded = index, False
        self._db_stamp, self._j_ino, self._j_off = index.stamp, j_ino, used
        for op in ops:
            self._apply(op)
        for _line, unsaved in self._unsaved:
            for op in unsaved:
                self._apply(op)
        self.generation += 1
        return True

    def _read_group(self, value: Any) -> None:
        assert self._partial is not None and self._group is not None
        with open(self.db_path, "rb") as handle:
            if file_stamp(self.db_path) != self._partial.stamp:
                raise Stale("the database changed")
            found = self._partial.read(handle, value)
        rows: list[tuple[str, str, dict[str, Any]]] = []
        for table, key, record in found:
            if check_record(self.check, table, record) is not None or record.get(self._group) != value:
                raise Stale(f"record {key} is not one of {value!r}")  # the whole file is read, and judged
            if (table, key) not in self._journal_keys:
                rows.append((table, key, record))
        for table, key, record in rows:
            self._tables.setdefault(table, {})[key] = record
            self._index_add(table, key, record)
        self._groups_read.add(value)

    def changes(self, table: str) -> tuple[tuple, list[tuple[dict[str, Any] | None, dict[str, Any] | None]]] | None:
        """While reading by group: ((database stamp, journal inode), [(the database's version, the version now)
        of each record of `table` the journal changed]) without reading the whole database (read whole with an
        empty journal: no change); None otherwise, or when a changed record's place in the database is unknown."""
        with self.lock:
            if self._loaded and self._j_off == 0 and self._unsaved == []:
                return (self._db_stamp, self._j_ino), []  # read whole, and nothing saved since it was written
            if not self._loaded and self._partial is None and not self._start_partial():
                return None
            index = self._partial
            if index is None:
                return None
            before: dict[str, dict[str, Any]] = {}
            try:
                with open(self.db_path, "rb") as handle:
                    if file_stamp(self.db_path) != index.stamp:
                        return None
                    for group in self._journal_groups:
                        before.update((key, record) for t, key, record in index.read(handle, group) if t == table)
            except (OSError, Stale):
                return None
            out = []
            rows = self._tables.get(table, {})
            for t, key in self._journal_keys:
                if t != table:
                    continue
                old = before.get(key)
                if old is None and _int(key) < index.next.get(table, 1):
                    return None  # deleted by a line that does not name its group: where was it?
                out.append((old, rows.get(key)))
            return (index.stamp, self._j_ino), out

    def record(self, table: str, key: str) -> dict[str, Any] | None:
        """The record of `table` at `key`, or None; reads the whole database only for a key that neither a
        group read so far nor the journal holds and that it may hold."""
        with self.lock:
            found = self._tables.get(table, {}).get(key)
            if found is not None or self._loaded:
                return found
            if self._partial is not None and ((table, key) in self._journal_keys
                                               or _int(key) >= self._partial.next.get(table, 1)):
                return None
            return self.tables.get(table, {}).get(key)

    def loaded(self, table: str) -> dict[str, dict[str, Any]]:
        """The records of `table` read so far (all of them unless reading by group): for the keys a lookup
        just gave. Do not modify it."""
        return self._tables.setdefault(table, {})

    # ----- reading --------------------------------------------------------------------------------
    def _ensure_db(self) -> None:
        if self.db_path.exists():
            return
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            create_exclusive(self.db_path, b"{}")
        except OSError as exc:
            raise StoreError(f"{self.db_path}: cannot create ({exc.strerror or exc})") from exc

    def _load_full(self) -> None:
        with quiet_gc():
            self._load_full_once()

    def _load_full_once(self) -> None:
        self.damage = []
        tables, ops, stamp, j_ino, used = read_database(self.db_path, self.check,
                                                        self.damage if self.read_only else None)
        self._tables = tables
        self._loaded = True
        if self._partial is not None:
            self._partial.close()
            self._partial, self._groups_read, self._journal_keys = None, set(), set()
        self._db_stamp, self._j_ino, self._j_off = stamp, j_ino, used
        self._reindex()
        for op in ops:
            self._apply(op)
        for _line, unsaved in self._unsaved:  # kept in memory: still this process's latest word
            for op in unsaved:
                self._apply(op)
        self.generation += 1

    def _reindex(self) -> None:
        self._index = {}
        self._next = {}
        for table, fields in self._index_fields.items():
            for f in fields:
                self._index[(table, f)] = {}
        for table, rows in self._tables.items():
            top = 0
            for key, record in rows.items():
                self._index_add(table, key, record)
                top = max(top, _int(key))
            self._next[table] = top + 1

    def _index_add(self, table: str, key: str, record: dict[str, Any]) -> None:
        for f in self._index_fields.get(table, ()):
            value = record.get(f)
            try:
                self._index[(table, f)].setdefault(value, {})[key] = None
            except TypeError:  # unhashable value: not indexed (never matched by a lookup)
                pass

    def _index_remove(self, table: str, key: str, record: dict[str, Any]) -> None:
        for f in self._index_fields.get(table, ()):
            try:
                bucket = self._index[(table, f)].get(record.get(f))
            except TypeError:
                continue
            if bucket is not None:
                bucket.pop(key, None)
                if not bucket:
                    del self._index[(table, f)][record.get(f)]

    def _apply(self, op: Op) -> None:
        if self._partial is not None:
            if op[0] == SUMMARY_OP:
                self._journal_groups.add(op[2])
            elif op[0] == "p" and isinstance(op[3].get(self._group), str):
                self._journal_groups.add(op[3][self._group])
        if op[0] == SUMMARY_OP:
            return  # derived data for readers that skip the records (store.annotation.summary)
        table, key = op[1], op[2]
        if self._partial is not None:
            self._journal_keys.add((table, key))
        rows = self._tables.setdefault(table, {})
        old = rows.get(key)
        if old is not None:
            self._index_remove(table, key, old)
        if op[0] == "p":
            rows[key] = op[3]
            self._index_add(table, key, op[3])
            self._next[table] = max(self._next.get(table, 1), _int(key) + 1)
        else:
            rows.pop(key, None)

    def refresh(self) -> None:
        """Catch up with what another process saved (cheap: two stats when nothing changed)."""
        with self.lock:
            if self._lock_fd is not None or not (self._loaded or self._partial is not None):
                return  # the writer holds the lock: nobody else changes these files; or not read yet
            self._catch_up()

    def _scan_journal(self) -> None:
        """The journal's inode and whole-line length, every line checked (CorruptFileError as when loading),
        without reading the database: what a writer opened `lazy` needs to take the lock."""
        j_ino, data = read_journal(self.journal_path)
        _, used, _torn = parse_journal(data, self.journal_path, check=self.check)
        self._j_ino, self._j_off = j_ino, used

    def _catch_up(self) -> None:
        """Read what changed on disk since the last read: the new journal lines, or all if folded meanwhile."""
        with self.lock:
            db = file_stamp(self.db_path)
            if db != self._db_stamp:
                self._load_full()
                return
            j = file_stamp(self.journal_path)
            ino, size = (j[0], j[2]) if j else (None, 0)
            if ino != self._j_ino or size < self._j_off:
                self._load_full()
            elif size > self._j_off:
                try:
                    with open(self.journal_path, "rb") as handle:
                        if os.fstat(handle.fileno()).st_ino != self._j_ino:
                            self._load_full()  # replaced (folded) between the stat and the open
                            return
                        handle.seek(self._j_off)
                        data = handle.read(size - self._j_off)
                except FileNotFoundError:
                    self._load_full()
                    return
                ops, used, _torn = parse_journal(data, self.journal_path,
                                                 damage=self.damage if self.read_only else None, check=self.check)
                for op in ops:
                    self._apply(op)
                self._j_off += used
                if ops:
                    self.generation += 1

    def position(self) -> tuple:
        """(database (inode, mtime_ns, size), journal inode, journal bytes read): what the tables hold now
        (with `tables`, under `lock`; for derived files that readers check against the files)."""
        with self.lock:
            self._ensure_loaded()
            return (self._db_stamp, self._j_ino, self._j_off)

    def keys(self, table: str, field: str, value: Any) -> list[str]:
        """Keys of the records of `table` whose `field` equals `value` (an indexed field), in key order."""
        with self.lock:
            if field == self._group:
                self._ensure_group(value)
            elif not self._loaded:
                if self._partial is None or field not in self._unique or not self._lookup(table, field, value):
                    self._ensure_loaded()
            return self._lookup(table, field, value)

    def _lookup(self, table: str, field: str, value: Any) -> list[str]:
        try:
            return sorted(self._index[(table, field)].get(value, ()), key=_int)
        except TypeError:
            return []

    def next_key(self, table: str) -> str:
        with self.lock:
            if self._partial is None:
                self._ensure_loaded()
            return str(self._next.get(table, 1))

    # ----- writing --------------------------------------------------------------------------------
    def acquire(self) -> None:
        """Become this database's writer, or StoreError naming the process that already is."""
        with self.lock:
            if self._lock_fd is not None:
                return
            if self.read_only:
                raise StoreError(f"{self.db_path}: opened read-only; nothing can be saved "
                                 f"(run `tahqiq doctor`, then open it again)")
            try:
                fd = open_lock(self.lock_path)
            except OSError as exc:
                raise cannot_save(self.db_path, exc) from exc
            try:
                taken = try_lock(fd)
            except OSError as exc:
                os.close(fd)
                raise cannot_save(self.lock_path, exc) from exc
            if not taken:
                pid, host = (read_holder(self.lock_path) + ["?", "?"])[:2]
                os.close(fd)
                raise LockedError(f"annotator {self.owner} is already open in process {pid} on {host}")
            write_holder(fd)  # only for the message another process shows
            self._lock_fd = fd
            for path in (self.db_path, self.journal_path, self.db_path.with_suffix(TORN_SUFFIX),
                         prev_path(self.db_path), prev_path(self.journal_path)):
                remove_stale_temp_files(path)  # a killed writer's (only this annotator's writers make them)
            try:
                self._ensure_db()
                if self._loaded or self._partial is not None:
                    self._catch_up()  # what the previous writer saved last
                else:
                    self._scan_journal()  # (the database is read when first needed)
                self._cut_torn_tail()
                created = not self.journal_path.exists()
                self._j_fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
                if created:
                    fsync_dir(self.journal_path.parent)
                    self._j_ino = os.fstat(self._j_fd).st_ino
            except BaseException as exc:
                self._release_lock()
                if isinstance(exc, OSError):
                    raise cannot_save(self.journal_path, exc) from exc
                raise
            if self._j_off > FOLD_BYTES:
                self._start_fold()

    def _cut_torn_tail(self) -> None:
        try:
            size = os.stat(self.journal_path).st_size
        except FileNotFoundError:
            return
        if size <= self._j_off:
            return
        with open(self.journal_path, "rb") as handle:
            handle.seek(self._j_off)
            torn = handle.read()
        write_atomic(self.db_path.with_suffix(TORN_SUFFIX), torn)
        os.truncate(self.journal_path, self._j_off)
        fd = os.open(self.journal_path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def write(self, ops: list[Op]) -> None:
        """Save `ops` as one journal line (durable when this returns), then apply them in memory.

        With `keep_unsaved`, a save that cannot be written is applied anyway and kept for `flush`; the
        caller learns of it from `unsaved` and `save_error`, and no exception interrupts its work."""
        with self.lock:
            try:
                line = encode_line(ops)
            except ValueError as exc:
                raise StoreError(f"{self.journal_path}: cannot save ({exc}); nothing was changed") from exc
            if self._partial is None:
                self._ensure_loaded()
            if self.keep_unsaved and not self.read_only:
                self._unsaved.append((line, ops))
                for op in ops:
                    self._apply(op)
                self.generation += 1
                try:
                    self.flush()
                except UnsavedError:
                    pass  # kept; the app shows `save_error` and calls flush again
                return
            self.acquire()
            self.refresh()
            self._append(line)
            for op in ops:
                self._apply(op)
            self.generation += 1

    @property
    def unsaved(self) -> int:
        """How many saves are kept in memory, waiting for the disk (see `keep_unsaved`)."""
        return len(self._unsaved)

    def flush(self) -> None:
        """Write the saves kept in memory, in one append; UnsavedError (they stay kept) if it still fails."""
        with self.lock:
            if not self._unsaved:
                return
            try:
                self.acquire()
                self._append(b"".join(line for line, _ in self._unsaved))
            except StoreError as exc:
                self.save_error = str(exc).split("; nothing was changed")[0]
                raise UnsavedError(f"{self.save_error}; {len(self._unsaved)} change(s) kept in memory, "
                                   "saved as soon as the disk allows") from exc
            self._unsaved.clear()
            self.save_error = None

    def _append(self, data: bytes) -> None:
        """Append whole lines to the journal and fdatasync them; on failure cut back what landed."""
        assert self._j_fd is not None
        if self._tail_dirty:
            try:
                os.ftruncate(self._j_fd, self._j_off)
                self._tail_dirty = False
            except OSError as exc:
                raise cannot_save(self.journal_path, exc) from exc
        try:
            done = os.write(self._j_fd, data)
            while done < len(data):
                done += os.write(self._j_fd, data[done:])
            os.fdatasync(self._j_fd)
        except OSError as exc:
            try:
                os.ftruncate(self._j_fd, self._j_off)
            except OSError:
                self._tail_dirty = True
            raise cannot_save(self.journal_path, exc) from exc
        self._j_off += len(data)
        if self._j_off > FOLD_BYTES:
            self._start_fold()

    # ----- folding --------------------------------------------------------------------------------
    def _start_fold(self) -> None:
        if self._fold_thread is not None and self._fold_thread.is_alive():
            return
        self._fold_thread = threading.Thread(target=self._fold_quietly, name=f"fold-{self.owner}", daemon=True)
        self._fold_thread.start()

    def _fold_quietly(self) -> None:
        # While it runs, the interpreter switches threads every FOLD_SWITCH_INTERVAL instead of every 5 ms: a save
        # whose write or fsync gave the interpreter up waits that long at most to get it back from the fold.
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, FOLD_SWITCH_INTERVAL))
        try:
            self.fold(background=True)
        except Exception:  # noqa: BLE001 - every save is still in the journal; folding is retried
            pass
        finally:
            sys.setswitchinterval(switch)

    def fold(self, background: bool = False, force: bool = False) -> bool:
        """Write the tables to the database file and empty the journal; False if there was nothing to do
        (`force`: write them even with an empty journal, e.g. to give the database its record index).

        One fold at a time (a background and an explicit one must not interleave: the later would copy the
        journal from an offset of the file the earlier one replaced). Never called holding `self.lock`."""
        # Garbage collection paused (the process's) while it runs: a fold makes hundreds of thousands of short-lived
        # objects (freed as they go, without cycles), and each full collection they set off walked every record the
        # process holds, holding the interpreter 15-90 ms while a save waited for it (measured at 200,000
        # annotations: the slowest save during a background fold 100-120 ms before, ~20 ms after).
        with self._fold_lock, quiet_gc(freeze=False):
            done = self._fold(background, force)
            if done and self._by_group:
                with self.lock:
                    if self._lock_fd is not None and not self._unsaved:
                        self._start_partial()  # (False if the index could not be written: read whole when needed)
            return done

    def _tables_by_index(self, index: RecordIndex, pause: Callable[[], None] | None
                         ) -> dict[str, dict[str, dict[str, Any]]] | None:
        """The database's tables, read record by record through `index` (`pause()` every PAUSE_EVERY records);
        None if a record is not what the index says (the caller then reads the whole file)."""
        tables: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in index.tables}
        try:
            with open(self.db_path, "rb") as handle:
                if file_stamp(self.db_path) != index.stamp:
                    return None
                data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if index.stamp[2] else b""
            for n, (_group, table, key, offset, length, crc) in enumerate(index.places_in_order(pause)):
                raw = data[offset:offset + length]
                if zlib.crc32(raw) != crc:
                    return None
                record = loads(raw)
                if check_record(self.check, index.tables[table], record) is not None:
                    return None
                tables[index.tables[table]][key] = record
                if pause is not None and n % PAUSE_EVERY == 0:
                    pause()
        except (OSError, ValueError, IndexError, Stale):
            return None
        return tables

    def indexed(self) -> bool:
        """Whether the database has a record index that fits it (store.db.record_index), or needs none."""
        if self._group is None:
            return True
        index = RecordIndex.open(self.db_path)
        if index is not None:
            index.close()
        return index is not None

    def _fold(self, background: bool, force: bool = False) -> bool:
        pause = (lambda: time.sleep(0)) if background else None
        with self.lock:
            if self._lock_fd is None or (self._j_off == 0 and not force) or self._unsaved:
                return False  # (with saves still waiting for the disk, the database waits too)
            index = self._partial if not self._loaded else None
        # Read by group: the database's records are read one by one through the index, without the lock (only
        # this writer, holding `_fold_lock`, replaces the file) and letting saves run between them.
        read = self._tables_by_index(index, pause) if index is not None else None
        with self.lock:
            if self._lock_fd is None or self._unsaved:
                return False
            if read is not None and self._partial is index and not self._loaded:
                snapshot = read
                for table, key in sorted(self._journal_keys, key=lambda tk: (tk[0], _int(tk[1]))):  # as of now
                    record = self._tables.get(table, {}).get(key)
                    if record is None:
                        snapshot.get(table, {}).pop(key, None)
                    else:
                        snapshot.setdefault(table, {})[key] = record
            else:
                snapshot = {name: dict(rows) for name, rows in self.tables.items()}
            upto = self._j_off
            next_keys = dict(self._next)
        places: list | None = [] if self._group is not None else None
        try:
            keep_version(self.db_path, prev_path(self.db_path))
            write_atomic_chunks(self.db_path, encode_tables(snapshot, places, self._group), pause=pause)
        except OSError as exc:
            raise cannot_save(self.db_path, exc) from exc
        if places is not None and all(isinstance(p[0], str) for p in places):
            try:  # derived: without it, the next writer reads the whole file
                write_record_index(self.db_path, places, list(snapshot), next_keys, file_stamp(self.db_path), pause)
            except OSError:
                pass
        with self.lock:
            if self._lock_fd is None:
                return False
            with open(self.journal_path, "rb") as handle:
                handle.seek(upto)
                tail = handle.read(self._j_off - upto)
            try:
                keep_version(self.journal_path, prev_path(self.journal_path))
                write_atomic(self.journal_path, tail)
            except OSError as exc:
                # the database already holds the snapshot; the old journal replays over it harmlessly
                self._db_stamp = file_stamp(self.db_path)
                raise cannot_save(self.journal_path, exc) from exc
            old = self._j_fd
            self._j_fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
            if old is not None:
                os.close(old)
            self._j_off = len(tail)
            self._j_ino = os.fstat(self._j_fd).st_ino
            self._db_stamp = file_stamp(self.db_path)
            folded_at = (self._db_stamp, self._j_ino, 0)  # the new journal holds only saves after the snapshot
        if self.after_fold is not None:
            try:
                self.after_fold(snapshot, folded_at)
            except Exception:  # noqa: BLE001 - derived data: readers that cannot trust it read the records
                pass
        return True

    # ----- closing --------------------------------------------------------------------------------
    def _release_lock(self) -> None:
        if self._j_fd is not None:
            os.close(self._j_fd)
            self._j_fd = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def close(self) -> None:
        """Fold (if this process writes; not a database over WHOLE_READ_BYTES read only by group) and release
        the writer lock. Saves are durable either way."""
        thread = self._fold_thread
        if thread is not None:
            thread.join()
        try:
            self.flush()
        except StoreError:
            pass  # the app warned before quitting with unsaved changes
        try:
            stamp = self._db_stamp
            if self._partial is None or stamp is None or stamp[2] <= WHOLE_READ_BYTES:
                self.fold()
        except StoreError:
            pass  # the journal keeps every save; the next writer folds
        finally:
            with self.lock:
                self._release_lock()


def _int(key: str) -> int:
    try:
        return int(key)
    except ValueError:
        return 0


_OPEN: dict[str, JournalStore] = {}
_OPEN_LOCK = threading.Lock()


def open_store(db_path: Path, owner: str, indexes: dict[str, tuple[str, ...]] | None = None,
               read_only: bool = False, check: Check | None = None, lazy: bool = False,
               group: str | None = None, unique: tuple[str, ...] = ()) -> JournalStore:
    """The process-wide store of `db_path` (one per file and mode, shared by every Workspace of this process);
    `lazy`: a writer's database is read when first needed, not now (see JournalStore)."""
    key = os.path.realpath(db_path) + (" (read-only)" if read_only else "")
    with _OPEN_LOCK:
        store = _OPEN.get(key)
        if store is None:
            store = JournalStore(Path(db_path), owner, indexes, read_only=read_only, check=check, lazy=lazy,
                                 group=group, unique=unique)
            _OPEN[key] = store
        else:
            store.refresh()
        store.refs += 1
        return store


def release_store(store: JournalStore) -> None:
    """Drop one user of `store`; the last one closes it (folds and releases the writer lock)."""
    key = os.path.realpath(store.db_path) + (" (read-only)" if store.read_only else "")
    with _OPEN_LOCK:
        store.refs -= 1
        if store.refs > 0:
            return
        if _OPEN.get(key) is store:
            del _OPEN[key]
    store.close()


def database_names(folder: Path) -> set[str]:
    """Names that have a database or a journal in an annotations folder (a journal may come first)."""
    return {p.stem for p in Path(folder).glob("*.json")} | {p.stem for p in Path(folder).glob(f"*{JOURNAL_SUFFIX}")}
