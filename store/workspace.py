"""A workspace folder: the corpus, one annotation database per annotator, and the label schema."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path

from tinydb import TinyDB

from store.annotation.annotation_set import AnnotationSet
from store.annotation.labels import DEFAULT_LABELS_TOML, EntityLabel, Schema, load_schema, parse_schema
from store.corpus.article import Article
from store.corpus.bodies import (
    BODIES_FILE,
    RAW_BODY,
    TEXT_AT,
    BodyStore,
    examine,
    make_article,
    metadata_record,
    record_problem,
    set_aside,
    stored_raw,
)
from store.corpus.importer import Skip, expand, read_file
from store.db.atomic import remove_stale_temp_files, write_atomic
from store.db.journal import database_names
from store.db.storage import AtomicJSONStorage, cannot_save, dumps
from store.errors import CorruptFileError, StoreError

CORPUS_FILE = "corpus.json"
LABELS_FILE = "labels.toml"
ANNOTATIONS_DIR = "annotations"
CORPUS_LOCK = "corpus.lock"
LABELS_CHECKED = ".labels-checked"
_ANNOTATOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
IMPORT_BATCH = 20000
"""Articles written per corpus save during an import (each save rewrites the corpus metadata file; the
texts go to bodies.bin, appended)."""


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


@dataclass
class ImportReport:
    """What an import did: ids imported, ids already present with the same text, ids present with another
    text (conflicts: nothing is changed), and inputs skipped with reasons."""

    imported: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    conflicts: list[Skip] = field(default_factory=list)

    def summary(self) -> str:
        return (f"imported {len(self.imported)}, duplicates {len(self.duplicates)}, "
                f"conflicts {len(self.conflicts)}, skipped {len(self.skipped)}")


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
        self.corpus_path = path / CORPUS_FILE
        self.labels_path = path / LABELS_FILE
        self.bodies_path = path / BODIES_FILE
        self._corpus = TinyDB(self.corpus_path, storage=AtomicJSONStorage)
        self._articles_table = self._corpus.table("articles", cache_size=0)
        self._bodies = BodyStore(self.bodies_path)
        self._index: dict[str, Article] | None = None
        self._index_stamp: object = None
        self._sets: dict[str, AnnotationSet] = {}
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
        workspace._load()
        return workspace

    @property
    def is_empty(self) -> bool:
        return not self._load()

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
            for row in self.annotations(name, check=False).records():
                label = row["label"]
                if row["kind"] == "entity" and label not in schema.entities and label not in extra:
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
        annotations) runs again only when the file differs."""
        digest = None
        try:
            digest = hashlib.sha256(self.labels_path.read_bytes()).hexdigest()
            if (self.path / LABELS_CHECKED).read_text(encoding="utf-8").strip() == digest:
                return
        except OSError:
            pass
        missing: dict[str, int] = {}
        for name in self.annotators():
            for row in self.annotations(name, check=False).records():
                if row["kind"] == "entity" and row["label"] not in schema.entities:
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

    def _load(self) -> dict[str, Article]:
        """The articles by id, re-read when corpus.json changed; CorruptFileError if corpus.json lists fewer
        articles than bodies.bin holds (emptied, cut short, an older copy): nothing is read or written then."""
        storage = self._corpus.storage
        for _ in range(20):
            tables = storage.read() or {}
            stamp = storage.generation
            if self._index is not None and stamp == self._index_stamp:
                return self._index
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
            self._index = {r["id"]: make_article(r, bodies) for r in rows.values()}
            self._index_stamp = stamp
            return self._index
        raise StoreError(f"{self.corpus_path}: changing too fast to read (imports running?)")

    def articles(self) -> list[Article]:
        """Every article, in import order (texts are read from disk when first used)."""
        return list(self._load().values())

    def article(self, article_id: str) -> Article:
        """One article by id; StoreError if there is none."""
        try:
            return self._load()[article_id]
        except KeyError:
            raise StoreError(f"no article with id {article_id!r}") from None

    def iter_bodies(self) -> Iterator[tuple[str, str]]:
        """(article id, body) of every article in import order, streamed from disk (for search indexing)."""
        articles = self.articles()
        refs = [None if "_body" in a.__dict__ else a.__dict__.get("_ref") for a in articles]
        for article, body in zip(articles, self._bodies.stream(refs, [a.id for a in articles])):
            yield article.id, article.body if body is None else body

    @contextmanager
    def _corpus_locked(self) -> Iterator[None]:
        """Serialise corpus writers across processes (imports); released when the process dies."""
        try:
            fd = os.open(self.path / CORPUS_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as exc:
            raise cannot_save(self.corpus_path, exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            remove_stale_temp_files(self.corpus_path)  # a killed import's: only corpus writers make them
            yield
        finally:
            os.close(fd)

    def add_articles(self, articles: Iterable[Article]) -> list[str]:
        """Add articles (ids not in the corpus yet) in one save; returns the ids added."""
        with self._corpus_locked():
            known = set(self._load())
            fresh = []
            for article in articles:
                if article.id not in known:
                    known.add(article.id)
                    fresh.append(article)
            problem = next((p for p in map(_storable, fresh) if p is not None), None)
            if problem is not None:
                raise StoreError(problem)
            self._write_batch([_encoded(a) for a in fresh])
            return [a.id for a in fresh]

    def _write_batch(self, batch: list[tuple[dict, bytes, bytes]]) -> None:
        """Texts to bodies.bin (fsynced), then the metadata to corpus.json (atomic), then a mark in bodies.bin
        saying the batch is listed. Caller holds the lock. Refused, changing nothing, if corpus.json lists
        fewer articles than bodies.bin holds; what an interrupted import left is set aside, never cut off."""
        if not batch:
            return
        rows = (self._corpus.storage.read() or {}).get("articles", {})
        problem, keep = examine(self.bodies_path, self.corpus_path, rows.values())
        if problem is not None:
            raise CorruptFileError(problem)
        try:
            set_aside(self.bodies_path, keep)
            refs = self._bodies.append(batch, keep)
        except OSError as exc:
            raise cannot_save(self.bodies_path, exc) from exc
        count = len(rows) + len(batch)  # (before the insert: TinyDB may update `rows` in place)
        for (meta, _, _), ref in zip(batch, refs):
            meta[TEXT_AT] = ref
        self._articles_table.insert_multiple([meta for meta, _, _ in batch])
        try:
            self._bodies.mark(count)
        except OSError:
            pass  # the batch is saved; only the check for a damaged index is weaker until the next import

    def import_paths(
        self, paths: Iterable[str | os.PathLike[str]], progress: Callable[[int, int], None] | None = None
    ) -> ImportReport:
        """Import pages, JSONL and CSV; re-importing an id is a no-op. Bad inputs are reported, not raised."""
        report = ImportReport()
        files: list[Path] = []
        for item in expand(paths):
            (report.skipped.append(item) if isinstance(item, Skip) else files.append(item))
        with self._corpus_locked():
            known = set(self._load())
            new_bodies: dict[str, str] = {}  # ids first seen in this import -> their text
            pending: list[tuple[dict, bytes, bytes]] = []
            for done, path in enumerate(files, 1):
                for item in read_file(path):
                    if isinstance(item, Skip):
                        report.skipped.append(item)
                        continue
                    problem = _storable(item)
                    if problem is not None:
                        report.skipped.append(Skip(item.origin or str(path), problem))
                    elif item.id in known:
                        stored = new_bodies[item.id] if item.id in new_bodies else self.article(item.id).body
                        if stored == item.body:
                            report.duplicates.append(item.id)
                        else:
                            report.conflicts.append(Skip(item.origin or str(path), (
                                f"id {item.id!r} is already in the workspace with a different text "
                                f"({len(stored)} characters stored, {len(item.body)} here): nothing changed")))
                    else:
                        known.add(item.id)
                        new_bodies[item.id] = item.body
                        pending.append(_encoded(item))
                        report.imported.append(item.id)
                    if len(pending) >= IMPORT_BATCH:
                        self._write_batch(pending)
                        pending = []
                if progress:
                    progress(done, len(files))
            self._write_batch(pending)
        return report

    def import_seeds(self) -> ImportReport:
        """Import the bundled seed articles (done automatically the first time the default app opens)."""
        return self.import_paths([seeds_path()])

    def annotators(self) -> list[str]:
        """Names of everyone with an annotation database in this workspace."""
        return sorted(n for n in database_names(self.path / ANNOTATIONS_DIR) if _ANNOTATOR.match(n))

    def annotations(self, annotator: str, check: bool = True) -> AnnotationSet:
        """The annotation set of `annotator` (created on first use)."""
        if not _ANNOTATOR.match(annotator):
            raise StoreError(f"annotator name {annotator!r}: use letters, digits, '.', '_' or '-'")
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

    def _open_set(self, annotator: str, check: bool) -> AnnotationSet:
        """Open for writing; a damaged file is an error when editing (`check`), and is read read-only as far
        as it is whole when only looking (another annotator's counts), noted in `damaged`."""
        path = self.path / ANNOTATIONS_DIR / f"{annotator}.json"
        if not self.read_only:
            try:
                notes = AnnotationSet(path, annotator, self.article, lambda: self.schema)
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
        self._bodies.close()
        self._corpus.close()


def _storable(article: Article) -> str | None:
    """Why an article cannot be stored (text that is not valid Unicode), or None."""
    for name in ("id", "title", "body", "raw", "source", "byline", "url", "date", "origin"):
        value = getattr(article, name)
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                return (f"article {_printable(article.id)!r}: field {name!r}: "
                        f"not valid Unicode (unpaired surrogate U+{ord(value[exc.start]):04X} at character "
                        f"{exc.start}); fix the file")
    try:
        dumps(metadata_record(article))
    except ValueError as exc:
        return f"article {_printable(article.id)!r}: cannot be stored ({_printable(str(exc))})"
    return None


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _encoded(article: Article) -> tuple[dict, bytes, bytes]:
    """(metadata, body, raw) as bodies.bin stores them: the body once (see corpus.stored_raw)."""
    meta = metadata_record(article)
    field, raw = stored_raw(article.body, article.raw)
    if field is not None:
        meta[RAW_BODY] = field
    return meta, article.body.encode("utf-8"), raw.encode("utf-8")
