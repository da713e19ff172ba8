"""What the export's helper process runs (store.exchange.helper starts it, and says what it does): pass 1 for its
share of the articles, then, when told to, pass 2 for the last ones."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

from store.db.storage import quiet_gc
from store.exchange.formats import FORMATS
from store.exchange.framed import write_part
from store.exchange.helper import share
from store.exchange.records import Context
from store.exchange.scan import by_article, spool_scanned
from store.exchange.spools import Spool
from store.exchange.stream import Articles, Selection, items
from store.workspace import Workspace


def main() -> None:
    """The helper's side: the job on stdin (pickle: each annotator's name, database and spool file descriptor, the
    article ids, the filter, prepare, and what pass 2 needs or None); each annotator spooled through the index for
    its share, or not at all; on stdout, per job, (positions, ends) of what it added (Spool.where) or None (then
    the exporting process spools that annotator). Then pass 2, when there is one for it (`_rest`)."""
    job = pickle.load(sys.stdin.buffer)
    positions = share(job["ids"], helper=True)
    keeps_state, prepare = job["keep"].keeps_state, job["prepare"]
    answers: list[tuple[bytes, bytes] | None] = []
    spools: list[Spool] = []
    with quiet_gc(freeze=False):
        for name, db, fd in job["jobs"]:
            answer = None
            out = Spool(name, open(fd, "wb", buffering=1 << 20))  # noqa: SIM115 - closed at the end
            spools.append(out)
            source = by_article(Path(db))
            if source is not None:
                try:
                    spool_scanned(out, source, positions, keeps_state, prepare, name)
                    out.file.flush()
                    answer = out.where()
                except Exception:  # (Stale, or anything: the exporting process spools it and learns what)
                    answer = None
                finally:
                    source.close()
            answers.append(answer)
        pickle.dump(answers, sys.stdout.buffer, pickle.HIGHEST_PROTOCOL)
        sys.stdout.buffer.flush()
        if job["rest"] is not None and None not in answers:
            _rest(job, spools)


def _rest(job: dict[str, Any], mine: list[Spool]) -> None:
    """Pass 2's last records, when the order comes (see the module doc); its answer on stdout."""

    rest = job["rest"]
    try:
        with open(rest["order"], "rb") as pipe:
            order = pickle.load(pipe)
    except (OSError, EOFError, pickle.UnpicklingError):
        return  # (no pass 2 for the helper)
    spools: list[Spool] = []
    for n, spool in enumerate(mine):
        theirs = Spool(spool.annotator, open(rest["theirs"][n], "rb", closefd=False))  # noqa: SIM115 - theirs
        theirs.adopt(*order["theirs"][n])
        spools += [theirs, spool]  # (the exporting process's first, as its own Selection lists them)
    workspace = Workspace.open(Path(rest["workspace"]), read_only=True)
    try:
        spec = FORMATS[order["format"]]
        ctx = Context(workspace)
        selection = Selection(Articles(workspace, job["ids"]), [s.annotator for s in mine],
                              job["prepare"] is not None, spools)
        made = items(selection, order["paragraph_direction"], start=order["start"])
        with open(rest["part"], "wb", buffering=1 << 20, closefd=False) as part:
            count = write_part(spec.records(made, ctx), spec.frame, part)
    finally:
        workspace.close()
    pickle.dump({"count": count, "directions": ctx.directions}, sys.stdout.buffer, pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.flush()
