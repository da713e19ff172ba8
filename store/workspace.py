"""A workspace folder: the corpus, one annotation database per annotator, and the label schema.

Adding articles (imports) is store.corpus.intake's: the workspace takes the corpus lock and hands it the files."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path

from tinydb import TinyDB

from store.annotation.annotation_set import AnnotationSet
from store.annotation.entity_counts import count_entities, fold_counts, read_entity_counts
from store.annotation.labels import DEFAULT_LABELS_TOML, EntityLabel, Schema, load_schema, parse_schema
from store.annotation.record import Kind
from store.annotation.summary import Summary, SummaryReader, rewritten_summaries
from store.annotators import HELP as ANNOTATOR_HELP
from store.annotators import valid_name
from store.corpus.article import Article
from store.corpus.bodies import BODIES_FILE, BodyStore
from store.corpus.catalog import Catalog
from store.corpus.importer import Skip, expand
from store.corpus.intake import Batch, ImportReport, encoded, import_files, storable, write_batch
from store.corpus.reader import CorpusReader
from store.db.atomic import remove_stale_temp_files, write_atomic
from store.db.journal import database_names
from store.db.lock import hold, open_lock
from store.db.storage import AtomicJSONStorage, cannot_save
from store.errors import CorruptFileError, StoreError
from store.search.index import keep_up

CORPUS_FILE = "corpus.json"
LABELS_FILE = "labels.toml"
ANNOTATIONS_DIR = "annotations"
CORPUS_LOCK = "corpus.lock"
LABELS_CHECKED = ".labels-checked"


_LABELS_FALLBACK: ContextVar[Callable[[str], None] | None] = ContextVar("labels_fallback", default=None)


@contextmanager
def default_labels_if_broken(warn: Callable[[str], None]) -> Iterator[None]:
    """For commands that only read what is stored (`list`, `export`): inside, a labels.toml that cannot be
    read (not TOML, a field of the wrong type) makes `Workspace.schema` the default labels, plus every entity
    label annotations use, after `warn(why)` (once per workspace). Outside (the app, anything that edits),
    it is refused as always. Nothing is written: labels.toml stays as the user left it."""
    token = _LABELS_FALLBACK.set(warn)
    try:
        yield
    finally:
        _LABELS_FALLBACK.reset(token)


def default_path() -> Path:
    """The workspace used when none is given: $TAHQIQ_WORKSPACE, else the user's data folder."""
    env = os.environ.get("TAHQIQ_WORKSPACE")
    if env:
        return Path(env).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "tahqiq"


def seeds_path() -> Path:
    """The bundled seed corpus (inside the installed package, or the repository's `seeds/`)."""
    here = Path(__file__).resolve().parent
    packaged = here / "seeds"
    return packaged if packaged.is_dir() else here.parent / "seeds"


class Workspace:
    """The data layer the TUI, the CLI and scripts share. Use `Workspace.open(path)`."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        """Opened to look only: annotation files are read as far as they are whole and never written."""
        self.keep_unsaved = False
        """The app's mode: saves the disk refuses stay in memory and are retried (see AnnotationSet)."""
        self.damaged: dict[str, list[str]] = {}
        """Annotators whose damaged files were opened read-only to be shown, with what is wrong."""
        self.on_read_whole: Callable[[str], object] | None = None
        """Told the annotator before their records are read whole because their summary is stale (slow at scale)."""
        self.corpus_path = path / CORPUS_FILE
        self.labels_path = path / LABELS_FILE
        self.bodies_path = path / BODIES_FILE
        self._corpus = TinyDB(self.corpus_path, storage=AtomicJSONStorage)
        self._articles_table = self._corpus.table("articles", cache_size=0)
        self._bodies = BodyStore(self.bodies_path)
        self._reader = CorpusReader(path, self._corpus.storage, self._bodies, path / CORPUS_LOCK, read_only)
        self._sets: dict[str, AnnotationSet] = {}
        self._summary_readers: dict[str, SummaryReader] = {}
        self._schema: Schema | None = None
        self._fallback_schema: Schema | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, read_only: bool = False,
             create: bool = True) -> Workspace:
        """Open the workspace at `path`, creating it if needed and `create` is true (else StoreError: there
        is none there); corrupt files raise StoreError, untouched."""
        folder = Path(path).expanduser() if path is not None else default_path()
        if folder.exists() and not folder.is_dir():
            raise StoreError(f"{folder}: not a folder (a workspace is a folder)")
        if not create and not (folder / LABELS_FILE).exists() and not (folder / CORPUS_FILE).exists():
            raise StoreError(f"{folder}: no workspace here (a mistyped --workspace?); `tahqiq import` or the app "
                             "creates one")
        try:
            (folder / ANNOTATIONS_DIR).mkdir(parents=True, exist_ok=True)
            labels = folder / LABELS_FILE
            if not labels.exists():
                write_atomic(labels, DEFAULT_LABELS_TOML.encode("utf-8"))
        except OSError as exc:
            raise StoreError(f"{folder}: cannot create workspace ({exc.strerror})") from exc
        workspace = cls(folder, read_only=read_only)
        workspace._reader.check()
        return workspace

    @property
    def is_empty(self) -> bool:
        return not self.catalog().ids

    @property
    def schema(self) -> Schema:
        """The label schema, read from labels.toml on first use (`reload_schema` reads it again)."""
        if self._schema is None:
            warn = _LABELS_FALLBACK.get()
            if warn is not None and self._fallback_schema is not None:
                return self._fallback_schema
            try:
                schema = load_schema(self.labels_path)
            except StoreError as exc:
                if warn is None:
                    raise
                self._fallback_schema = self._defaults_and_labels_in_use()
                warn((str(exc).splitlines() or ["cannot be read"])[0])
                return self._fallback_schema
            self._check_labels_in_use(schema)
            self._schema = schema
        return self._schema

    def _defaults_and_labels_in_use(self) -> Schema:
        """The default labels, with every entity label annotations use that they lack (no key: not for tagging)."""
        schema = parse_schema(DEFAULT_LABELS_TOML)
        extra: dict[str, EntityLabel] = {}
        for name in self.annotators():
            for summary in self.summaries(name).values():
                for label in summary.labels:
                    if label not in schema.entities and label not in extra:
                        extra[label] = EntityLabel(label, label, "#abb2bf", "")
        return replace(schema, entities={**schema.entities, **extra}) if extra else schema

    def reload_schema(self) -> Schema:
        """Re-read labels.toml (after the user edited it); the old schema stays if the new one is refused."""
        schema = load_schema(self.labels_path)
        self._check_labels_in_use(schema)
        self._schema = schema
        return schema

    def _check_labels_in_use(self, schema: Schema) -> None:
        """Refuse a schema that drops (renames) an entity label annotations still use.

        Every save checks its label against the schema, so only a changed labels.toml can drop one in use:
        the digest of the last labels.toml that passed is kept, and the check (which reads every annotator's
        summaries, and the records of those who use a label the schema lacks, to count them) runs again only when
        the file differs."""
        digest = None
        try:
            digest = hashlib.sha256(self.labels_path.read_bytes()).hexdigest()
            if (self.path / LABELS_CHECKED).read_text(encoding="utf-8").strip() == digest:
                return
        except OSError:
            pass
        missing: dict[str, int] = {}
        users = [name for name in self.annotators()  # (their summaries say who; the records, how many)
                 if any(label not in schema.entities for s in self.summaries(name).values() for label in s.labels)]
        for name in users:
            for row in self.annotations(name, check=False).records():
                if row["kind"] == Kind.ENTITY and row["label"] not in schema.entities:
                    missing[row["label"]] = missing.get(row["label"], 0) + 1
        if missing:
            label, count = max(missing.items(), key=lambda kv: kv[1])
            raise StoreError(f"{self.labels_path}: label {label!r} is used by {count} annotation(s); "
                             "renaming or removing a label in use is refused (add it back)")
        if digest is not None:
            try:
                write_atomic(self.path / LABELS_CHECKED, digest.encode("ascii"))
            except OSError:
                pass  # a read-only folder: check again next time

    def catalog(self) -> Catalog:
        """The corpus in import order as the library lists it: `ids`, `titles` ("" where none), `sources` and
        `dates` (None where missing), equal-length lists shared by every caller (read only). Read from corpus.idx
        (not corpus.json) when it matches corpus.json: at 100,000 articles tens of milliseconds."""
        return self._reader.catalog()

    def articles(self) -> list[Article]:
        """Every article, in import order (texts are read from disk when first used)."""
        return self._reader.articles()

    def article(self, article_id: str, keep: bool = True) -> Article:
        """One article by id (its one record read from corpus.idx when that matches corpus.json, kept unless `keep`
        is false); StoreError if there is none."""
        return self._reader.article(article_id, keep)

    def iter_bodies(self) -> Iterator[tuple[str, str]]:
        """(article id, body) of every article in import order, streamed from disk (not all held at once)."""
        articles = self.articles()
        refs = [None if "_body" in a.__dict__ else a.__dict__.get("_ref") for a in articles]
        for article, body in zip(articles, self._bodies.stream(refs, [a.id for a in articles])):
            yield article.id, article.body if body is None else body

    @contextmanager
    def _corpus_locked(self) -> Iterator[None]:
        """Serialise corpus writers across processes (imports); released when the process dies."""
        try:
            fd = open_lock(self.path / CORPUS_LOCK)
        except OSError as exc:
            raise cannot_save(self.corpus_path, exc) from exc
        with hold(fd):
            remove_stale_temp_files(self.corpus_path)  # a killed import's: only corpus writers make them
            self._reader.writing = True
            try:
                yield
            finally:
                self._reader.writing = False

    def add_articles(self, articles: Iterable[Article]) -> list[str]:
        """Add articles (ids not in the corpus yet) in one save; returns the ids added."""
        with self._corpus_locked():
            known = set(self.catalog().ids)
            fresh = []
            for article in articles:
                if article.id not in known:
                    known.add(article.id)
                    fresh.append(article)
            problem = next((p for p in map(storable, fresh) if p is not None), None)
            if problem is not None:
                raise StoreError(problem)
            self._write_batch([encoded(a) for a in fresh])
            return [a.id for a in fresh]

    def _write_batch(self, batch: Batch) -> None:
        """Write a batch of articles to bodies.bin and corpus.json (store.corpus.intake.write_batch), then the
        derived files: corpus.idx, and the batch's folded texts appended to the search index. Caller holds the lock."""
        write_batch(self._articles_table, self._bodies, batch)
        if batch:
            self._reader.reindex()
            texts = {meta["id"]: (meta.get("title", ""), body.decode("utf-8")) for meta, body, _ in batch}
            keep_up(self.path, self.catalog().ids,
                    lambda i: texts[i] if i in texts else (self.article(i).title, self.article(i).body))

    def import_paths(
        self, paths: Iterable[str | os.PathLike[str]], progress: Callable[[int, int], None] | None = None
    ) -> ImportReport:
        """Import pages, JSONL and CSV; re-importing an id is a no-op. Bad inputs are reported, not raised
        (store.corpus.intake.import_files, under the corpus lock)."""
        report = ImportReport()
        files: list[Path] = []
        for item in expand(paths):
            (report.skipped.append(item) if isinstance(item, Skip) else files.append(item))
        with self._corpus_locked():
            import_files(report, files, set(self.catalog().ids), lambda article_id: self.article(article_id).body,
                         self._write_batch, progress)
        return report

    def import_seeds(self) -> ImportReport:
        """Import the bundled seed articles (done automatically the first time the default app opens)."""
        return self.import_paths([seeds_path()])

    def annotators(self) -> list[str]:
        """Names of everyone with an annotation database in this workspace."""
        return sorted(n for n in database_names(self.path / ANNOTATIONS_DIR) if valid_name(n))

    def annotations(self, annotator: str, check: bool = True) -> AnnotationSet:
        """The annotation set of `annotator` (created on first use)."""
        if not valid_name(annotator):
            raise StoreError(f"annotator name {annotator!r}: use {ANNOTATOR_HELP}")
        notes = self._sets.get(annotator)
        if notes is not None and check and notes.read_only and not self.read_only:
            notes.close()  # seen damaged while only looking; to edit, it must open whole (maybe repaired now)
            del self._sets[annotator]
            self.damaged.pop(annotator, None)
        if annotator not in self._sets:
            self._sets[annotator] = self._open_set(annotator, check)
        if check:
            self.schema  # noqa: B018 - a broken or incompatible labels.toml is reported before any edit
        return self._sets[annotator]

    def opened(self, annotator: str) -> AnnotationSet | None:
        """The annotation set of `annotator` if it is open in this workspace (never opens one)."""
        return self._sets.get(annotator)

    def summaries(self, annotator: str) -> dict[str, Summary]:
        """Article id -> `annotator`'s summary of it (store.annotation.summary: recorded state, counts, score,
        labels), for the articles they touched. Read from their summary file and journal, without the records,
        unless the file cannot be trusted or their annotations are open here holding saves the disk refused (or
        opened read-only, damaged): then from the records, and a stale file is written anew for the next reader
        (store.annotation.summary.rewritten_summaries: the records read once, not kept)."""
        notes = self._sets.get(annotator)
        if notes is None or not (notes.unsaved or notes.read_only):  # (else memory, or what is whole, is the word)
            reader = self._summary_reader(annotator)
            found = reader.read()
            if found is None and notes is None and not self.read_only:
                found = rewritten_summaries(reader, self.on_read_whole)
            if found is not None:
                return found
            notes = notes or self.annotations(annotator, check=False)  # (damaged: read-only, as far as whole)
            notes.write_derived_if_stale()
        return notes.summaries()

    def summary_is_stale(self, annotator: str) -> bool:
        """Whether `annotator`'s summary file is whole but of other database files (a moved or restored workspace:
        new inodes), so that their records are read whole to open them (seconds at 100,000 articles)."""
        reader = self._summary_reader(annotator)
        return reader.read() is None and reader.stale

    def _summary_reader(self, annotator: str) -> SummaryReader:
        """The one reader of `annotator`'s summary file in this workspace (its annotation set uses it too)."""
        reader = self._summary_readers.get(annotator)
        if reader is None:
            reader = self._summary_readers[annotator] = SummaryReader(self.path / ANNOTATIONS_DIR / f"{annotator}.json")
        return reader

    def entity_counts(self, annotator: str) -> Counter[tuple[tuple[str, ...], str]]:
        """(folded words, label) -> how often `annotator` tagged a text so: as of their last fold, from their
        entity counts file (store.annotation.entity_counts), or from their records when those are open here or
        the file cannot be trusted."""
        notes = self._sets.get(annotator)
        if notes is None:
            db = self.path / ANNOTATIONS_DIR / f"{annotator}.json"
            found = read_entity_counts(db)
            rewrite = found is None and not self.read_only
            if rewrite and rewritten_summaries(self._summary_reader(annotator)) is not None:
                found = read_entity_counts(db)  # (written with them, unless the summaries were not stale)
            if found is not None:
                return found
            notes = self.annotations(annotator, check=False)
            notes.write_derived_if_stale()
        return fold_counts(count_entities(notes.records()))

    def _open_set(self, annotator: str, check: bool) -> AnnotationSet:
        """Open for writing; a damaged file is an error when editing (`check`), and is read read-only as far
        as it is whole when only looking (another annotator's counts), noted in `damaged`."""
        path = self.path / ANNOTATIONS_DIR / f"{annotator}.json"
        if not self.read_only:
            try:
                notes = AnnotationSet(path, annotator, self.article, lambda: self.schema,
                                      stored=self._summary_reader(annotator))
            except CorruptFileError:
                if check:
                    raise
            else:
                if self.keep_unsaved:
                    notes.keep_unsaved()
                return notes
        notes = AnnotationSet(path, annotator, self.article, lambda: self.schema, read_only=True)
        if notes.damage:
            self.damaged[annotator] = notes.damage
        return notes

    def hold_unsaved(self) -> None:
        """Switch on `keep_unsaved` for the annotation sets open now and those opened later."""
        self.keep_unsaved = True
        for notes in self._sets.values():
            if not notes.read_only:
                notes.keep_unsaved()

    def unsaved(self) -> int:
        """Saves kept in memory, over every annotation set open here."""
        return sum(s.unsaved for s in self._sets.values())

    def flush(self) -> str | None:
        """Retry every save kept in memory; why they still cannot be written, or None once all are."""
        problem = None
        for notes in self._sets.values():
            try:
                notes.flush()
            except StoreError as exc:
                problem = problem or str(exc)
        return problem

    def close(self) -> None:
        """Fold and release this workspace's annotation sets (saves are durable before that anyway)."""
        for s in self._sets.values():
            s.close()
        self._sets.clear()
        self._reader.close()
        self._bodies.close()
        self._corpus.close()
