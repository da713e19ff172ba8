"""The library's rows: what it shows and filters on for each article, and the order it shows them in.

Every article of the corpus has a row, but rows are made only when asked for (the ~40 drawn, or those a filter
looks at): `Rows` keeps the figures of the articles someone has figures for, or that are assigned, as tuples by
position in the corpus; any other row is blank (nobody's figures). Sorting (`visible`) goes over positions and
figures, and treats the blank rows as the one row they are but for their title, outlet and date. So at 100,000
articles the library's first screen makes the rows it draws, not 100,000 (~90 ms of objects, ~60 ms more to sort
them), and decodes the titles it draws (store.corpus.catalog.Titles).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import accumulate, chain
from operator import itemgetter
from typing import Any

from store.annotation.record import STATES
from store.corpus.catalog import Catalog
from store.sequences import LazySequence

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


Figures = tuple
"""An article's figures as its row gives them, in ArticleRow's order from `state` to `assigned`."""
_STATE_ORDER = {state: n for n, state in enumerate(STATES)}
BLANK: Figures = (NOT_STARTED, None, None, 0, 0, NOBODY, NOBODY, NOBODY, False)
"""The figures of a blank row: nobody worked on the article, nor is it assigned."""
_FIGURE_KEYS: dict[str, Callable[[Figures], Any]] = {
    "state": lambda f: _STATE_ORDER[f[0]],
    "credibility": lambda f: f[1] or 0,
    "mean": lambda f: f[2] or 0,
    "entities": itemgetter(3),
    "claims": itemgetter(4),
}
_CATALOG_KEYS: dict[str, Callable[[Catalog], Sequence[str]]] = {
    "title": lambda c: c.titles,
    "source": lambda c: [s or "" for s in c.sources],
    "date": lambda c: [d or "" for d in c.dates],
}
"""The sorts whose key is a column of the catalog (any row's key is its article's entry there)."""
SORTS = ("state", "title", "source", "date", "credibility", "mean", "entities", "claims")
"""The library's sorts, in the order `s` goes through them: by a row's figures (_FIGURE_KEYS: a credibility or
mean that is None sorts as 0) or by its article's title, outlet or date (_CATALOG_KEYS: None as "")."""


class Rows(LazySequence[ArticleRow]):
    """Every article's row, in corpus order: made when asked for, from the catalog and `figures`' entry for its
    position (Figures), or else blank. Never changed once made (the library reads one in its thread while another
    is made)."""

    __slots__ = ("catalog", "figures")

    def __init__(self, catalog: Catalog, figures: dict[int, Figures]) -> None:
        self.catalog, self.figures = catalog, figures

    def __len__(self) -> int:
        return len(self.catalog.ids)

    def _item(self, n: int) -> ArticleRow:
        c = self.catalog
        return ArticleRow(c.ids[n], c.titles[n], c.sources[n], c.dates[n], *self.figures.get(n, BLANK))

    def __eq__(self, other: object) -> bool:  # (as the lists of the same rows would be)
        return isinstance(other, Sequence) and not isinstance(other, str) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def position(self, article_id: str) -> int | None:
        return self.catalog.positions.get(article_id)

    def progress(self, annotator: str) -> tuple[int, int, int]:
        """(done by `annotator`, done by anyone in the team, total): a blank row is done by nobody."""
        done_by = [f[7] for f in self.figures.values()]
        return sum(annotator in d for d in done_by), sum(map(bool, done_by)), len(self)

    def any_assigned(self) -> bool:
        return any(f[8] for f in self.figures.values())

    def unfinished(self, order: Iterable[int]) -> list[str]:
        """The ids of the articles at the positions `order` that are not done, and only those assigned to the
        annotator when any is (what triage goes through), without making their rows."""
        figures, ids = self.figures, self.catalog.ids
        if self.any_assigned():
            return [ids[n] for n in order if (f := figures.get(n)) is not None and f[8] and f[0] != "done"]
        return [ids[n] for n in order if (f := figures.get(n)) is None or f[0] != "done"]


class View(LazySequence[ArticleRow]):
    """Some of the rows of a `Rows`, in an order: `order` holds their positions in the corpus."""

    __slots__ = ("rows", "order")

    def __init__(self, rows: Rows | Sequence[ArticleRow], order: Sequence[int]) -> None:
        self.rows, self.order = rows, order

    def __len__(self) -> int:
        return len(self.order)

    def _item(self, i: int) -> ArticleRow:
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
    order within each part kept). No row is made, and a blank row's position is listed only where it has to be:
    with no filter, no search and a sort by figures, the blank rows are one run in corpus order (`_Except`)."""
    figures, count = rows.figures, len(rows)
    touched = sorted(figures)
    blank: Sequence[int] | None = None  # (None: every position not in `figures`)
    if among is not None:
        wanted = sorted(n for i in among if (n := rows.position(i)) is not None)
        touched = [n for n in wanted if n in figures]
        blank = [n for n in wanted if n not in figures]
    if filters.active:
        touched = [n for n in touched if filters.accepts(rows[n])]
        if not replace(filters, source=None, date_from=None, date_to=None).accepts(_BLANK_ROW):
            blank = []
        elif filters.source or filters.date_from or filters.date_to:
            sources, dates = rows.catalog.sources, rows.catalog.dates
            blank = [n for n in (range(count) if blank is None else blank)
                     if n not in figures and filters.accepts_place(sources[n], dates[n])]
    column = _CATALOG_KEYS.get(sort_key)
    if column is not None:  # (the key of a row is its article's, in the catalog)
        if blank is None:
            blank = [n for n in range(count) if n not in figures]  # (listed: every row is sorted anyway)
        order: Sequence[int] = sorted(_merged(touched, blank), key=column(rows.catalog).__getitem__,
                                      reverse=reverse)
    else:
        key = _FIGURE_KEYS[sort_key]
        blank_key = key(BLANK)
        keyed = {n: key(figures[n]) for n in touched}
        ranked = sorted(touched, key=keyed.__getitem__, reverse=reverse)
        before = [n for n in ranked if (keyed[n] > blank_key if reverse else keyed[n] < blank_key)]
        level = [n for n in touched if keyed[n] == blank_key]
        after = ranked[len(before) + len(level):]
        if blank is None:  # (every blank row, and the rows with figures that sort with them)
            middle: Sequence[int] = _Except(count, sorted(figures.keys() - set(level)))
        else:
            middle = _merged(level, blank)
        order = _Chain([before, middle, after])
    assigned = [n for n in touched if figures[n][8]]
    if assigned:
        first = set(assigned)
        order = [n for n in order if n in first] + [n for n in order if n not in first]
    return View(rows, order)


_BLANK_ROW = ArticleRow("", "", None, None, *BLANK)


def _merged(some: list[int], others: Sequence[int]) -> list[int]:
    """Two lists of positions, each in corpus order, as one in corpus order."""
    if not some:
        return list(others)
    return sorted([*some, *others]) if others else some


class _Except(LazySequence[int]):
    """The positions from 0 to `count` (not included), but those `left_out` (sorted), in order; indexed and searched
    by bisection over what is left out, never listed."""

    __slots__ = ("_count", "_left_out", "_shifted")

    def __init__(self, count: int, left_out: list[int]) -> None:
        self._count, self._left_out = count, left_out
        self._shifted = [p - j for j, p in enumerate(left_out)]
        """For each position left out, how many positions kept come before it."""

    def __len__(self) -> int:
        return self._count - len(self._left_out)

    def _item(self, i: int) -> int:
        return i + bisect_right(self._shifted, i)

    def index(self, position: int, *_: object) -> int:  # type: ignore[override]
        j = bisect_left(self._left_out, position)
        if not 0 <= position < self._count or j < len(self._left_out) and self._left_out[j] == position:
            raise ValueError(f"{position} is not in the view")
        return position - j

    def __iter__(self) -> Iterator[int]:
        left_out = set(self._left_out)
        return (p for p in range(self._count) if p not in left_out)


class _Chain(LazySequence[int]):
    """Sequences of positions one after the other, as one."""

    __slots__ = ("_parts", "_starts")

    def __init__(self, parts: list[Sequence[int]]) -> None:
        self._parts = [part for part in parts if len(part)]
        self._starts = list(accumulate((len(part) for part in self._parts), initial=0))

    def __len__(self) -> int:
        return self._starts[-1]

    def _item(self, i: int) -> int:
        k = bisect_right(self._starts, i) - 1
        return self._parts[k][i - self._starts[k]]

    def index(self, position: int, *_: object) -> int:  # type: ignore[override]
        for start, part in zip(self._starts, self._parts):
            try:
                return start + part.index(position)
            except ValueError:
                continue
        raise ValueError(f"{position} is not in the view")

    def __iter__(self) -> Iterator[int]:
        return chain.from_iterable(self._parts)
