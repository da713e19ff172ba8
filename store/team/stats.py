"""Per-article figures for the library: state, credibility (mine and mean), counts, labels; and filters."""

from __future__ import annotations

import os
from dataclasses import dataclass

from store.annotation.record import STATES, state_of
from store.annotators import is_human
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

    def describe(self) -> str:
        """The active filters in one line ("" when none)."""
        return "  ".join(f"{k}={v}" for k, v in vars(self).items() if v not in (None, ""))


SORT_KEYS = {
    "state": lambda r: STATES.index(r.state),
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

    `team=False` reads only `annotator`'s own annotations (no mean, no team progress): quick enough for a
    first screen when a large team's databases take seconds to load. Given a `problems` list, a damaged
    assignments.json is told there (one line) and the rows come without assignments, instead of an error."""
    try:
        assignment = assign.load(workspace.path)
    except StoreError as exc:
        if problems is None:
            raise
        problems.append(f"{exc}; shown without assignments")
        assignment = {}
    catalog = workspace.catalog()
    rows = {i: ArticleRow(i, t, s, d, assigned=annotator in assignment.get(i, ()))
            for i, t, s, d in zip(catalog.ids, catalog.titles, catalog.sources, catalog.dates)}
    scores: dict[str, list[int]] = {}
    names = workspace.annotators() if team else [n for n in workspace.annotators() if n == annotator]
    for name in names:
        if not is_human(name):
            continue  # imported predictions are suggestions, and gold is the reviewer's result
        mine = name == annotator
        for article_id, summary in workspace.summaries(name).items():
            row = rows.get(article_id)
            if row is None:
                continue
            if summary.records or summary.state not in (None, "not started"):
                row.annotators = row.annotators | {name}
            if summary.state == "done":
                row.done_by = row.done_by | {name}
            if summary.score is not None:
                scores.setdefault(article_id, []).append(summary.score)
            if mine:
                row.entities, row.claims, row.credibility = summary.entities, summary.claims, summary.score
                row.labels = frozenset((*summary.labels, "CLAIM") if summary.claims else summary.labels)
    own = workspace.summaries(annotator)
    for row in rows.values():
        summary = own.get(row.id)
        row.state = state_of(summary.state if summary is not None else None, annotator in row.annotators)
        if row.id in scores:
            row.credibility_mean = round(sum(scores[row.id]) / len(scores[row.id]), 2)  # (as statistics.mean: ints)
    return list(rows.values())


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
