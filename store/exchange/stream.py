"""What an export covers, read one annotator at a time and handed to the writer one Item at a time.

Output order is the corpus order (or the order of the ids asked for), then annotator order: every annotator's
work on an article is written together (Label Studio's one task per article needs it). So the export reads in
two passes:

1. `spool`: each annotator's database is read alone through its record index (store.exchange.scan: the file
   held open as it was, the journal replayed over each article it changed, every record's crc32 checked and
   every record checked as an article read alone is checked; an article the journal changed, or any doubt, is
   read alone, which says what is wrong); when a few ids are asked for, only their articles, each read alone.
   Every other article is spooled by a helper process meanwhile when that pays (store.exchange.helper; what it
   cannot spool, it hands back). Without an index it can trust, the database is loaded whole (its file
   and journal, every record checked, as a read-only JournalStore reads them but with no field index) and its
   rows grouped by article. What the format's writer needs of each (article, annotator) the filter keeps
   (`Format.prepare`'s bytes, else the sorted rows) is appended to a Spool (store.exchange.spools), read back
   in article order. What a damaged file left out is recorded in `workspace.damaged`, as a read-only opening
   does, before anything is written.
2. `items`: the articles are walked in order, each body read once (from bodies.bin, when needed) and its
   direction worked out once; each annotator's spool is read on as far as that article; one Item per entry.
   For a format of records in a frame, the helper makes the last articles' records meanwhile (`Selection.split`,
   `Selection.rest`), when it spooled every annotator.

Memory is one article's records (pass 1, in each process; one annotator's database when it is read whole) or one
article and its entries (pass 2), never every record. Cyclic garbage collection is paused meanwhile
(store.db.storage.quiet_gc).
"""

from __future__ import annotations

import heapq
import marshal
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from pathlib import Path
from typing import Any

from store.annotation.annotation_set import AnnotationSet
from store.annotation.record import sort_key, state_of
from store.annotation.record import stored_problem as record_problem
from store.corpus.article import Article
from store.corpus.bodies import BodyStore, StoredArticle, TextReader
from store.db.journal_format import read_database, replay
from store.db.record_index import Stale
from store.db.storage import quiet_gc
from store.errors import StoreError
from store.exchange.framed import Part
from store.exchange.helper import Helper, share
from store.exchange.offsets import direction
from store.exchange.records import Context, Filter, Item, parse_filter
from store.exchange.scan import Prepare, by_article, spool_scanned
from store.exchange.spools import Spool, spool_file
from store.sequences import LazySequence
from store.workspace import ANNOTATIONS_DIR, Workspace

_ENTRY, _ARTICLE = 1, 7
"""What pass 2 spends, roughly (measured at 100,000 articles): on each entry (~5 us: read it back, make its Item),
and on each article (~35 us: make it from corpus.idx, read its text, its direction, its part of the record as
JSON)."""


@dataclass
class Selection:
    """The articles an export covers, in output order, and the annotators (in output order), spooled."""

    articles: Sequence[Article]
    names: list[str]
    prepared: bool = False
    """The entries hold what the format's `prepare` made, not the rows."""
    spools: list[Spool] = field(default_factory=list)
    helper: Helper | None = None
    """A helper that spooled every annotator and can make pass 2's last records (`split`)."""
    own: list[Spool] = field(default_factory=list)
    """This process's spools, one per annotator (with `helper`)."""

    @property
    def total(self) -> int:
        """How many Items `items` will yield."""
        return sum(s.count for s in self.spools)

    def split(self, fmt: str, paragraph_direction: str) -> int | None:
        """Have the helper make the records (format `fmt`) of the articles from the position returned on, chosen
        so that the two processes end at about the same time (see _ENTRY); None without a helper for it (then
        this process makes them all)."""
        if self.helper is None:
            return None
        entries = Counter(chain.from_iterable(s.positions for s in self.spools))
        half = (sum(entries.values()) * _ENTRY + len(entries) * _ARTICLE) / 2
        start, before = len(self.articles), 0
        for position in sorted(entries):
            if before >= half:
                start = position
                break
            before += entries[position] * _ENTRY + _ARTICLE
        for s in self.own:
            s.file.flush()
        self.helper.write_rest(start, [s.where() for s in self.own], fmt, paragraph_direction)
        return start

    def rest(self, start: int, paragraph_direction: str, ctx: Context,
             records: Callable[[Iterable[Item], Context], Iterable[tuple[bytes, ...]]]
             ) -> Iterator[tuple[bytes, ...] | Part]:
        """The records of the articles from `start` on (after `split`): the helper's, or made here from the spools
        if it failed."""
        made = self.helper.rest() if self.helper is not None else None
        if made is not None:
            part, directions = made
            for d, count in directions.items():
                ctx.directions[d] = ctx.directions.get(d, 0) + count
            yield part
        else:
            yield from records(items(self, paragraph_direction, start=start), ctx)

    def close(self) -> None:
        if self.helper is not None:
            self.helper.stop()
            self.helper = None
        for s in self.spools:
            s.file.close()
        self.spools.clear()


def chosen_annotators(workspace: Workspace, annotators: Iterable[str] | None) -> list[str]:
    """The annotators an export covers, in output order (all of them by default); StoreError naming an unknown
    one."""
    known = workspace.annotators()
    names = list(dict.fromkeys(annotators)) if annotators else known
    missing = [n for n in names if n not in known]
    if missing:
        raise StoreError(f"--annotator: no annotations by {', '.join(map(repr, missing))} "
                         f"(annotators: {', '.join(known) or 'none yet'})")
    return names


class Articles(LazySequence[Article]):
    """Every article of the corpus by position (`ids`, the catalog's), each made from corpus.idx when asked for
    and not kept: pass 2 asks only for the articles it has entries of, and never twice (at 100,000 articles, making
    them all before pass 1 took its process ~0.4 s, and held them all)."""

    def __init__(self, workspace: Workspace, ids: list[str]) -> None:
        self._workspace, self._ids = workspace, ids

    def __len__(self) -> int:
        return len(self._ids)

    def _item(self, position: int) -> Article:
        return self._workspace.article(self._ids[position], keep=False)


def chosen_articles(workspace: Workspace, f: Filter) -> list[Article]:
    """The articles an export covers (corpus order, or the order of the ids asked for; states are applied per
    annotator by `spool`); StoreError naming an unknown id."""
    corpus = workspace.articles()
    if f.ids:
        by_id = {a.id: a for a in corpus}
        unknown = [i for i in f.ids if i not in by_id]
        if unknown:
            raise StoreError(f"--articles: no article with id {unknown[0]!r}")
        corpus = [by_id[i] for i in dict.fromkeys(f.ids)]
    return [a for a in corpus if f.keeps_article(a)]


def read_annotator(workspace: Workspace, name: str) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """One annotator's records grouped by article id, and their recorded states, read from the files alone as a
    read-only opening reads them (store.db.journal: the database, then its journal's whole lines; every record
    checked; no field index), or, when this process holds saves of theirs the disk refused, from its memory.
    What a damaged file left out goes to `workspace.damaged`."""
    if _unsaved(workspace, name):
        notes = workspace.opened(name)
        tables = {AnnotationSet.TABLE: dict(enumerate(notes.records())),
                  AnnotationSet.PROGRESS: {a: {"article_id": a, "state": st} for a, st in notes.states().items()}}
    else:
        tables, damage = _read_database(_database(workspace, name))
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
          prepare: Prepare | None = None, framed: bool = False) -> Selection:
    """Pass 1: every annotator spooled (see the module doc), through their record index when it can be trusted
    (a share of the articles by a Helper, store.exchange.helper, when it pays), else whole. `framed`: the format
    writes records in a frame, which the helper may share (`Selection.split`). Close the Selection when done."""
    f = articles if isinstance(articles, Filter) else parse_filter(articles)
    names = chosen_annotators(workspace, annotators)
    selection = Selection([], names, prepare is not None)
    helper = None
    theirs: list[Spool | None] = [None] * len(names)
    try:
        mine = selection.spools
        mine.extend(Spool(name, spool_file()) for name in names)
        if f.ids or f.by_article:
            selection.articles = chosen_articles(workspace, f)
            ids = [a.id for a in selection.articles]
        else:  # (every article: made in pass 2, when its turn comes)
            ids = list(workspace.catalog().ids)
            selection.articles = Articles(workspace, ids)
        jobs = [n for n, name in enumerate(names) if not f.ids and not _unsaved(workspace, name)]
        if jobs:
            helper = Helper.start([(names[n], _database(workspace, names[n])) for n in jobs], ids, f, prepare,
                                  theirs=mine if framed and len(jobs) == len(names) else None,
                                  workspace=workspace.path)
        every = None if f.ids else {article_id: n for n, article_id in enumerate(ids)}  # (a few ids: each read alone)
        helped = set(jobs) if helper is not None else set()
        half = share(ids, helper=False) if helped else None
        whole = [not _spool_indexed(workspace, out, half if n in helped else every, ids, f, prepare)
                 for n, out in enumerate(mine)]
        if helper is not None:
            for n, spool in zip(jobs, helper.results()):
                theirs[n] = spool
        spools: list[Spool] = []
        for n, name in enumerate(names):
            if whole[n] or (n in helped and theirs[n] is None):  # (the whole files, which say what is wrong)
                for s in (mine[n], theirs[n]):
                    if s is not None:
                        s.file.close()
                mine[n], theirs[n] = Spool(name, spool_file()), None
                _spool_whole(workspace, mine[n], ids, f, prepare)
            spools.append(mine[n])
            if theirs[n] is not None:
                spools.append(theirs[n])  # (the same annotator's other articles: the article order decides)
        selection.spools = spools
        if helper is not None and helper.rests and not any(whole) and None not in theirs:
            selection.helper, selection.own = helper, list(mine)
        elif helper is not None:
            helper.stop()
        helper = None
    except BaseException:
        if helper is not None:
            helper.stop()
        for s in theirs:
            if s is not None:
                s.file.close()
        selection.close()
        raise
    return selection


def _spool_indexed(workspace: Workspace, out: Spool, positions: dict[str, int] | None, ids: list[str],
                   f: Filter, prepare: Prepare | None) -> bool:
    """Fill `out` through the annotator's record index, for the articles at `positions` (None: every one, each read
    alone), when the index can be trusted and this process holds no save of theirs that the disk refused; False
    when not filled (then `out` is to be thrown away and the annotator spooled whole)."""
    name = out.annotator
    source = None if _unsaved(workspace, name) else by_article(_database(workspace, name))
    if source is None:
        return False
    try:
        if positions is None:
            _spool_one(out, source.touched(), source.rows, ids, f.keeps_state, prepare, name)
        else:
            spool_scanned(out, source, positions, f.keeps_state, prepare, name)
        return True
    except Stale:  # a record not where its index says: the whole files, which say what is wrong
        return False
    finally:
        source.close()


def _spool_whole(workspace: Workspace, out: Spool, ids: list[str], f: Filter, prepare: Prepare | None) -> None:
    """Fill `out` (empty) from the annotator's whole files (`read_annotator`)."""
    grouped, recorded = read_annotator(workspace, out.annotator)

    def rows_of(article_id: str) -> tuple[str | None, list | None]:
        return recorded.get(article_id), grouped.get(article_id)

    _spool_one(out, grouped.keys() | recorded.keys(), rows_of, ids, f.keeps_state, prepare, out.annotator)


def _database(workspace: Workspace, name: str) -> Path:
    return workspace.path / ANNOTATIONS_DIR / f"{name}.json"


def _unsaved(workspace: Workspace, name: str) -> bool:
    """This process holds saves of `name`'s that the disk refused (the app, then: its memory is the latest word)."""
    notes = workspace.opened(name)
    return notes is not None and bool(notes.unsaved)


def _spool_one(out: Spool, touched: Iterable[str], rows_of: Callable[[str], tuple[str | None, list | None]],
               ids: list[str], keeps_state: Callable[[str], bool], prepare: Prepare | None, name: str) -> None:
    """One annotator's entries, in article order: `rows_of(article id)` gives (the recorded state, the rows or
    None) of the `touched` articles (any other has neither)."""
    dumps = marshal.dumps
    touched = set(touched)
    if keeps_state("not started"):
        positions: Iterable[int] = range(len(ids))
    else:  # only what the annotator touched
        positions = [n for n, article_id in enumerate(ids) if article_id in touched]
    for position in positions:
        article_id = ids[position]
        recorded, rows = rows_of(article_id) if article_id in touched else (None, None)
        state = state_of(recorded, rows is not None)
        if not keeps_state(state):
            continue
        rows = sorted(rows, key=sort_key) if rows else []
        out.add(position, dumps((state, rows if prepare is None else prepare(name, state, rows))))


def items(selection: Selection, paragraph_direction: str, start: int = 0, end: int | None = None) -> Iterator[Item]:
    """Pass 2: the Items of a spooled selection in output order (article, then the order of the spools), each
    article's body read once; those of the articles from position `start` to `end` (not included; None: to the
    last)."""
    spools = selection.spools
    articles = selection.articles
    bodies = _Bodies()
    try:
        at, article, d = -1, None, ""
        for position, n in heapq.merge(*(zip(s.rewind(start, end), repeat(n)) for n, s in enumerate(spools))):
            if position != at:
                at, article = position, bodies.read(articles[position])
                d = direction(article.body, paragraph_direction)
            s = spools[n]
            state, payload = s.take()
            item = (Item(article, s.annotator, state, [], paragraph_direction, prepared=payload)
                    if selection.prepared else Item(article, s.annotator, state, payload, paragraph_direction))
            item.direction = d  # the same for every annotator of the article (cached_property's slot)
            yield item
    finally:
        bodies.close()


class _Bodies:
    """Article texts read in turn, each once, from bodies.bin through one store.corpus.bodies.TextReader (checked
    as an article's own `body` is); an article whose body is held already, or a file that cannot be opened, gives
    its own `body`."""

    def __init__(self) -> None:
        self._store: BodyStore | None = None
        self._reader: TextReader | None = None

    def read(self, article: Article) -> Article:
        """A copy of `article` holding its body."""
        copy = object.__new__(type(article))
        copy.__dict__.update(article.__dict__)
        source = article.text_source() if isinstance(article, StoredArticle) else None
        if source is not None:
            store, ref = source
            if store is not self._store or self._reader is None:
                self.close()
                self._store, self._reader = store, TextReader(store.path)
            try:
                copy.body = self._reader.read(article.id, ref)
                return copy
            except OSError:
                self.close()
        copy.body = article.body
        return copy

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        self._store = self._reader = None
