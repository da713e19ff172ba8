"""Per-article summaries of one annotator's work (recorded state, counts, score, labels), kept beside the
database so that the library, `tahqiq list` and the team's columns read one small file per annotator instead
of every record.

For `annotations/alice.json`, `alice.summary` is JSON: `{"version": 1, "stamp": [[ino, mtime_ns, size],
journal_ino, offset], "articles": {article_id: [state, records, entities, claims, score, labels]}}`, the
summaries of the database plus its journal up to byte `offset` of the journal with inode `journal_ino`. Each
save's journal line carries the new summary of every article it touches (store.db.journal_format's summary op,
`["s", "summary", article_id, summary or null]`), so a reader applies the lines past `offset` without reading a
record. The writer writes the file when it folds, and on taking the lock when it finds it missing or stale.

The file is derived: a reader trusts it only while its stamp is the files' stamp and every journal line past it
carries summaries, and otherwise answers None, so the caller reads the records (`summarize`) as before;
`tahqiq doctor` rewrites it."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any, NamedTuple

from store.annotation.entity_counts import write_entity_counts
from store.annotation.record import ANNOTATIONS_TABLE, PROGRESS_TABLE, Kind, stored_problem
from store.apart import run_apart
from store.db.atomic import write_atomic
from store.db.journal_format import JOURNAL_SUFFIX, SUMMARY_OP, read_database, read_line, replay
from store.db.lock import waited_for
from store.db.storage import Stamp, dumps, file_stamp, loads, quiet_gc
from store.errors import CorruptFileError, StoreError

SUMMARY_SUFFIX = ".summary"
PAUSE_EVERY = 500
"""Records (or articles) between two `pause()` calls of work done in a fold's background thread."""
VERSION = 1

Position = tuple[Stamp | None, int | None, int]
"""(database (inode, mtime_ns, size), journal inode, journal bytes covered)."""


class Summary(NamedTuple):
    """One annotator's work on one article."""

    state: str | None
    """The recorded progress state (None: never set; store.annotation.record.state_of derives one)."""
    records: int
    """Annotations of any kind (a credibility without a score counts)."""
    entities: int
    claims: int
    score: int | None
    """The credibility score, None when not scored."""
    labels: tuple[str, ...]
    """The entity labels used, sorted."""

    @classmethod
    def of(cls, value: list) -> Summary:
        """The summary as written in JSON (a list, labels a list), as in the summary file and journal lines."""
        return _new(cls, (value[0], value[1], value[2], value[3], value[4], tuple(value[5])))


_new = tuple.__new__
"""`_new(Summary, fields)`: a Summary from the tuple of its six fields, without the call of the named tuple's
Python `__new__` (a summary file holds one per article its annotator touched: ~15,000 at 100,000 articles)."""


def article_summary(annotations: Iterable[Mapping[str, Any]], state: str | None) -> Summary | None:
    """The summary of one article from its annotation records and recorded state; None when there is neither."""
    records = entities = claims = 0
    score = None
    labels: set[str] = set()
    for record in annotations:
        records += 1
        kind = record["kind"]
        if kind == Kind.ENTITY:
            entities += 1
            labels.add(record["label"])
        elif kind == Kind.CLAIM:
            claims += 1
        else:
            score = record["attributes"].get("score")
    if not records and state is None:
        return None
    return Summary(state, records, entities, claims, score, tuple(sorted(labels)))


def summarize(tables: Mapping[str, Mapping[str, Mapping[str, Any]]],
              pause: Callable[[], None] | None = None) -> dict[str, Summary]:
    """Article id -> summary, for every article with an annotation or a recorded state in `tables` (an
    annotation database's tables). Records are taken in key order, as the database holds them. `pause()` is
    called every PAUSE_EVERY records (a fold in the background lets a save's thread run)."""
    by_article: dict[str, list[Mapping[str, Any]]] = {}
    for n, record in enumerate(tables.get(ANNOTATIONS_TABLE, {}).values()):
        by_article.setdefault(record["article_id"], []).append(record)
        if pause is not None and n % PAUSE_EVERY == 0:
            pause()
    states = {row["article_id"]: row["state"] for row in tables.get(PROGRESS_TABLE, {}).values()}
    out: dict[str, Summary] = {}
    for n, article_id in enumerate(by_article.keys() | states.keys()):
        if pause is not None and n % PAUSE_EVERY == 0:
            pause()
        summary = article_summary(by_article.get(article_id, ()), states.get(article_id))
        if summary is not None:
            out[article_id] = summary
    return out


def summary_path(db_path: Path) -> Path:
    return Path(db_path).with_suffix(SUMMARY_SUFFIX)



def write_summary(db_path: Path, summaries: Mapping[str, Summary], stamp: Position) -> None:
    """Write `alice.summary` for the database `db_path` (atomically; OSError if the disk refuses)."""
    data = {"version": VERSION, "stamp": [list(stamp[0]) if stamp[0] else None, stamp[1], stamp[2]],
            "articles": {k: list(v) for k, v in summaries.items()}}
    write_atomic(summary_path(db_path), dumps(data))


def current_tables(db_path: Path) -> tuple[dict[str, dict[str, dict[str, Any]]], Position]:
    """The tables of the database `db_path` with its whole journal replayed, and the stamp of what was read.
    The caller makes sure no writer changes the files meanwhile (holds or tried the annotator's lock).
    CorruptFileError on a damaged database or journal line."""
    tables, ops, stamp, j_ino, used = read_database(Path(db_path), stored_problem)
    replay(tables, ops)
    return tables, (stamp, j_ino, used)


def write_derived(db_path: Path, tables: Mapping[str, Mapping[str, Mapping[str, Any]]], at: Position,
                  pause: Callable[[], None] | None = None,
                  folded: dict[str, tuple[str, ...]] | None = None) -> dict[str, Summary]:
    """Write what readers use instead of the records (the summaries, and the entity counts of
    store.annotation.entity_counts) from `tables` as of `at` (store.db.journal.JournalStore.position); the
    summaries written. OSError if the disk refuses: derived files, which a caller may go on without (readers
    then read the records). `pause`: called every few hundred records, so that a fold's thread lets saves run;
    `folded`: the texts' folded words, kept between folds by the caller."""
    summaries = summarize(tables, pause)
    write_summary(db_path, summaries, at)
    write_entity_counts(db_path, tables, at, pause, folded)
    return summaries


def rewritten_summaries(reader: SummaryReader, before: Callable[[str], object] | None = None
                        ) -> dict[str, Summary] | None:
    """For a reader that cannot trust an annotator's summary file (a copied or restored workspace: new inodes; see
    docs/storage.md part 2): their summaries, with the summary file and the entity counts written anew from the
    records for the next reader by a process of its own (`_rewrite_apart`), stamped with what it read (a save or fold
    by their writer meanwhile leaves them stale, never wrong). Sessions that find the same files stale at once
    wait for one another (an flock on the database file itself, no lock file) and take what the first wrote.
    `before(annotator)` is told before the records behind a stale (not a missing or damaged) file are read. None
    without a database, or when it or its journal is damaged (nothing written: the caller opens them as before,
    which says what is wrong)."""
    db = reader.db_path
    with waited_for(db):
        found = reader.read()
        if found is not None or not db.exists():
            return found
        if before is not None and reader.stale:  # (not when damaged: the error that follows says what is wrong)
            before(db.stem)
        if _rewrite_apart(db) and (found := reader.read()) is not None:
            return found
        try:  # (here: damaged files, which the caller reports, or a folder that refuses)
            tables, at = current_tables(db)
        except (CorruptFileError, OSError):
            return None
        with suppress(OSError):
            return write_derived(db, tables, at)
        return summarize(tables)


REWRITE_WAIT = 600.0
"""Seconds `_rewrite_apart` waits for its process (then kills it)."""


def _rewrite_apart(db: Path) -> bool:
    """`rebuild_summary(db)` in a process of its own (`python -m store.annotation.summary DB`: store.apart), which
    this one waits for: the records (~0.5 GB and seconds at 100,000 articles) never count in a session's memory nor
    hold its interpreter. False if it failed (damaged files, a refusing disk, no process to start), or without
    trying in a folder this process cannot write (it reads the records itself, once)."""
    return os.access(db.parent, os.W_OK) and run_apart("store.annotation.summary", [str(db)], wait=REWRITE_WAIT)


def rebuild_summary(db_path: Path) -> dict[str, Summary]:
    """The summary file and the entity counts rewritten from the records (for tools that write databases
    themselves): `write_derived` of `current_tables`, CorruptFileError (nothing written) or OSError as there."""
    return write_derived(db_path, *current_tables(db_path))


class SummaryReader:
    """The summaries of one annotator, read from `alice.summary` and the journal lines past it, without the
    records; `read()` answers None whenever the file cannot be trusted (see the module docstring)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        self.journal_path = self.db_path.with_suffix(JOURNAL_SUFFIX)
        self._summaries: dict[str, Summary] | None = None
        self._db: tuple[int, int, int] | None = None
        self._j_ino: int | None = None
        self._j_off = 0
        self.stale = False
        """The last `read` found a whole file of other database files (a copy's: new inodes), not a damaged one."""

    def read(self) -> dict[str, Summary] | None:
        """Article id -> summary as of now (only the new journal lines are read when the database has not
        been folded since the last call), or None: no file, a stale or damaged one, or a journal line without
        summaries (written before they existed, or damaged)."""
        self.stale = False
        if self._summaries is not None and self._catch_up():
            return self._summaries
        for _ in range(5):
            db = file_stamp(self.db_path)
            if not self._load_file(db):
                return None
            if self._catch_up() and file_stamp(self.db_path) == db:
                return self._summaries
        self._summaries = None
        return None

    def _load_file(self, db: tuple[int, int, int] | None) -> bool:
        self._summaries = None
        try:
            with quiet_gc(freeze=False):  # (tens of thousands of small lists and tuples at once: see quiet_gc)
                data = loads(summary_path(self.db_path).read_bytes())
                stamp = data["stamp"]
                if data["version"] != VERSION or db is None or stamp[0] != list(db):
                    self.stale = data["version"] == VERSION and db is not None
                    return False
                summaries = {k: _new(Summary, (v[0], v[1], v[2], v[3], v[4], tuple(v[5])))  # (Summary.of, inlined)
                             for k, v in data["articles"].items()}
            j_ino, j_off = stamp[1], stamp[2]
        except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):  # (valid JSON, wrong shape)
            return False
        self._summaries, self._db, self._j_ino, self._j_off = summaries, db, j_ino, j_off
        return True

    def _catch_up(self) -> bool:
        """Apply the journal lines past the covered offset; False when the file no longer fits the files."""
        if file_stamp(self.db_path) != self._db:
            return False
        try:
            with open(self.journal_path, "rb") as handle:
                st = os.fstat(handle.fileno())
                if self._j_ino is None and self._j_off == 0:
                    self._j_ino = st.st_ino  # (there was no journal when the file was written)
                if st.st_ino != self._j_ino or st.st_size < self._j_off:
                    return False
                if st.st_size == self._j_off:
                    return True
                handle.seek(self._j_off)
                data = handle.read(st.st_size - self._j_off)
        except FileNotFoundError:
            return self._j_off == 0 and self._j_ino is None
        assert self._summaries is not None
        used = data.rfind(b"\n") + 1  # (a last line without its newline is a save still being written)
        for line in data[:used].split(b"\n")[:-1]:
            problem, ops = read_line(line, stored_problem)  # (a bad record: the records say what is wrong)
            if problem is not None:
                return False
            summaries = [op for op in ops if op[0] == SUMMARY_OP]
            if len(summaries) < len(ops) and not summaries:
                return False  # a line written before summaries: the file cannot say what it changed
            for op in summaries:
                if op[3] is None:
                    self._summaries.pop(op[2], None)
                else:
                    self._summaries[op[2]] = Summary.of(op[3])
        self._j_off += used
        return True


if __name__ == "__main__":  # `_rewrite_apart`'s process: exit 1 if the files are damaged or the disk refuses
    try:
        rebuild_summary(Path(sys.argv[1]))
    except (StoreError, OSError):
        sys.exit(1)
