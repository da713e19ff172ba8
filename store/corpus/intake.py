"""Adding articles to a workspace's corpus: what can be stored, the batches written, and the import report.

The workspace (store.workspace.Workspace) holds the corpus files and the corpus lock and delegates here:
`write_batch` puts a batch of articles into bodies.bin and corpus.json, `import_files` reads files
(store.corpus.importer) into batches and says what became of each input (`ImportReport`). The caller holds the
corpus lock throughout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tinydb.table import Table

from store.corpus.article import Article
from store.corpus.bodies import RAW_BODY, TEXT_AT, BodyStore, examine, metadata_record, set_aside, stored_raw
from store.corpus.importer import Skip, read_file
from store.db.storage import cannot_save, dumps
from store.errors import CorruptFileError

IMPORT_BATCH = 20000
"""Articles written per corpus save during an import (each save rewrites the corpus metadata file; the
texts go to bodies.bin, appended)."""

Batch = list[tuple[dict, bytes, bytes]]
"""Articles as bodies.bin stores them: (metadata record, body, raw), see `encoded`."""


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


def write_batch(articles: Table, bodies: BodyStore, batch: Batch) -> None:
    """Texts to bodies.bin (fsynced), then the metadata to corpus.json (atomic, through the `articles` table),
    then a mark in bodies.bin saying the batch is listed. Caller holds the lock. Refused, changing nothing, if
    corpus.json lists fewer articles than bodies.bin holds; what an interrupted import left is set aside,
    never cut off."""
    if not batch:
        return
    storage = articles.storage
    rows = (storage.read() or {}).get("articles", {})
    problem, keep = examine(bodies.path, storage.path, rows.values())
    if problem is not None:
        raise CorruptFileError(problem)
    try:
        set_aside(bodies.path, keep)
        refs = bodies.append(batch, keep)
    except OSError as exc:
        raise cannot_save(bodies.path, exc) from exc
    count = len(rows) + len(batch)  # (before the insert: TinyDB may update `rows` in place)
    for (meta, _, _), ref in zip(batch, refs):
        meta[TEXT_AT] = ref
    articles.insert_multiple([meta for meta, _, _ in batch])
    try:
        bodies.mark(count)
    except OSError:
        pass  # the batch is saved; only the check for a damaged index is weaker until the next import


def import_files(report: ImportReport, files: list[Path], known: set[str], stored_body: Callable[[str], str],
                 write: Callable[[Batch], None], progress: Callable[[int, int], None] | None = None) -> None:
    """Read `files` into `report`: articles whose id is not in `known` are written by `write` every IMPORT_BATCH
    and at the end; an id already there (`stored_body(id)` its text) is a duplicate with the same text, or a
    conflict that changes nothing; a bad input is skipped with its reason. `progress(done, total)` after each
    file."""
    new_bodies: dict[str, str] = {}  # ids first seen in this import -> their text
    pending: Batch = []
    for done, path in enumerate(files, 1):
        for item in read_file(path):
            if isinstance(item, Skip):
                report.skipped.append(item)
                continue
            problem = storable(item)
            if problem is not None:
                report.skipped.append(Skip(item.origin or str(path), problem))
            elif item.id in known:
                stored = new_bodies[item.id] if item.id in new_bodies else stored_body(item.id)
                if stored == item.body:
                    report.duplicates.append(item.id)
                else:
                    report.conflicts.append(Skip(item.origin or str(path), (
                        f"id {item.id!r} is already in the workspace with a different text "
                        f"({len(stored)} characters stored, {len(item.body)} here): nothing changed")))
            else:
                known.add(item.id)
                new_bodies[item.id] = item.body
                pending.append(encoded(item))
                report.imported.append(item.id)
            if len(pending) >= IMPORT_BATCH:
                write(pending)
                pending = []
        if progress:
            progress(done, len(files))
    write(pending)


def storable(article: Article) -> str | None:
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


def encoded(article: Article) -> tuple[dict, bytes, bytes]:
    """(metadata, body, raw) as bodies.bin stores them: the body once (see corpus.stored_raw)."""
    meta = metadata_record(article)
    field, raw = stored_raw(article.body, article.raw)
    if field is not None:
        meta[RAW_BODY] = field
    return meta, article.body.encode("utf-8"), raw.encode("utf-8")
