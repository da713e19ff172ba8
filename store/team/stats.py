"""Per-article figures for the library: state, credibility (mine and mean), counts, labels, read from every
annotator's summaries into the library's rows (store.team.rows)."""

from __future__ import annotations

import os
import threading

from store.annotation.record import state_of
from store.annotation.summary import Summary
from store.annotators import is_human
from store.db.journal_format import LOCK_SUFFIX
from store.db.storage import file_stamp
from store.errors import StoreError
from store.team import assign
from store.team.rows import BLANK, NOBODY, Rows
from store.workspace import Workspace


def article_rows(workspace: Workspace, annotator: str, team: bool = True,
                 problems: list[str] | None = None) -> Rows:
    """One row per article in corpus order, with `annotator`'s state and counts and everyone's mean.

    `team=False` reads only `annotator`'s own summaries (no mean, no team progress). Given a `problems` list,
    a damaged assignments.json is told there (one line) and the rows come without assignments, instead of an
    error. (LibraryRows keeps them, to refresh only what changed.)"""
    return LibraryRows(workspace, annotator, team).rows(problems)


class LibraryRows:
    """The library's rows, kept between refreshes: `rows()` reads every annotator's summaries (cheap: files
    and new journal lines) and recomputes only the rows of articles whose summary changed for someone, so
    a teammate's save costs a few rows, not the corpus. The rows are made anew when the corpus, the
    assignment or the set of annotators changed. Thread-safe (the library refreshes from a worker)."""

    def __init__(self, workspace: Workspace, annotator: str, team: bool = True) -> None:
        self.workspace, self.annotator, self.team = workspace, annotator, team
        self._lock = threading.Lock()
        self._rows: Rows | None = None
        self._basis: tuple = ()
        self._seen: dict[str, dict[str, Summary]] = {}

    def rows(self, problems: list[str] | None = None) -> Rows:
        """Every article's row in corpus order: the same Rows while nothing changed, else new ones (Rows given
        before are never changed: the library may be reading them in another thread)."""
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
            if basis != self._basis or self._rows is None:
                self._rows = self._made(catalog, assignment, summaries, own)
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
                    self._rows = self._refilled(self._rows, changed, summaries, own)
            self._seen = {name: dict(now) for name, now in watched.items()}
            return self._rows

    def _made(self, catalog, assignment: dict[str, list[str]], summaries: dict[str, dict[str, Summary]],
              own: dict[str, Summary]) -> Rows:
        """The rows made anew: the figures of each article someone has figures for or that is assigned to this
        annotator, by position (any other row is blank: see store.team.rows)."""
        me = self.annotator
        touched = _figures(me, summaries, own)
        assigned = {i for i, names in assignment.items() if me in names}
        at = catalog.positions
        figures: dict[int, tuple] = {}
        for i, f in touched.items():
            n = at.get(i)
            if n is not None:  # (else figures of an article the corpus no longer lists)
                figures[n] = (*f, i in assigned)
        for i in assigned - touched.keys():
            n = at.get(i)
            if n is not None:
                figures[n] = (*BLANK[:-1], True)
        return Rows(catalog, figures)

    def _refilled(self, rows: Rows, changed: set[str], summaries: dict[str, dict[str, Summary]],
                  own: dict[str, Summary]) -> Rows:
        """`rows` with new figures for the articles `changed`."""
        figures = dict(rows.figures)
        for article_id, f in _figures(self.annotator, summaries, own, changed).items():
            n = rows.position(article_id)
            if n is not None:
                figures[n] = (*f, n in figures and figures[n][8])
        return Rows(rows.catalog, figures)


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
