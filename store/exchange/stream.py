"""What an export covers, read one annotator at a time and handed to the writer one Item at a time.

Output order is the corpus order (or the order of the ids asked for), then annotator order: every annotator's
work on an article is written together (Label Studio's one task per article needs it). So the export reads in
two passes:

1. `spool`: each annotator's database is read alone through its record index (store.db.group_reader: the file
   held open as it was, the journal replayed over each article it changed): walked in the file's order, each
   run of an article's records read and parsed at once, each record's crc32 checked there and every record
   checked here as an article read alone is checked (`_spool_scanned`; an article the journal changed, or any
   doubt, is read alone, which says what is wrong); when a few ids are asked for, only their articles, each
   read alone. Without an index it can trust, the database is loaded whole (its file and journal, every record
   checked, as a read-only JournalStore reads them but with no field index) and its rows grouped by article.
   What the format's writer needs of each (article, annotator) the filter keeps (`Format.prepare`'s bytes,
   else the sorted rows) is appended to an anonymous temporary file, read back in article order. What a
   damaged file left out is recorded in `workspace.damaged`, as a read-only opening does, before anything is
   written.
2. `items`: the articles are walked in order, each body read once (from bodies.bin, when needed: as UTF-8 too,
   which the JSON writers copy) and its direction worked out once; each annotator's spool is read on as far as
   that article; one Item per entry.

Memory is one article's records (pass 1; one annotator's database when it is read whole) or one article and its
entries (pass 2), never every record. Cyclic garbage collection is paused meanwhile (store.db.storage.quiet_gc).
"""

from __future__ import annotations

import marshal
import os
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from store.annotation.annotation_set import AnnotationSet
from store.annotation.record import GROUP_FIELD, sort_key, state_of
from store.annotation.record import stored_problem as record_problem
from store.corpus.article import Article
from store.corpus.bodies import BodyStore, StoredArticle, TextReader
from store.db.group_reader import GroupReader
from store.db.journal_format import check_record, read_database, replay
from store.db.record_index import Stale
from store.db.storage import quiet_gc
from store.errors import StoreError
from store.exchange.offsets import direction
from store.exchange.records import Filter, Item, parse_filter
from store.workspace import ANNOTATIONS_DIR, Workspace

Prepare = Callable[[str, str, list[dict[str, Any]]], Any]
"""prepare(annotator, state, rows) -> what the writer needs of one annotator's work on one article (marshal-able)."""


@dataclass
class Spool:
    """One annotator's entries in an anonymous temporary file (gone when closed), read back in article order
    whatever the order they were added in."""

    annotator: str
    file: IO[bytes]
    count: int = 0
    _positions: array = field(default_factory=lambda: array("q"))
    _ends: array = field(default_factory=lambda: array("q"))
    _order: list[int] = field(default_factory=list)
    _next: int = -1
    _size: int = 0

    def add(self, position: int, payload: bytes) -> None:
        self.file.write(payload)
        self._size += len(payload)
        self._positions.append(position)
        self._ends.append(self._size)
        self.count += 1

    def rewind(self) -> None:
        self.file.flush()
        positions = self._positions
        self._order = sorted(range(self.count), key=positions.__getitem__, reverse=True)  # (popped from the end)
        self._advance()

    def _advance(self) -> None:
        self._next = self._positions[self._order[-1]] if self._order else -1

    @property
    def next_position(self) -> int:
        """The position of the next entry's article, or -1 once every entry has been read."""
        return self._next

    def take(self) -> tuple[str, Any]:
        """The next entry: (state, what `prepare` made, or the sorted rows)."""
        n = self._order.pop()
        start = self._ends[n - 1] if n else 0
        entry = marshal.loads(os.pread(self.file.fileno(), self._ends[n] - start, start))
        self._advance()
        return entry


@dataclass
class Selection:
    """The articles an export covers, in output order, and the annotators (in output order), spooled."""

    articles: list[Article]
    names: list[str]
    prepared: bool = False
    """The entries hold what the format's `prepare` made, not the rows."""
    spools: list[Spool] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many Items `items` will yield."""
        return sum(s.count for s in self.spools)

    def close(self) -> None:
        for s in self.spools:
            s.file.close()
        self.spools.clear()


def _spool_file() -> IO[bytes]:
    return tempfile.TemporaryFile(prefix="tahqiq-export-", buffering=1 << 20)  # (read back with pread)


def choose(workspace: Workspace, annotators: Iterable[str] | None = None,
           articles: str | Filter | None = None) -> tuple[list[Article], list[str], Filter]:
    """The articles (corpus order, or the order of the ids asked for) and annotators an export covers, and the
    filter (states are applied per annotator by `spool`); StoreError naming an unknown annotator or id."""
    f = articles if isinstance(articles, Filter) else parse_filter(articles)
    known = workspace.annotators()
    names = list(dict.fromkeys(annotators)) if annotators else known
    missing = [n for n in names if n not in known]
    if missing:
        raise StoreError(f"--annotator: no annotations by {', '.join(map(repr, missing))} "
                         f"(annotators: {', '.join(known) or 'none yet'})")
    corpus = workspace.articles()
    if f.ids:
        by_id = {a.id: a for a in corpus}
        unknown = [i for i in f.ids if i not in by_id]
        if unknown:
            raise StoreError(f"--articles: no article with id {unknown[0]!r}")
        corpus = [by_id[i] for i in dict.fromkeys(f.ids)]
    return [a for a in corpus if f.keeps_article(a)], names, f


def read_annotator(workspace: Workspace, name: str) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """One annotator's records grouped by article id, and their recorded states, read from the files alone as a
    read-only opening reads them (store.db.journal: the database, then its journal's whole lines; every record
    checked; no field index), or, when this process holds saves of theirs the disk refused, from its memory.
    What a damaged file left out goes to `workspace.damaged`."""
    notes = workspace.opened(name)
    if notes is not None and notes.unsaved:  # the app, while the disk refuses saves: its memory is the latest word
        tables = {AnnotationSet.TABLE: dict(enumerate(notes.records())),
                  AnnotationSet.PROGRESS: {a: {"article_id": a, "state": st} for a, st in notes.states().items()}}
    else:
        tables, damage = _read_database(workspace.path / ANNOTATIONS_DIR / f"{name}.json")
        if damage:
            workspace.damaged[name] = damage
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in tables.get(AnnotationSet.TABLE, {}).values():
        rows = grouped.get(row["article_id"])
        if rows is None:
            grouped[row["article_id"]] = [row]
        else:
            rows.append(row)
    return grouped, {row["article_id"]: row["state"] for row in tables.get(AnnotationSet.PROGRESS, {}).values()}


def _read_database(db: Path) -> tuple[dict[str, dict[str, dict[str, Any]]], list[str]]:
    """(tables, what is damaged) of a database and its journal, as JournalStore's read-only opening reads them
    (store.db.journal_format.read_database), without the field indexes a live store keeps (an export looks each
    record up once)."""
    damage: list[str] = []
    with quiet_gc():
        tables, ops, _, _, _ = read_database(db, record_problem, damage)
        replay(tables, ops)
    return tables, damage


def spool(workspace: Workspace, annotators: Iterable[str] | None = None, articles: str | Filter | None = None,
          prepare: Prepare | None = None) -> Selection:
    """Pass 1: every annotator read in turn and spooled (see the module doc). Close the Selection when done."""
    chosen, names, f = choose(workspace, annotators, articles)
    selection = Selection(chosen, names, prepare is not None)
    keeps_state = f.keeps_state
    positions = None if f.ids else {a.id: n for n, a in enumerate(chosen)}  # (a few ids asked for: looked up)
    try:
        for name in names:
            out = Spool(name, _spool_file())
            selection.spools.append(out)
            source = _by_article(workspace, name)
            if source is not None:
                try:
                    if positions is None:
                        _spool_one(out, source.touched(), source.rows, chosen, keeps_state, prepare, name)
                    else:
                        _spool_scanned(out, source, positions, keeps_state, prepare, name)
                    continue
                except Stale:  # a record not where its index says: the whole files, which say what is wrong
                    out.file.close()
                    out = selection.spools[-1] = Spool(name, _spool_file())
                finally:
                    source.close()
            grouped, recorded = read_annotator(workspace, name)

            def rows_of(article_id: str, grouped=grouped, recorded=recorded) -> tuple[str | None, list | None]:
                return recorded.get(article_id), grouped.get(article_id)

            _spool_one(out, grouped.keys() | recorded.keys(), rows_of, chosen, keeps_state, prepare, name)
            del grouped, recorded, rows_of
    except BaseException:
        selection.close()
        raise
    return selection


def _spool_one(out: Spool, touched: Iterable[str], rows_of: Callable[[str], tuple[str | None, list | None]],
               chosen: list[Article], keeps_state: Callable[[str], bool], prepare: Prepare | None, name: str) -> None:
    """One annotator's entries, in article order: `rows_of(article id)` gives (the recorded state, the rows or
    None) of the `touched` articles (any other has neither)."""
    dumps = marshal.dumps
    touched = set(touched)
    if keeps_state("not started"):
        positions: Iterable[int] = range(len(chosen))
    else:  # only what the annotator touched
        positions = [n for n, a in enumerate(chosen) if a.id in touched]
    for position in positions:
        article_id = chosen[position].id
        recorded, rows = rows_of(article_id) if article_id in touched else (None, None)
        state = state_of(recorded, rows is not None)
        if not keeps_state(state):
            continue
        rows = sorted(rows, key=sort_key) if rows else []
        out.add(position, dumps((state, rows if prepare is None else prepare(name, state, rows))))


def _spool_scanned(out: Spool, source: _ByArticle, positions: dict[str, int], keeps_state: Callable[[str], bool],
                   prepare: Prepare | None, name: str) -> None:
    """One annotator's entries as `_spool_one` makes them, but in the order of their database (the Spool puts
    them in article order), each article's records parsed a run at a time by GroupReader.scan and checked here
    (every record as GroupReader.read checks it; at any doubt, or where the journal changed the article, the
    article is read with `source.rows`, which says what is wrong)."""
    dumps = marshal.dumps
    seen = bytearray(len(positions))
    for group, tables in source.reader.scan():
        position = positions.get(group)
        if position is None or seen[position]:
            continue
        seen[position] = 1
        recorded, rows = _checked(group, tables) if tables is not None else (None, False)
        if rows is False:
            recorded, rows = source.rows(group)
        state = state_of(recorded, rows is not None)
        if keeps_state(state):
            rows = sorted(rows, key=sort_key) if rows else []
            out.add(position, dumps((state, rows if prepare is None else prepare(name, state, rows))))
    if keeps_state("not started"):
        untouched = dumps(("not started", [] if prepare is None else prepare(name, "not started", [])))
        for position in range(len(positions)):
            if not seen[position]:
                out.add(position, untouched)


def _checked(group: str, tables: dict[str, dict[str, Any]]) -> tuple[str | None, Any]:
    """What `_ByArticle.rows` gives of a group's records (the recorded state, the annotation rows or None), each
    record checked as GroupReader.read checks it; rows False when one is refused."""
    for table, records in tables.items():
        for record in records.values():
            if check_record(record_problem, table, record) is not None or record.get(GROUP_FIELD) != group:
                return None, False
    progress = list(tables.get(AnnotationSet.PROGRESS, {}).values())
    rows = list(tables.get(AnnotationSet.TABLE, {}).values())
    return (progress[-1]["state"] if progress else None), (rows or None)


class _ByArticle:
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


def _by_article(workspace: Workspace, name: str) -> _ByArticle | None:
    """The annotator's database read by article, when its record index can be trusted and this process holds
    no save of theirs that the disk refused; else None (read whole: `read_annotator`)."""
    notes = workspace.opened(name)
    if notes is not None and notes.unsaved:
        return None
    try:
        return _ByArticle(GroupReader(workspace.path / ANNOTATIONS_DIR / f"{name}.json", GROUP_FIELD, record_problem))
    except (Stale, StoreError, OSError):
        return None  # (a damaged journal line, too: the whole read reports it, or skips it when told to)


def items(selection: Selection, paragraph_direction: str) -> Iterator[Item]:
    """Pass 2: the Items of a spooled selection in output order, each article's body read once."""
    spools = selection.spools
    for s in spools:
        s.rewind()
    articles = selection.articles
    bodies = _Bodies()
    try:
        while True:
            waiting = [s.next_position for s in spools if s.next_position >= 0]
            if not waiting:
                return
            position = min(waiting)
            article, utf8 = bodies.read(articles[position])
            d = direction(article.body, paragraph_direction)
            for s in spools:
                if s.next_position == position:
                    state, payload = s.take()
                    item = (Item(article, s.annotator, state, [], paragraph_direction, prepared=payload)
                            if selection.prepared else Item(article, s.annotator, state, payload, paragraph_direction))
                    item.direction = d  # the same for every annotator of the article (cached_property's slot)
                    item.body_utf8 = utf8
                    yield item
    finally:
        bodies.close()


class _Bodies:
    """Article texts read in turn, each once, from bodies.bin through one store.corpus.bodies.TextReader (checked
    as an article's own `body` is), as text and as the UTF-8 bytes the JSON writers copy instead of encoding the
    text again; an article whose body is held already, or a file that cannot be opened, gives its own `body`."""

    def __init__(self) -> None:
        self._store: BodyStore | None = None
        self._reader: TextReader | None = None

    def read(self, article: Article) -> tuple[Article, bytes | None]:
        """A copy of `article` holding its body, and the body's UTF-8 bytes when read from bodies.bin."""
        copy = object.__new__(type(article))
        copy.__dict__.update(article.__dict__)
        source = article.text_source() if isinstance(article, StoredArticle) else None
        if source is not None:
            store, ref = source
            if store is not self._store or self._reader is None:
                self.close()
                self._store, self._reader = store, TextReader(store.path)
            try:
                copy.body, utf8 = self._reader.read(article.id, ref)
                return copy, utf8
            except OSError:
                self.close()
        copy.body = article.body
        return copy, None

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        self._store = self._reader = None
