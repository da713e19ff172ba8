"""Per-article figures for the library: state, credibility (mine and mean), counts, labels; and filters."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from store.annotation.record import STATES, state_of
from store.annotation.summary import Summary
from store.annotators import is_human
from store.db.journal_format import LOCK_SUFFIX
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
        """Article id -> its row's place in the list (the corpus's, from `blank_rows`: set by each rebuild)."""
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
                    if now == before:  # (compared in C: most annotators saved nothing since)
                        continue
                    changed.update(k for k, v in now.items() if before.get(k) != v)
                    changed.update(before.keys() - now.keys())
                if changed:
                    self._refill(changed, summaries, own)
            self._seen = {name: dict(now) for name, now in watched.items()}
            return self._list

    def _rebuild(self, catalog, assignment: dict[str, list[str]], summaries: dict[str, dict[str, Summary]],
                 own: dict[str, Summary]) -> None:
        """The list made anew: the corpus's blank rows (`blank_rows`), with a row of its own for each article
        someone has figures for or that is assigned to this annotator."""
        me = self.annotator
        touched = _figures(me, summaries, own)
        assigned = {i for i, names in assignment.items() if me in names}
        blank, at = blank_rows(catalog)
        rows = list(blank)
        for i in touched.keys() | assigned:
            n = at.get(i)
            if n is None:
                continue  # (figures of an article the corpus no longer lists)
            row, figures = blank[n], touched.get(i)
            if figures is None:  # (all arguments positional: keywords or *figures would slow many calls)
                rows[n] = ArticleRow(i, row.title, row.source, row.date, "not started", None, None, 0, 0, NOBODY,
                                     NOBODY, NOBODY, i in assigned)
            else:
                state, credibility, mean, entities, claims, labels, annotators, done_by = figures
                rows[n] = ArticleRow(i, row.title, row.source, row.date, state, credibility, mean, entities, claims,
                                     labels, annotators, done_by, i in assigned)
        self._list, self._at = rows, at

    def _refill(self, changed: set[str], summaries: dict[str, dict[str, Summary]],
                own: dict[str, Summary]) -> None:
        """New rows for the articles `changed` (a reader of the list never sees one half-filled)."""
        for article_id, figures in _figures(self.annotator, summaries, own, changed).items():
            at = self._at.get(article_id)
            if at is not None:
                old = self._list[at]
                self._list[at] = ArticleRow(old.id, old.title, old.source, old.date, *figures, old.assigned)


_BLANK: list[tuple[object, list[ArticleRow], dict[str, int]]] = []
"""(catalog, its blank rows, each article's place) for the catalog last asked for (`blank_rows`)."""
_BLANK_LOCK = threading.Lock()


def blank_rows(catalog) -> tuple[list[ArticleRow], dict[str, int]]:
    """A row per article of `catalog` as nobody has touched it (not started, not assigned), and article id -> its
    place, made once per catalog and shared (read only) by every LibraryRows of the process: the annotator's own
    and the team's, and those of the sessions `tahqiq serve` forks after making them (tui.cli.serve_starter). At
    100,000 articles, ~60 ms of each list made anew."""
    with _BLANK_LOCK:
        if _BLANK and _BLANK[0][0] is catalog:
            return _BLANK[0][1], _BLANK[0][2]
        with quiet_gc(freeze=False):  # (100,000 rows, all kept: see quiet_gc)
            rows = [ArticleRow(i, t, s, d, "not started", None, None, 0, 0, NOBODY, NOBODY, NOBODY, False)
                    for i, t, s, d in zip(catalog.ids, catalog.titles, catalog.sources, catalog.dates)]
            at = {i: n for n, i in enumerate(catalog.ids)}
        _BLANK[:] = [(catalog, rows, at)]
        return rows, at


_SETS: dict[frozenset[str], frozenset[str]] = {}
"""One frozenset object per distinct set of labels or names (rows hold a few hundred distinct sets between
100,000 articles: ~25 MB saved at that size)."""


def _shared(names: frozenset[str]) -> frozenset[str]:
    return _SETS.setdefault(names, names)


def _figures(annotator: str, summaries: dict[str, dict[str, Summary]], own: dict[str, Summary],
             articles: set[str] | None = None) -> dict[str, tuple]:
    """Article id -> the figures of its row from `annotator`'s point of view (ArticleRow's fields from `state`
    to `done_by`, in order), for the `articles` given, or else for every article someone in `summaries` (the
    humans counted) or `annotator` (`own`) has a summary of (an article nobody has one of has a blank row).

    Each annotator's summaries are walked once, gathering per article a bit per annotator who worked on it,
    one per annotator who is done, and the scores in `summaries`' order; the team's figures (mean, sets of
    names) are then made once per distinct combination, and shared between the articles that have it."""
    count = len(summaries)
    gathered: dict[str, list] = {}
    """Article id -> [bits, scores...]: bit n set when the n-th annotator in `summaries` worked on it (annotated
    it or set a state), bit count + n when they are done."""
    for n, now in enumerate(summaries.values()):
        worked, done = 1 << n, 1 << (count + n)
        pairs = now.items() if articles is None else [(i, now[i]) for i in articles if i in now]
        for article_id, summary in pairs:
            state, score = summary.state, summary.score
            bits = worked if summary.records or state not in (None, "not started") else 0
            if state == "done":
                bits |= done
            got = gathered.get(article_id)
            if got is None:
                gathered[article_id] = [bits] if score is None else [bits, score]
            else:
                got[0] |= bits
                if score is not None:
                    got.append(score)
    for article_id in (own.keys() if articles is None else articles) - gathered.keys():
        gathered[article_id] = [0]
    names = list(summaries)

    def named(mask: int) -> frozenset[str]:
        return _shared(frozenset(name for n, name in enumerate(names) if mask >> n & 1)) if mask else NOBODY

    counted = annotator in summaries
    me = 1 << names.index(annotator) if counted else 0
    everyone = (1 << count) - 1
    teams: dict[tuple, tuple] = {}
    """(bits, scores...) -> (mean, annotators, done_by, the figures of an article `annotator` has no summary of)."""
    labelled: tuple[dict, dict] = ({}, {})
    """Labels -> their shared set, without and with "CLAIM"."""
    out: dict[str, tuple] = {}
    for article_id, got in gathered.items():
        key = tuple(got)
        exact = type(sum(got)) is int  # (int scores only: equal keys of floats may sum otherwise, as 1e16 + 1.0)
        team = teams.get(key) if exact else None
        if team is None:
            scores = got[1:]
            mean = round(sum(scores) / len(scores), 2) if scores else None  # (as statistics.mean: ints)
            annotators, done_by = named(got[0] & everyone), named(got[0] >> count)
            team = (mean, annotators, done_by, ("not started", None, mean, 0, 0, NOBODY, annotators, done_by))
            if exact:
                teams[key] = team
        mine = own.get(article_id)
        if mine is None:  # (so `annotator` did not work on it)
            out[article_id] = team[3]
        elif not counted:
            out[article_id] = (state_of(mine.state, False), None, team[0], 0, 0, NOBODY, team[1], team[2])
        else:
            shared = labelled[bool(mine.claims)]
            labels = shared.get(mine.labels)
            if labels is None:
                labels = shared[mine.labels] = _shared(frozenset((*mine.labels, "CLAIM") if mine.claims
                                                                 else mine.labels))
            out[article_id] = (state_of(mine.state, bool(got[0] & me)), mine.score, team[0], mine.entities,
                               mine.claims, labels, team[1], team[2])
    return out


def workspace_stamp(workspace: Workspace) -> tuple:
    """Changes whenever anyone saves annotations or the assignment changes (to refresh a running app). Lock files
    are left out: a teammate opening or closing a session rewrites theirs, and changes no figure (twenty sessions
    opened at once made every open library re-read the whole team's figures twenty times)."""
    stamps = []
    for folder in (workspace.path / "annotations", workspace.path):
        try:
            with os.scandir(folder) as entries:
                stamps += sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in entries
                                 if e.is_file() and not e.name.endswith(LOCK_SUFFIX))
        except OSError:
            continue
    return tuple(stamps)


def progress(rows: list[ArticleRow], annotator: str) -> tuple[int, int, int]:
    """(done by me, done by anyone in the team, total)."""
    return (sum(annotator in r.done_by for r in rows), sum(bool(r.done_by) for r in rows), len(rows))
