"""Reading a workspace's corpus: through corpus.idx (store.corpus.catalog) when it matches corpus.json, else by
parsing corpus.json whole, as before the index existed.

Either way what is returned was checked: the index when it was written (every record, by its writer) and its
checksums as it is read; corpus.json's records as it is parsed; and bodies.bin against the corpus each time
corpus.json changes (`examine`), so a corpus.json emptied, cut short or replaced by an older copy is refused
on both paths. A reader that had to parse corpus.json writes the index for the next one when it can take the
corpus lock without waiting (a workspace written before the index existed gets one on its first open). For a large
corpus (APART_BYTES) a process of its own parses it and writes the index first (store.apart), so the reader's
own memory never holds every article (~0.6 GB at 100,000): a workspace moved with `cp -a` (new inodes make its
index stale), or one whose index an older tahqiq wrote.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from store.apart import run_apart
from store.corpus.article import Article
from store.corpus.bodies import BodyStore, examine, examine_counts, make_article, record_problem
from store.corpus.catalog import INDEX_FILE, Catalog, CorpusIndex, IndexDamaged, write_index
from store.db.lock import try_locked
from store.db.storage import AtomicJSONStorage, Stamp, file_stamp
from store.errors import CorruptFileError, StoreError

APART_BYTES = 8 << 20
"""From this size of corpus.json (~25,000 articles), a missing or stale index is written by a process of its own
before this one reads it."""
APART_WAIT = 600.0
"""Seconds a reader waits for that process (then kills it, and parses corpus.json itself)."""


class CorpusReader:
    """The articles of one workspace's corpus (the workspace's `article`, `articles` and `catalog`)."""

    def __init__(self, folder: Path, storage: AtomicJSONStorage, bodies: BodyStore, lock: Path,
                 read_only: bool) -> None:
        self.corpus_path = storage.path
        self.bodies_path = bodies.path
        self.index_path = folder / INDEX_FILE
        self.lock_path = lock
        self.read_only = read_only
        """Never write the index (a workspace opened only to look)."""
        self.writing = False
        """Set while this process holds the corpus lock (an import): the index is then written without asking."""
        self._storage = storage
        self._bodies = bodies
        self._index: CorpusIndex | None = None
        self._no_index: Stamp | None = None  # the corpus.json stamp for which no usable index was found
        self._refused: Stamp | None = None  # the file stamp of a corpus.idx found damaged while reading it
        self._made: dict[str, Article] = {}  # articles made from the index, by id
        self._loaded: dict[str, Article] | None = None  # articles parsed from corpus.json, by id
        self._loaded_generation: object = None
        self._loaded_catalog: Catalog | None = None
        self._apart_tried: Stamp | None = None

    def indexed(self) -> CorpusIndex | None:
        """corpus.idx if it was built from corpus.json as it is now (bodies.bin checked against it once per
        version), else None: read corpus.json. CorruptFileError when bodies.bin holds more than it lists."""
        for _ in range(20):
            stamp = file_stamp(self.corpus_path)
            if self._index is not None:
                if self._index.stamp == stamp:
                    return self._index
                self._index.close()
                self._index, self._made = None, {}
            if stamp is None or stamp == self._no_index:
                return None
            found = CorpusIndex.open(self.index_path, stamp)
            if found is None and self._indexed_apart(stamp):
                found = CorpusIndex.open(self.index_path, stamp)
            if found is None or found.file_stamp == self._refused:
                if found is not None:
                    found.close()
                self._no_index = stamp
                return None
            problem, _ = examine_counts(self.bodies_path, self.corpus_path, found.count, found.end, found.refs)
            if problem is not None:
                found.close()
                if file_stamp(self.corpus_path) != stamp:
                    continue  # an import wrote corpus.json meanwhile: what looked unlisted may be listed now
                raise CorruptFileError(problem)
            self._index = found
            return found
        raise StoreError(f"{self.corpus_path}: changing too fast to read (imports running?)")

    def _indexed_apart(self, stamp: Stamp) -> bool:
        """Whether a process of its own (`main`) wrote corpus.idx for the corpus.json of `stamp`: tried once per
        version of corpus.json, for a large one, by a reader that may write (not read only, not during its own
        import, in a folder it can write to). False: read corpus.json here, as before."""
        if (self.read_only or self.writing or stamp[2] < APART_BYTES or self._apart_tried == stamp
                or not os.access(self.index_path.parent, os.W_OK)):
            return False
        self._apart_tried = stamp
        return run_apart("store.corpus.reader", [str(self.index_path.parent), str(self.corpus_path),
                                                 str(self.bodies_path), str(self.lock_path)], wait=APART_WAIT)

    def _refuse(self, index: CorpusIndex) -> None:
        """Stop using a corpus.idx found damaged: read corpus.json until another one is written."""
        self._refused, self._no_index = index.file_stamp, index.stamp
        index.close()
        self._index, self._made = None, {}

    def check(self) -> None:
        """What opening a workspace checks: the index's header and bodies.bin against it, or, without a usable
        index, all of corpus.json (CorruptFileError if it is damaged)."""
        if self.indexed() is None:
            self.load()

    def load(self) -> dict[str, Article]:
        """The articles by id, parsed from corpus.json (re-read when it changed); CorruptFileError if a record is
        malformed or corpus.json lists fewer articles than bodies.bin holds (emptied, cut short, an older copy):
        nothing is read or written then."""
        storage = self._storage
        for _ in range(20):
            before = file_stamp(self.corpus_path)
            tables = storage.read() or {}
            stamp = storage.generation
            if self._loaded is not None and stamp == self._loaded_generation:
                return self._loaded
            rows = tables.get("articles", {})
            bad = next(((k, why) for k, r in rows.items() if (why := record_problem(r)) is not None), None)
            if bad is not None:  # (checked first: every later step trusts the records' fields)
                raise CorruptFileError(f"{self.corpus_path}: article record {bad[0]}: {bad[1]} (run `tahqiq doctor`)")
            problem, _ = examine(self.bodies_path, self.corpus_path, rows.values())
            if problem is not None:
                storage.read()
                if storage.generation != stamp:
                    continue  # an import wrote corpus.json meanwhile: what looked unlisted may be listed now
                raise CorruptFileError(problem)
            bodies = self._bodies
            self._loaded = {r["id"]: make_article(r, bodies) for r in rows.values()}
            self._loaded_generation, self._loaded_catalog = stamp, None
            if before is not None and before == file_stamp(self.corpus_path) and not self.read_only:
                self._write_index(before, list(rows.values()))
            return self._loaded
        raise StoreError(f"{self.corpus_path}: changing too fast to read (imports running?)")

    def _write_index(self, stamp: Stamp, rows: list[dict]) -> None:
        """Write corpus.idx for the corpus.json of `stamp` if this process holds the corpus lock or can take it
        without waiting; a failure (a read-only folder, a full disk) leaves readers on corpus.json."""
        if self.writing:
            self._try_write(stamp, rows)
            return
        with try_locked(self.lock_path) as free:
            if free and file_stamp(self.corpus_path) == stamp:
                self._try_write(stamp, rows)

    def _try_write(self, stamp: Stamp, rows: list[dict]) -> None:
        try:
            write_index(self.index_path, stamp, rows)
        except (OSError, ValueError):
            return
        self._no_index = self._refused = None

    def reindex(self) -> None:
        """Rewrite corpus.idx from corpus.json as it was just saved; the caller holds the corpus lock."""
        stamp = file_stamp(self.corpus_path)
        tables = self._storage.read() or {}
        if stamp is not None and stamp == file_stamp(self.corpus_path):
            self._try_write(stamp, list(tables.get("articles", {}).values()))

    def catalog(self) -> Catalog:
        """The corpus's catalog (see store.corpus.catalog.Catalog)."""
        index = self.indexed()
        if index is not None:
            try:
                return index.catalog()
            except IndexDamaged:
                self._refuse(index)
        loaded = self.load()
        if self._loaded_catalog is None:
            articles = list(loaded.values())
            self._loaded_catalog = Catalog([a.id for a in articles], [a.title for a in articles],
                                           [a.source for a in articles], [a.date for a in articles])
        return self._loaded_catalog

    def article(self, article_id: str, keep: bool = True) -> Article:
        """One article by id (one record read from the index, and kept for the next time unless `keep` is false:
        a pass over many articles); StoreError if there is none."""
        index = self.indexed()
        if index is not None:
            made = self._made.get(article_id)
            if made is not None:
                return made
            try:
                position = index.position(article_id)
                if position is not None:
                    made = make_article(index.record(position), self._bodies)
                    if keep:
                        self._made[article_id] = made
                    return made
            except IndexDamaged:
                self._refuse(index)
            else:
                raise StoreError(f"no article with id {article_id!r}")
        try:
            return self.load()[article_id]
        except KeyError:
            raise StoreError(f"no article with id {article_id!r}") from None

    def articles(self) -> list[Article]:
        """Every article, in import order (texts are read from disk when first used)."""
        index = self.indexed()
        if index is not None:
            try:
                records = index.records()
            except IndexDamaged:
                self._refuse(index)
            else:
                made, bodies = self._made, self._bodies
                return [made.get(r["id"]) or made.setdefault(r["id"], make_article(r, bodies)) for r in records]
        return list(self.load().values())

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None


def main(argv: list[str]) -> int:
    """`python -m store.corpus.reader FOLDER CORPUS BODIES LOCK` (`CorpusReader._indexed_apart`'s process): corpus.json
    parsed and checked, and corpus.idx written into FOLDER when the corpus lock is free; 0 when an index that fits
    corpus.json is there, else 1 (damaged files, the lock taken by an import, a refusing disk)."""
    folder, corpus, bodies, lock = map(Path, argv)
    reader = CorpusReader(folder, AtomicJSONStorage(corpus, create=False), BodyStore(bodies), lock, read_only=False)
    reader._apart_tried = file_stamp(corpus)  # (this is the process apart)
    try:
        reader.load()
        index = CorpusIndex.open(reader.index_path, file_stamp(corpus))
    except (StoreError, OSError):
        return 1
    finally:
        reader.close()
    if index is None:
        return 1
    index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
