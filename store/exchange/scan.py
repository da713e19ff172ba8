"""An export's first pass over one annotator through their record index (store.db.group_reader), made for some of
the articles by the exporting process and for the others by its helper process (store.exchange.helper).

`spool_scanned` walks the database in its file's order, each run of an article's records parsed at once by
GroupReader.scan and every record checked here as an article read alone is checked (`_checked`); an article the
journal changed, or any doubt, is read alone (`ByArticle.rows`), which says what is wrong (Stale: the caller
reads the whole files instead, store.exchange.stream).
"""

from __future__ import annotations

import marshal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from store.annotation.annotation_set import AnnotationSet
from store.annotation.record import GROUP_FIELD, sort_key, state_of
from store.annotation.record import stored_problem as record_problem
from store.db.group_reader import GroupReader
from store.db.journal_format import check_record
from store.db.record_index import Stale
from store.errors import StoreError
from store.exchange.spools import Spool

Prepare = Callable[[str, str, list[dict[str, Any]]], Any]
"""prepare(annotator, state, rows) -> what the writer needs of one annotator's work on one article (marshal-able)."""


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
