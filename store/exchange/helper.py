"""An export's helper process: a second interpreter (this one, in isolated mode, with this package) that takes a
share of both of an export's passes (store.exchange.stream), so that on two CPUs each takes about half as long.

Pass 1: it spools every other article of the export (`share`) of the annotators it is given, through their record
indexes (store.exchange.scan), into files the exporting process made, while the exporting process spools the
others. It never reads a database whole nor reports damage: an annotator it could not spool through the index (no
index it trusts, a record refused, anything else, or the helper gone) is handed back, and the exporting process
spools that one whole as it would have without a helper, so the output and every error are the same.

Pass 2, for a format of records in a frame (store.exchange.framed), when the helper spooled every annotator: told
from which article on (`Helper.write_rest`), it reads both processes' spools and writes the records of those
articles into a file of its own, while the exporting process makes the records before them; the file is then
copied in after those (`Helper.rest`). If it fails, the exporting process makes those records itself.

This module is the exporting process's side (`Helper`); store.exchange.helper_main is what the helper runs.
Messages: the job in a file on stdin (pickle); the answers on stdout, a pipe (pass 1's, then pass 2's); the order
for pass 2 on a pipe of its own, closed without one when there is no pass 2 for it.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

from store.db.journal_format import JOURNAL_SUFFIX
from store.exchange.framed import Part
from store.exchange.records import Filter
from store.exchange.scan import Prepare
from store.exchange.spools import Spool, spool_file

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
"""The CPUs this process may run on: a helper is started only when there are two or more."""
HELPER_BYTES = 16 << 20
"""The least size of the databases (and journals) worth a helper: below it, starting one (~0.2 s) costs more than
it saves."""


def share(ids: list[str], helper: bool) -> dict[str, int]:
    """Article id -> position in the export (`ids`, in its order), for the articles the helper spools in pass 1
    (the odd positions) or those the exporting process spools (the even ones). (At 100,000 articles the two end
    within a few tenths of a second of each other.)"""
    return {ids[n]: n for n in range(1 if helper else 0, len(ids), 2)}


class Helper:
    """The helper process (see the module doc)."""

    def __init__(self, process: subprocess.Popen, spools: list[Spool], order: int | None,
                 part: IO[bytes] | None) -> None:
        self._process = process
        self._spools = spools
        self._order = order
        """The write end of the pipe the order for pass 2 goes down (None: no pass 2, or it went)."""
        self._part = part
        self.rests = part is not None
        """It can make pass 2's last records (`write_rest`)."""

    @classmethod
    def start(cls, jobs: list[tuple[str, Path]], ids: list[str], keep: Filter, prepare: Prepare | None,
              theirs: list[Spool] | None = None, workspace: Path | None = None) -> Helper | None:
        """A helper spooling its share of `ids` (the export's article ids, in order) for each of `jobs`
        (annotator, database) under the filter `keep`, while the exporting process spools the rest; None when it
        would not pay (one CPU, little to read) or cannot be started. Given `theirs`, the exporting process's own
        spools of the same annotators in the same order, it can make pass 2's last records too (it reads the
        articles from the `workspace` folder then)."""
        if CORES < 2 or not sys.executable or len(ids) < 2 or sum(_size(db) for _name, db in jobs) < HELPER_BYTES:
            return None
        spools: list[Spool] = []
        part = order = None
        try:
            spools.extend(Spool(name, spool_file()) for name, _db in jobs)
            if theirs is not None:
                part = tempfile.TemporaryFile(prefix="tahqiq-export-")
        except OSError:
            for s in spools:
                s.file.close()
            return None
        readable = -1
        try:
            job: dict[str, Any] = {"jobs": [(name, str(db), s.file.fileno()) for (name, db), s in zip(jobs, spools)],
                                   "ids": ids, "keep": keep, "prepare": prepare, "rest": None}
            passed = [s.file.fileno() for s in spools]
            if part is not None and theirs is not None:
                readable, order = os.pipe()
                job["rest"] = {"theirs": [s.file.fileno() for s in theirs], "order": readable,
                               "part": part.fileno(), "workspace": str(workspace)}
                passed += [*job["rest"]["theirs"], readable, part.fileno()]
            with tempfile.TemporaryFile(prefix="tahqiq-export-") as params:
                pickle.dump(job, params, pickle.HIGHEST_PROTOCOL)
                params.seek(0)
                root = str(Path(__file__).resolve().parents[2])  # (where this process imports this package from)
                process = subprocess.Popen(
                    [sys.executable, "-I", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                     "from store.exchange.helper_main import main; main()", root],
                    stdin=params, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, pass_fds=passed)
        except (pickle.PicklingError, AttributeError, TypeError, OSError):
            if order is not None:
                os.close(order)
            for s in spools:
                s.file.close()
            if part is not None:
                part.close()
            return None
        finally:
            if readable >= 0:
                os.close(readable)  # (the helper's end)
        return cls(process, spools, order, part)

    def results(self) -> list[Spool | None]:
        """Pass 1's answers, once the helper gives them: for each job, its Spool of its share, or None where the
        helper handed the annotator back (the exporting process then spools them whole). Without a pass 2 to make,
        the helper's end is waited for, and a helper that failed hands everything back."""
        try:
            answers = pickle.load(self._process.stdout)
            if not self.rests and self._process.wait() != 0:
                answers = []
        except Exception:  # (whatever became of the helper: this process spools its annotators itself)
            answers = []
        out: list[Spool | None] = []
        spools, self._spools = self._spools, []  # (the caller's now, those it is given)
        for n, spool in enumerate(spools):
            where = answers[n] if n < len(answers) else None
            if where is None:
                spool.file.close()
                out.append(None)
            else:
                spool.adopt(*where)
                out.append(spool)
        return out

    def write_rest(self, start: int, theirs: list[tuple[bytes, bytes]], fmt: str, paragraph_direction: str) -> None:
        """Have the helper write the records of the articles from position `start` on in the format `fmt` (a name
        in store.exchange.formats); `theirs`: the exporting process's spools' `where`, flushed."""
        order, self._order = self._order, None
        if order is None:
            return
        try:
            with open(order, "wb") as pipe:
                pickle.dump({"start": start, "theirs": theirs, "format": fmt,
                             "paragraph_direction": paragraph_direction}, pipe, pickle.HIGHEST_PROTOCOL)
        except OSError:
            pass  # (the helper is gone: `rest` says so)

    def rest(self) -> tuple[Part, dict[str, int]] | None:
        """Once the helper is done: the records it wrote and the directions it counted (Context.directions), or
        None if it failed (the exporting process makes those records itself)."""
        try:
            answer = pickle.load(self._process.stdout)
            if self._process.wait() != 0 or self._part is None:
                return None
            return Part(self._part, answer["count"]), answer["directions"]
        except Exception:  # (whatever became of the helper)
            return None

    def stop(self) -> None:
        """The helper ended (killed if still at work: the export failed, or is done without it) and waited for;
        its files closed (not the spools `results` gave)."""
        if self._order is not None:
            os.close(self._order)
            self._order = None
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._process.stdout.close()
        for s in self._spools:
            s.file.close()
        if self._part is not None:
            self._part.close()


def _size(db: Path) -> int:
    """The bytes of a database and its journal (what spooling it reads)."""
    total = 0
    for path in (db, db.with_suffix(JOURNAL_SUFFIX)):
        try:
            total += path.stat().st_size
        except OSError:
            pass
    return total
