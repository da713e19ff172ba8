"""The library's rows: what it shows and filters on for each article, and the order it shows them in.

Every article of the corpus has a row, but only the rows of articles someone has figures for, or that are assigned,
are kept as objects (`Rows.made`); any other row is blank (nobody's figures) and is made from the catalog when it is
asked for. Filtering and sorting (`visible`) go over positions in the corpus, and treat the blank rows as the one
row they are but for their title, outlet and date. So at 100,000 articles the library's first screen makes the rows
it draws and the annotator's own, not 100,000 (~90 ms of objects, and ~60 ms more to sort them).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from store.annotation.record import STATES
from store.corpus.catalog import Catalog

NOBODY: frozenset[str] = frozenset()
NOT_STARTED = "not started"


@dataclass(slots=True)
class ArticleRow:
    """What the library shows and filters on for one article, from one annotator's point of view (kept small,
    the sets shared while empty)."""

    id: str
    title: str
    source: str | None
    date: str | None
    state: str = NOT_STARTED
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
        if not self.accepts_place(row.source, row.date):
            return False
        if self.credibility_min is not None and (row.credibility is None or row.credibility < self.credibility_min):
            return False
        if self.credibility_max is not None and (row.credibility is None or row.credibility > self.credibility_max):
            return False
        if self.label and self.label not in row.labels:
            return False
        return not (self.annotator and self.annotator not in row.annotators)

    def accepts_place(self, source: str | None, date: str | None) -> bool:
        """Whether an article's outlet and date pass the filters on them (what tells one blank row from another)."""
        if self.source and source != self.source:
            return False
        if self.date_from and (date is None or date < self.date_from):
            return False
        return not (self.date_to and (date is None or date > self.date_to))

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
"""The library's sorts: each a key of a row."""
_BLANK_ROW = ArticleRow("", "", None, None)
_CATALOG_KEYS = {"title": lambda c: c.titles, "source": lambda c: [s or "" for s in c.sources],
                 "date": lambda c: [d or "" for d in c.dates]}
"""The sorts whose key is a column of the catalog (any row's key is its article's entry there)."""


class Rows(Sequence[ArticleRow]):
    """Every article's row, in corpus order: `made`'s row where there is one (position -> row), else a blank row
    made when asked for. Never changed once made (the library reads one in its thread while another is made)."""

    __slots__ = ("catalog", "made")

    def __init__(self, catalog: Catalog, made: dict[int, ArticleRow]) -> None:
        self.catalog, self.made = catalog, made

    def __len__(self) -> int:
        return len(self.catalog.ids)

    def __getitem__(self, n):  # type: ignore[override]
        if isinstance(n, slice):
            return [self[i] for i in range(*n.indices(len(self)))]
        if n < 0:
            n += len(self)
        row = self.made.get(n)
        if row is None:
            c = self.catalog
            row = ArticleRow(c.ids[n], c.titles[n], c.sources[n], c.dates[n])
        return row

    def __eq__(self, other: object) -> bool:  # (as the lists of the same rows would be)
        return isinstance(other, Sequence) and not isinstance(other, str) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def position(self, article_id: str) -> int | None:
        return self.catalog.positions.get(article_id)

    def progress(self, annotator: str) -> tuple[int, int, int]:
        """(done by `annotator`, done by anyone in the team, total): only a made row can be done."""
        made = self.made.values()
        return sum(annotator in r.done_by for r in made), sum(bool(r.done_by) for r in made), len(self)


class View(Sequence[ArticleRow]):
    """Some of the rows of a `Rows`, in an order: `order` holds their positions in the corpus."""

    __slots__ = ("rows", "order")

    def __init__(self, rows: Rows | Sequence[ArticleRow], order: Sequence[int]) -> None:
        self.rows, self.order = rows, order

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self.rows[n] for n in self.order[i]]
        return self.rows[self.order[i]]

    def __iter__(self) -> Iterator[ArticleRow]:
        rows = self.rows
        return (rows[n] for n in self.order)

    def index_of(self, article_id: str) -> int | None:
        """Where an article is in this view, or None if it is not in it."""
        rows = self.rows
        n = rows.position(article_id) if isinstance(rows, Rows) else next(
            (n for n, r in enumerate(rows) if r.id == article_id), None)
        if n is None:
            return None
        try:
            return self.order.index(n)
        except ValueError:
            return None


EMPTY = View([], [])


def visible(rows: Rows, filters: Filters, sort_key: str, reverse: bool = False,
            among: Mapping[str, object] | None = None) -> View:
    """The rows that `filters` keep (and only the articles `among`, a search's hits, if given), sorted by
    `sort_key` as a stable sort of the corpus order would sort them, those assigned to the annotator first (the
    order within each part kept). Made without a row object for the blank rows."""
    made, count = rows.made, len(rows)
    if among is None:
        touched = sorted(made)
        blank: Sequence[int] = [n for n in range(count) if n not in made] if made else range(count)
    else:
        wanted = sorted(n for i in among if (n := rows.position(i)) is not None)
        touched = [n for n in wanted if n in made]
        blank = [n for n in wanted if n not in made]
    if filters.active:
        touched = [n for n in touched if filters.accepts(made[n])]
        if not replace(filters, source=None, date_from=None, date_to=None).accepts(_BLANK_ROW):
            blank = []
        elif filters.source or filters.date_from or filters.date_to:
            sources, dates = rows.catalog.sources, rows.catalog.dates
            blank = [n for n in blank if filters.accepts_place(sources[n], dates[n])]
    column = _CATALOG_KEYS.get(sort_key)
    if column is not None:  # (the key of a row is its article's, in the catalog)
        keys = column(rows.catalog)
        order = sorted(_merged(touched, blank), key=keys.__getitem__, reverse=reverse)
    else:
        key = SORT_KEYS[sort_key]
        blank_key = key(_BLANK_ROW)
        ranked = sorted(touched, key=lambda n: key(made[n]), reverse=reverse)
        before = [n for n in ranked if (key(made[n]) > blank_key if reverse else key(made[n]) < blank_key)]
        level = [n for n in touched if key(made[n]) == blank_key]
        after = ranked[len(before) + len(level):]
        order = before + _merged(level, blank) + after
    assigned = {n for n in touched if made[n].assigned}
    if assigned:
        order = [n for n in order if n in assigned] + [n for n in order if n not in assigned]
    return View(rows, order)


def _merged(some: list[int], others: Sequence[int]) -> list[int]:
    """Two lists of positions, each in corpus order, as one in corpus order."""
    if not some:
        return list(others)
    return sorted([*some, *others]) if others else some
