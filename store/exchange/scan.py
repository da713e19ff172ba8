"""An export's first pass over one annotator through their record index (store.db.group_reader), and the helper
process that makes it for every other article while the exporting process makes it for the others.

`spool_scanned` walks the database in its file's order, each run of an article's records parsed at once by
GroupReader.scan and every record checked here as an article read alone is checked (`_checked`); an article the
journal changed, or any doubt, is read alone (`ByArticle.rows`), which says what is wrong (Stale: the caller
reads the whole files instead, store.exchange.stream).

`Helper`: a second interpreter (this one, in isolated mode, with this package) running this module's `main`
spools every other article of the export (`share`) of the annotators it is given, through their indexes, into
files of its own, while the exporting process spools the others: on two CPUs the first pass takes about half as
long. It never reads a database whole nor reports damage: an annotator it could not spool through the index (no
index it trusts, a record refused, anything else, or the helper gone) is handed back, and the exporting process
spools that one whole as it would have without a helper, so the output and every error are the same.
"""

from __future__ import annotations

import marshal
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from store.annotation.annotation_set import AnnotationSet
from store.annotation.record import GROUP_FIELD, sort_key, state_of
from store.annotation.record import stored_problem as record_problem
from store.db.group_reader import GroupReader
from store.db.journal_format import JOURNAL_SUFFIX, check_record
from store.db.record_index import Stale
from store.db.storage import quiet_gc
from store.errors import StoreError
from store.exchange.records import Filter
from store.exchange.spools import Spool, spool_file

Prepare = Callable[[str, str, list[dict[str, Any]]], Any]
"""prepare(annotator, state, rows) -> what the writer needs of one annotator's work on one article (marshal-able)."""

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
"""The CPUs this process may run on: a helper is started only when there are two or more."""
HELPER_BYTES = 16 << 20
"""The least size of the databases (and journals) worth a helper: below it, starting one (~0.2 s) costs more than
it saves."""


def share(ids: list[str], helper: bool) -> dict[str, int]:
    """Article id -> position in the export (`ids`, in its order), for the articles the helper spools (the odd
    positions) or those the exporting process spools (the even ones). (At 100,000 articles the two end within
    a few tenths of a second of each other.)"""
    return {ids[n]: n for n in range(1 if helper else 0, len(ids), 2)}


class ByArticle:
    """An annotator's database read an article at a time (store.db.group_reader)."""

    def __init__(self, reader: GroupReader) -> None:
        self.reader = reader

    def touched(self) -> set[str]:
        return self.reader.groups()

    def rows(self, article_id: str) -> tuple[str | None, list | None]:
        tables = self.reader.read(article_id)
        progress = list(tables.get(AnnotationSet.PROGRESS, {}).values())
        rows = list(tables.get(AnnotationSet.TABLE, {}).values())
        return (progress[-1]["state"] if progress else None), (rows or None)

    def close(self) -> None:
        self.reader.close()


def by_article(db: Path) -> ByArticle | None:
    """The database at `db` read by article, when its record index can be trusted; else None (read it whole)."""
    try:
        return ByArticle(GroupReader(db, GROUP_FIELD, record_problem))
    except (Stale, StoreError, OSError):
        return None  # (a damaged journal line, too: the whole read reports it, or skips it when told to)


def spool_scanned(out: Spool, source: ByArticle, positions: dict[str, int], keeps_state: Callable[[str], bool],
                  prepare: Prepare | None, name: str) -> None:
    """One annotator's entries (for each article id -> position of `positions` whose state `keeps_state`: (state,
    the sorted rows or what `prepare` makes of them)), added in the order of their database (the Spool puts them
    in article order); Stale when an article read alone is not what its index says."""
    dumps = marshal.dumps
    seen: set[int] = set()
    for group, tables in source.reader.scan(positions.__contains__):
        position = positions[group]
        if position in seen:
            continue
        seen.add(position)
        recorded, rows = _checked(group, tables) if tables is not None else (None, False)
        if rows is False:
            recorded, rows = source.rows(group)
        state = state_of(recorded, rows is not None)
        if keeps_state(state):
            rows = sorted(rows, key=sort_key) if rows else []
            out.add(position, dumps((state, rows if prepare is None else prepare(name, state, rows))))
    if keeps_state("not started"):
        untouched = dumps(("not started", [] if prepare is None else prepare(name, "not started", [])))
        for position in positions.values():
            if position not in seen:
                out.add(position, untouched)


def _checked(group: str, tables: dict[str, dict[str, Any]]) -> tuple[str | None, Any]:
    """What `ByArticle.rows` gives of a group's records (the recorded state, the annotation rows or None), each
    record checked as GroupReader.read checks it; rows False when one is refused."""
    for table, records in tables.items():
        for record in records.values():
            if check_record(record_problem, table, record) is not None or record.get(GROUP_FIELD) != group:
                return None, False
    progress = list(tables.get(AnnotationSet.PROGRESS, {}).values())
    rows = list(tables.get(AnnotationSet.TABLE, {}).values())
    return (progress[-1]["state"] if progress else None), (rows or None)


def _size(db: Path) -> int:
    """The bytes of a database and its journal (what spooling it reads)."""
    total = 0
    for path in (db, db.with_suffix(JOURNAL_SUFFIX)):
        try:
            total += path.stat().st_size
        except OSError:
            pass
    return total


class Helper:
    """The helper process (see the module doc)."""

    def __init__(self, process: subprocess.Popen, spools: list[Spool], answer: IO[bytes]) -> None:
        self._process = process
        self._spools = spools
        self._answer = answer

    @classmethod
    def start(cls, jobs: list[tuple[str, Path]], ids: list[str], keep: Filter,
              prepare: Prepare | None) -> Helper | None:
        """A helper spooling its share of `ids` (the export's article ids, in order) for each of `jobs`
        (annotator, database) under the filter `keep`, while the exporting process spools the rest; None when it
        would not pay (one CPU, little to read) or cannot be started."""
        if CORES < 2 or not sys.executable or len(ids) < 2 or sum(_size(db) for _name, db in jobs) < HELPER_BYTES:
            return None
        spools: list[Spool] = []
        try:
            spools.extend(Spool(name, spool_file()) for name, _db in jobs)
            answer = tempfile.TemporaryFile(prefix="tahqiq-export-")
        except OSError:
            for s in spools:
                s.file.close()
            return None
        try:
            with tempfile.TemporaryFile(prefix="tahqiq-export-") as params:
                pickle.dump({"jobs": [(name, str(db), s.file.fileno()) for (name, db), s in zip(jobs, spools)],
                             "ids": ids, "keep": keep, "prepare": prepare}, params, pickle.HIGHEST_PROTOCOL)
                params.seek(0)
                root = str(Path(__file__).resolve().parents[2])  # (where this process imports this package from)
                process = subprocess.Popen(
                    [sys.executable, "-I", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                     "from store.exchange.scan import main; main()", root],
                    stdin=params, stdout=answer, stderr=subprocess.DEVNULL, pass_fds=[s.file.fileno() for s in spools])
        except (pickle.PicklingError, AttributeError, TypeError, OSError):
            answer.close()
            for s in spools:
                s.file.close()
            return None
        return cls(process, spools, answer)

    def results(self) -> list[Spool | None]:
        """Once the helper is done, for each job: its Spool of its share, or None where the helper handed
        the annotator back (the exporting process then spools them whole)."""
        try:
            self._process.wait()
            self._answer.seek(0)
            answers = pickle.load(self._answer) if self._process.returncode == 0 else []
        except Exception:  # (whatever became of the helper: this process spools its annotators itself)
            answers = []
        finally:
            self._answer.close()
        out: list[Spool | None] = []
        for n, spool in enumerate(self._spools):
            where = answers[n] if n < len(answers) else None
            if where is None:
                spool.file.close()
                out.append(None)
            else:
                spool.adopt(*where)
                out.append(spool)
        return out

    def stop(self) -> None:
        """The helper killed (the export failed or was interrupted) and waited for; its files closed."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._answer.close()
        for s in self._spools:
            s.file.close()


def main() -> None:
    """The helper's side: the jobs on stdin (pickle: each annotator's name, database and spool file descriptor,
    the article ids, the filter, prepare), each spooled through the index for its share, or not at all;
    on stdout, per job, (positions, ends) of what it added (Spool.where) or None (then the exporting process
    spools that annotator)."""
    job = pickle.load(sys.stdin.buffer)
    positions = share(job["ids"], helper=True)
    keeps_state, prepare = job["keep"].keeps_state, job["prepare"]
    answers: list[tuple[bytes, bytes] | None] = []
    with quiet_gc(freeze=False):
        for name, db, fd in job["jobs"]:
            answer = None
            with open(fd, "wb", buffering=1 << 20) as file:
                source = by_article(Path(db))
                if source is not None:
                    out = Spool(name, file)
                    try:
                        spool_scanned(out, source, positions, keeps_state, prepare, name)
                        file.flush()
                        answer = out.where()
                    except Exception:  # (Stale, or anything: the exporting process spools it and learns what)
                        answer = None
                    finally:
                        source.close()
            answers.append(answer)
    pickle.dump(answers, sys.stdout.buffer, pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.flush()
