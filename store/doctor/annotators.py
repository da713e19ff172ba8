"""`tahqiq doctor` on each annotator's files: the database (records well formed; rebuilt from its intact records
and the previous version the last fold kept when damaged) and the journal (damaged lines dropped after a copy of
the whole journal is kept, a torn last line cut off and kept). Nothing is repaired while the annotator is open
for writing in another process, nor in `dry_run`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from store.annotation.entity_counts import (
    count_entities,
    entities_path,
    fold_counts,
    read_entity_counts,
    write_entity_counts,
)
from store.annotation.record import ANNOTATIONS_TABLE, GROUP_FIELD
from store.annotation.record import stored_problem as annotation_problem
from store.annotation.summary import SummaryReader, current_tables, summarize, summary_path, write_summary
from store.db.atomic import keep_version, write_atomic, write_atomic_chunks
from store.db.journal import database_names
from store.db.journal_format import (
    JOURNAL_SUFFIX,
    LOCK_SUFFIX,
    TORN_SUFFIX,
    check_record,
    encode_tables,
    read_line,
    recover_tables,
)
from store.db.lock import read_holder, try_locked
from store.db.record_index import RecordIndex, index_of, next_keys, offsets_path, write_record_index
from store.db.storage import read_tables
from store.doctor.findings import Finding, after_path
from store.errors import CorruptFileError

MAX_LINES_PER_CHECK = 10


def annotator_names(folder: Path) -> list[str]:
    """Everyone with a database or a journal in the workspace's annotations folder."""
    return sorted(database_names(folder / "annotations"))


def check_annotator(folder: Path, name: str, dry_run: bool) -> Iterator[Finding]:
    """The findings on the database and journal of annotator `name` (repairs done unless `dry_run`)."""
    db = folder / "annotations" / f"{name}.json"
    journal = db.with_suffix(JOURNAL_SUFFIX)
    if db.exists():
        try:
            tables, _ = read_tables(db)
            count = len(tables.get("annotations", {}))
            wrong = [(t, k, why) for t, rows in tables.items() for k, r in rows.items()
                     if (why := check_record(annotation_problem, t, r)) is not None]
            if wrong:
                table, key, why = wrong[0]
                more = f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""
                yield Finding("problem", str(db), f"table {table!r}, record {key}: {why}{more}; the file was left "
                                                  "untouched (`tahqiq --read-only` shows the other records)")
            else:
                yield Finding("ok", str(db), f"{count} annotation(s) as of the last fold")
        except CorruptFileError as exc:
            yield _rebuild_database(db, after_path(exc, db), dry_run)
    if journal.exists():
        yield from _check_journal(db, journal, dry_run)
    if db.exists() or journal.exists():
        yield from _check_summary(db, dry_run)


def _check_summary(db: Path, dry_run: bool) -> Iterator[Finding]:
    """The summary file and the entity counts (store.annotation.summary, entity_counts) are derived: rewritten
    from the records when missing, stale, damaged or saying anything the records do not."""
    with try_locked(db.with_suffix(LOCK_SUFFIX)) as free:
        if not free:
            yield Finding("note", str(summary_path(db)), f"not checked: open for writing in process {_holder(db)} "
                                                         "(its writer keeps it)")
            return
        try:
            tables, stamp = current_tables(db)
        except CorruptFileError:
            return  # reported above, and not repaired (dry run, or in use): these wait for the records
        summaries, counts = summarize(tables), fold_counts(count_entities(tables.get(ANNOTATIONS_TABLE, {}).values()))
        yield from _check_offsets(db, dry_run)
        for path, shown, truth, write, what in (
                (summary_path(db), SummaryReader(db).read(), summaries,
                 lambda: write_summary(db, summaries, stamp), f"{len(summaries)} article(s) summarized"),
                (entities_path(db), read_entity_counts(db), counts,
                 lambda: write_entity_counts(db, tables, stamp), f"{len(counts)} tagged string(s) counted")):
            if shown == truth:
                yield Finding("ok", str(path), f"{what}, as the records say")
                continue
            why = ("missing" if not path.exists() else "stale or damaged" if shown is None
                   else "differs from the records")
            if dry_run:
                yield Finding("problem", str(path), f"{why} (would be rewritten from the records)")
                continue
            try:
                write()
            except OSError as exc:
                yield Finding("problem", str(path), f"{why}; cannot rewrite it ({exc})")
                continue
            yield Finding("repaired", str(path), f"{why}: rewritten from the records ({what})")


def _check_offsets(db: Path, dry_run: bool) -> Iterator[Finding]:
    """The record index (store.db.record_index) is derived: rewritten when missing, stale, damaged or not
    where the records are (the caller holds the annotator's lock)."""
    path = offsets_path(db)
    try:
        raw = db.read_bytes()
        tables, stamp = read_tables(db)
    except (OSError, CorruptFileError):
        return  # reported with the database
    places = index_of(raw, tables, GROUP_FIELD)
    if places is None or not all(isinstance(p[0], str) for p in places):
        yield Finding("note", str(path), "the database is not laid out as tahqiq writes it (TinyDB or another "
                                         "tool wrote it): read whole until its writer's next session rewrites it")
        return
    index = RecordIndex.open(db)
    if index is not None:
        same = sorted(index.all_places()) == sorted(places)
        index.close()
        if same:
            yield Finding("ok", str(path), f"{len(places)} record(s) placed, as the database holds them")
            return
    why = "missing" if not path.exists() else "stale or damaged" if index is None else "differs from the database"
    if dry_run:
        yield Finding("problem", str(path), f"{why} (would be rewritten from the database)")
        return
    try:
        write_record_index(db, places, list(tables), next_keys(tables), stamp)
    except OSError as exc:
        yield Finding("problem", str(path), f"{why}; cannot rewrite it ({exc})")
        return
    yield Finding("repaired", str(path), f"{why}: rewritten from the database ({len(places)} record(s) placed)")


def _check_journal(db: Path, journal: Path, dry_run: bool) -> Iterator[Finding]:
    """Damaged lines dropped (the whole journal kept first), a torn last line cut off and kept."""
    data = journal.read_bytes()
    end = data.rfind(b"\n") + 1
    good: list[bytes] = []
    bad: list[int] = []
    for number, line in enumerate(data[:end].split(b"\n")[:-1], 1):
        if read_line(line, annotation_problem)[0] is None:
            good.append(line + b"\n")
        else:
            bad.append(number)
    torn = data[end:]
    if not bad and not torn:
        yield Finding("ok", str(journal), f"{len(good)} save(s) since the last fold")
        return
    what = []
    if bad:
        what.append(f"damaged line(s) {', '.join(map(str, bad[:MAX_LINES_PER_CHECK]))}"
                    + (" ..." if len(bad) > MAX_LINES_PER_CHECK else ""))
    if torn:
        what.append(f"a torn last line ({len(torn)} bytes of a save cut short by a crash)")
    described = " and ".join(what)
    with try_locked(db.with_suffix(LOCK_SUFFIX)) as free:
        if not free:
            level = "problem" if bad else "note"
            yield Finding(level, str(journal), f"{described}; open for writing in process {_holder(db)}, "
                                               "not repaired (close it and run doctor again)")
            return
        if dry_run:
            yield Finding("problem", str(journal), f"{described} (would be repaired)")
            return
        if bad:
            backup = journal.with_name(f"{journal.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
            write_atomic(backup, data)
        if torn:
            write_atomic(db.with_suffix(TORN_SUFFIX), torn)
        write_atomic(journal, b"".join(good))
        kept = f"kept {len(good)} good save(s)"
        where = f"original kept in {backup.name}" if bad else f"torn bytes kept in {db.with_suffix(TORN_SUFFIX).name}"
        yield Finding("repaired", str(journal), f"{described}: removed; {kept}; {where}")


def _rebuild_database(db: Path, problem: str, dry_run: bool) -> Finding:
    """A damaged annotator database rebuilt from its intact records and the previous version; the damaged
    file is kept beside it. The journal is left as it is: it replays over the rebuilt file."""
    tables, how = recover_tables(db)
    count = len(tables.get("annotations", {}))
    with try_locked(db.with_suffix(LOCK_SUFFIX)) as free:
        if not free:
            return Finding("problem", str(db), f"{problem}; open for writing in process {_holder(db)}, "
                                               "not repaired (close it and run doctor again)")
        if dry_run:
            return Finding("problem", str(db), f"{problem} (would be rebuilt from {how}: {count} annotation(s))")
        backup = db.with_name(f"{db.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        keep_version(db, backup)
        write_atomic_chunks(db, encode_tables(tables))
    return Finding("repaired", str(db), f"{problem}: rebuilt from {how}: {count} annotation(s) as of the last "
                                        f"fold; the damaged file is kept in {backup.name}")


def _holder(db: Path) -> str:
    """"PID on HOST" of the process that writes annotator database `db`, or "?"."""
    words = read_holder(db.with_suffix(LOCK_SUFFIX))
    return " on ".join(words[:2]) if words else "?"
