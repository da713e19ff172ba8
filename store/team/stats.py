"""Per-article figures for the library: state, credibility (mine and mean), counts, labels; and filters."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from store.annotation.record import STATES, state_of
from store.annotation.summary import Summary
from store.annotators import is_human
from store.db.storage import file_stamp, quiet_gc
from store.errors import StoreError
from store.team import assign
from store.workspace import Workspace

NOBODY: frozenset[str] = frozenset()


@dataclass(slots=True)
class ArticleRow:
    """What the library shows and filters on for one article, from one annotator's point of view (one per
    article of the corpus: kept small, the sets shared while empty)."""

    id: str
    title: str
    source: str | None
    date: str | None
    state: str = "not started"
    credibility: int | None = None
    credibility_mean: float | None = None
    entities: int = 0
    claims: int = 0
    labels: frozenset[str] = NOBODY
    annotators: frozenset[str] = NOBODY
    done_by: frozenset[str] = NOBODY
    assigned: bool = False
    """Assigned to this annotator by `tahqiq assign`."""


@dataclass
class Filters:
    """Library filters; None means "any"."""

    state: str | None = None
    source: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    credibility_min: int | None = None
    credibility_max: int | None = None
    label: str | None = None
    annotator: str | None = None

    def accepts(self, row: ArticleRow) -> bool:
        if self.state and row.state != self.state:
            return False
        if self.source and row.source != self.source:
            return False
        if self.date_from and (row.date is None or row.date < self.date_from):
            return False
        if self.date_to and (row.date is None or row.date > self.date_to):
            return False
        if self.credibility_min is not None and (row.credibility is None or row.credibility < self.credibility_min):
            return False
        if self.credibility_max is not None and (row.credibility is None or row.credibility > self.credibility_max):
            return False
        if self.label and self.label not in row.labels:
            return False
        return not (self.annotator and self.annotator not in row.annotators)

    @property
    def active(self) -> bool:
        """Whether any filter is set."""
        return any(v not in (None, "") for v in vars(self).values())

    def describe(self) -> str:
        """The active filters in one line ("" when none)."""
        return "  ".join(f"{k}={v}" for k, v in vars(self).items() if v not in (None, ""))


_STATE_ORDER = {state: n for n, state in enumerate(STATES)}
SORT_KEYS = {
    "state": lambda r: _STATE_ORDER[r.state],
    "title": lambda r: r.title,
    "source": lambda r: r.source or "",
    "date": lambda r: r.date or "",
    "credibility": lambda r: r.credibility or 0,
    "mean": lambda r: r.credibility_mean or 0,
    "entities": lambda r: r.entities,
    "claims": lambda r: r.claims,
}


def article_rows(workspace: Workspace, annotator: str, team: bool = True,
                 problems: list[str] | None = None) -> list[ArticleRow]:
    """One row per article in corpus order, with `annotator`'s state and counts and everyone's mean.

    `team=False` reads only `annotator`'s own summaries (no mean, no team progress). Given a `problems` list,
    a damaged assignments.json is told there (one line) and the rows come without assignments, instead of an
    error. (LibraryRows keeps them, to refresh only what changed.)"""
    return LibraryRows(workspace, annotator, team).rows(problems)


class LibraryRows:
    """The library's rows, kept between refreshes: `rows()` reads every annotator's summaries (cheap: files
    and new journal lines) and recomputes only the rows of articles whose summary changed for someone, so
    a teammate's save costs a few rows, not the corpus. The whole list is rebuilt when the corpus, the
    assignment or the set of annotators changed. Thread-safe (the library refreshes from a worker)."""

    def __init__(self, workspace: Workspace, annotator: str, team: bool = True) -> None:
        self.workspace, self.annotator, self.team = workspace, annotator, team
        self._lock = threading.Lock()
        self._list: list[ArticleRow] = []
        self._at: dict[str, int] = {}
        """Article id -> its row's place in the list."""
        self._basis: tuple = ()
        self._seen: dict[str, dict[str, Summary]] = {}

    def rows(self, problems: list[str] | None = None) -> list[ArticleRow]:
        """Every article's row in corpus order (the same list while nothing forces a rebuild; a changed row is
        replaced by a new one in its place)."""
        with self._lock:
            ws = self.workspace
            try:
                assignment, stamp = assign.load(ws.path), file_stamp(ws.path / assign.ASSIGNMENTS_FILE)
            except StoreError as exc:
                if problems is None:
                    raise
                problems.append(f"{exc}; shown without assignments")
                assignment, stamp = {}, "damaged"
            catalog = ws.catalog()
            names = [n for n in ws.annotators() if is_human(n) and (self.team or n == self.annotator)]
            summaries = {name: ws.summaries(name) for name in names}
            own = summaries[self.annotator] if self.annotator in summaries else ws.summaries(self.annotator)
            watched = {**summaries, self.annotator: own}
            basis = (id(catalog), len(catalog.ids), stamp, tuple(names))
            if basis != self._basis:
                with quiet_gc(freeze=False):  # (100,000 rows, all kept: collections meanwhile double the time)
                    self._rebuild(catalog, assignment, summaries, own)
                self._basis = basis
            else:
                changed: set[str] = set()
                for name, now in watched.items():
                    before = self._seen.get(name, {})
                    changed.update(k for k, v in now.items() if before.get(k) != v)
                    changed.update(before.keys() - now.keys())
                for article_id in changed:
                    at = self._at.get(article_id)
                    if at is not None:  # a new row in the slot: a reader of the list never sees one half-filled
                        old = self._list[at]
                        row = ArticleRow(old.id, old.title, old.source, old.date, assigned=old.assigned)
                        _fill(row, self.annotator, summaries, own)
                        self._list[at] = row
            self._seen = {name: dict(now) for name, now in watched.items()}
            return self._list

    def _rebuild(self, catalog, assignment: dict, summaries: dict[str, dict[str, Summary]],
                 own: dict[str, Summary]) -> None:
        me = self.annotator
        self._list = [ArticleRow(i, t, s, d, assigned=me in assignment.get(i, ()))
                      for i, t, s, d in zip(catalog.ids, catalog.titles, catalog.sources, catalog.dates)]
        self._at = {row.id: n for n, row in enumerate(self._list)}
        touched = set(own)
        for now in summaries.values():
            touched.update(now)
        for row in self._list:
            if row.id in touched:
                _fill(row, me, summaries, own)


_SETS: dict[frozenset[str], frozenset[str]] = {}
"""One frozenset object per distinct set of labels or names (rows hold a few hundred distinct sets between
100,000 articles: ~25 MB saved at that size)."""


def _shared(names: frozenset[str]) -> frozenset[str]:
    return _SETS.setdefault(names, names)


def _fill(row: ArticleRow, annotator: str, summaries: dict[str, dict[str, Summary]],
          own: dict[str, Summary]) -> None:
    """`row`'s figures from every annotator's summary of its article (`summaries`: the humans counted)."""
    annotators: set[str] = set()
    done_by: set[str] = set()
    scores: list[int] = []
    for name, now in summaries.items():
        summary = now.get(row.id)
        if summary is None:
            continue
        if summary.records or summary.state not in (None, "not started"):
            annotators.add(name)
        if summary.state == "done":
            done_by.add(name)
        if summary.score is not None:
            scores.append(summary.score)
    mine = own.get(row.id)
    if mine is not None and annotator in summaries:
        row.entities, row.claims, row.credibility = mine.entities, mine.claims, mine.score
        row.labels = _shared(frozenset((*mine.labels, "CLAIM") if mine.claims else mine.labels))
    else:
        row.entities, row.claims, row.credibility, row.labels = 0, 0, None, NOBODY
    row.annotators = _shared(frozenset(annotators)) if annotators else NOBODY
    row.done_by = _shared(frozenset(done_by)) if done_by else NOBODY
    row.state = state_of(mine.state if mine is not None else None, annotator in annotators)
    row.credibility_mean = round(sum(scores) / len(scores), 2) if scores else None  # (as statistics.mean: ints)



def workspace_stamp(workspace: Workspace) -> tuple:
    """Changes whenever anyone saves annotations or the assignment changes (to refresh a running app)."""
    stamps = []
    for folder in (workspace.path / "annotations", workspace.path):
        try:
            with os.scandir(folder) as entries:
                stamps += sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in entries if e.is_file())
        except OSError:
            continue
    return tuple(stamps)


def progress(rows: list[ArticleRow], annotator: str) -> tuple[int, int, int]:
    """(done by me, done by anyone in the team, total)."""
    return (sum(annotator in r.done_by for r in rows), sum(bool(r.done_by) for r in rows), len(rows))
