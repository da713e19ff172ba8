"""One annotator's annotations: entities, claims and credibility, in their own TinyDB file."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from functools import partial
from pathlib import Path
from typing import Any

from store.annotation.entity_counts import counts_header, entity_counts_fresh
from store.annotation.labels import Schema
from store.annotation.record import (
    ANNOTATIONS_TABLE,
    GROUP_FIELD,
    PROGRESS_TABLE,
    STATES,
    Annotation,
    Kind,
    now,
    sort_key,
    state_of,
)
from store.annotation.record import stored_problem as record_problem
from store.annotation.summary import Summary, SummaryReader, article_summary, summarize, write_derived
from store.corpus.article import Article
from store.db.journal import open_store, release_store
from store.db.journal_format import SUMMARY_OP
from store.errors import StoreError, ValidationError


class AnnotationSet:
    """The annotations of one annotator, saved on every change to `annotations/<name>.json`.

    A save appends one fsynced line to `<name>.journal` (see store.db.journal), folded into the TinyDB file in
    the background and on close. Only one process may write an annotator (the first save, or `acquire()`,
    takes the lock); any number may read, and see the writer's saves on their next call."""

    TABLE = ANNOTATIONS_TABLE
    PROGRESS = PROGRESS_TABLE

    def __init__(
        self, path: Path, annotator: str, article: Callable[[str], Article], schema: Callable[[], Schema],
        read_only: bool = False, stored: SummaryReader | None = None,
    ) -> None:
        """`stored`: the reader of this annotator's summary file, shared with whoever reads it too (the
        workspace), so that it is parsed once."""
        self.annotator = annotator
        self.path = path
        self._article = article
        self._schema = schema
        # A writer whose database is the one its summary was made from (the last fold's, unchanged) reads it when first
        # needed: the library needs only the summary (a damaged or changed database is read, and refused, now).
        self._stored = stored or SummaryReader(path)
        lazy = not read_only and self._stored.read() is not None
        self._store = open_store(path, annotator, {self.TABLE: ("id", "article_id"), self.PROGRESS: ("article_id",)},
                                 read_only=read_only, check=record_problem, lazy=lazy, group=GROUP_FIELD,
                                 unique=("id",))
        if not read_only:
            # (pause: sleep(0) lets a save's thread take the interpreter now, not at the next switch interval)
            self._store.after_fold = partial(write_derived, path, pause=partial(time.sleep, 0), folded={})
        self._summaries: dict[str, Summary] | None = None
        self._summaries_at = -1
        """The store's generation `_summaries` is of."""
        self._closed = False

    # ----- persistence internals -----------------------------------------------------------------
    def _rows(self, table: str = TABLE) -> dict[str, Annotation]:
        """Every record of `table` (the whole database is read if it was read only by article so far)."""
        self._store.refresh()
        return self._store.tables.get(table, {})

    def _keyed(self, table: str, field: str, value: Any) -> tuple[list[str], dict[str, Annotation]]:
        """The keys of the records of `table` whose `field` is `value`, and a table that holds them (only the
        article read, when the database is read by article: store.db.journal)."""
        self._store.refresh()
        keys = self._store.keys(table, field, value)
        return keys, self._store.loaded(table)

    def _key_of(self, annotation_id: str, must: bool = False) -> str | None:
        """The key of an annotation (`must`: ValidationError when there is none, else None)."""
        keys, _ = self._keyed(self.TABLE, "id", annotation_id)
        if must and not keys:
            raise ValidationError(f"no annotation with id {annotation_id!r} for {self.annotator}")
        return keys[0] if keys else None

    def _put(self, key: str, record: Annotation, table: str = TABLE) -> None:
        self._write([["p", table, key, record]])

    def _write(self, ops: list[list]) -> None:
        """Save `ops` in one journal line together with the new summary of every article they touch
        (store.annotation.summary), which readers of the summaries apply without the records."""
        store = self._store
        with store.lock:
            touched: dict[str, None] = {}
            for op in ops:
                old = store.record(op[1], op[2])
                if old is not None:
                    touched[old["article_id"]] = None
                if op[0] == "p":
                    touched[op[3]["article_id"]] = None
            summary_ops = [[SUMMARY_OP, "summary", a, None if (v := self._summary_after(a, ops)) is None else list(v)]
                           for a in touched]
            store.write(ops + summary_ops)
            if self._summaries is not None and self._summaries_at == store.generation - 1:
                for op in summary_ops:
                    if op[3] is None:
                        self._summaries.pop(op[2], None)
                    else:
                        self._summaries[op[2]] = Summary.of(op[3])
                self._summaries_at = store.generation

    def _summary_after(self, article_id: str, ops: list[list]) -> Summary | None:
        """The summary of `article_id` once `ops` are applied (caller holds the store's lock)."""
        rows = {}
        for table in (self.TABLE, self.PROGRESS):
            keys, loaded = self._keyed(table, "article_id", article_id)
            rows[table] = {k: loaded[k] for k in keys}
        for op in ops:
            into = rows[op[1]] if op[1] in rows else None
            if into is None:
                continue
            if op[0] == "p" and op[3].get("article_id") == article_id:
                into[op[2]] = op[3]
            else:
                into.pop(op[2], None)
        progress = sorted(rows[self.PROGRESS].items(), key=lambda kv: int(kv[0]))
        annotations = [r for _, r in sorted(rows[self.TABLE].items(), key=lambda kv: int(kv[0]))]
        return article_summary(annotations, progress[0][1]["state"] if progress else None)

    def summaries(self) -> dict[str, Summary]:
        """Article id -> summary of this annotator's work on it (store.annotation.summary), for every article
        with an annotation or a recorded state; kept up to date by this process's saves. Do not modify it."""
        with self._store.lock:
            self._store.refresh()
            if self._summaries is None or self._summaries_at != self._store.generation:
                self._summaries = summarize(self._store.tables)
                self._summaries_at = self._store.generation
            return self._summaries

    def _new_key(self, table: str = TABLE) -> str:
        return self._store.next_key(table)

    def acquire(self) -> None:
        """Become the one process that writes this annotator now (the first save does it anyway); StoreError
        "annotator X is already open in process PID on HOST" if another process is. Stale derived files are written
        then (`write_derived_if_stale`), and a database without its record index (store.db.record_index: written
        before them, or by TinyDB itself) is folded, once, to get one (else it is read whole)."""
        self._store.acquire()
        if not self._store.indexed():
            with suppress(StoreError):
                self._store.fold(force=True)
        self.write_derived_if_stale()

    def write_derived_if_stale(self) -> None:
        """Write the summary file and entity counts (store.annotation.summary) from the records when either cannot
        be trusted, for the next reader; also for a teammate's set opened only to look (a copied workspace: see
        docs/storage.md part 2). Stamped with the records' position: a save or fold meanwhile leaves them stale, never
        wrong. Not read-only, with saves in memory, or without a database (never trusted then); a disk may refuse."""
        if self.read_only or self.unsaved or (self._stored.read() is not None and entity_counts_fresh(self.path)):
            return
        with self._store.lock, suppress(OSError):
            at = self._store.position()
            if at[0] is not None:
                write_derived(self.path, self._store.tables, at)

    @property
    def read_only(self) -> bool:
        return self._store.read_only

    @property
    def damage(self) -> list[str]:
        """What a read-only opening of damaged files skipped (one line each), else empty."""
        return list(self._store.damage)

    def keep_unsaved(self) -> None:
        """The app's mode: a save the disk refuses is kept in memory and shown, and retried by `flush`."""
        self._store.keep_unsaved = True

    @property
    def unsaved(self) -> int:
        """Saves kept in memory because the disk refused them (see `keep_unsaved`)."""
        return self._store.unsaved

    @property
    def save_error(self) -> str | None:
        """Why the saves kept in memory could not be written (None when all is saved)."""
        return self._store.save_error

    def flush(self) -> None:
        """Retry the saves kept in memory; UnsavedError while the disk still refuses them."""
        self._store.flush()

    @property
    def generation(self) -> int:
        """Changes whenever the annotations may have changed (a save here, or one seen from another process)."""
        self._store.refresh()
        return self._store.generation

    def _span(self, article_id: str, start: int, end: int) -> str:
        body = self._article(article_id).body
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
            raise ValidationError(f"offsets must be integers, got start={start!r} end={end!r}")
        if not 0 <= start < end <= len(body):
            raise ValidationError(
                f"span {start}-{end} is outside article {article_id} (body has {len(body)} characters)"
            )
        text = body[start:end]
        if text != text.strip():
            raise ValidationError(f"span {start}-{end} {text!r} begins or ends with white space")
        if not any(ch.isalnum() for ch in text):
            raise ValidationError(f"span {start}-{end} {text!r} holds no letter or digit")
        return text

    def _insert(self, record: Annotation) -> Annotation:
        stamp = now()
        record = {"id": uuid.uuid4().hex[:12], "annotator": self.annotator, "created": stamp,
                  "updated": stamp, **record}
        with self._store.lock:
            self._put(self._new_key(), record)
        return dict(record)

    def _check_entity(self, article_id: str, start: int, end: int, label: str, ignore: str | None = None) -> None:
        if label not in self._schema().entities:
            known = ", ".join(self._schema().entities)
            raise ValidationError(f"unknown entity label {label!r} (labels.toml has {known})")
        nested = self._schema().nested_entities
        for other in self.for_article(article_id):
            if other["kind"] != Kind.ENTITY or other["id"] == ignore:
                continue
            a, b = other["start"], other["end"]
            if (a, b) == (start, end):
                raise ValidationError(f"{other['text']!r} is already tagged {other['label']}")
            inside = (a <= start and end <= b) or (start <= a and b <= end)
            if start < b and a < end and not (inside and nested):
                what = "crosses" if not inside else "nests in"
                raise ValidationError(f"span {start}-{end} {what} entity {other['label']} {other['text']!r} "
                                      f"at {a}-{b}" + ("" if not inside else " (nested_entities = false)"))

    def add_entity(self, article_id: str, start: int, end: int, label: str) -> Annotation:
        """Tag body[start:end] with an entity label; crossing (and, unless allowed, nested) entities are refused."""
        text = self._span(article_id, start, end)
        self._check_entity(article_id, start, end, label)
        return self._insert({"article_id": article_id, "kind": Kind.ENTITY, "start": start, "end": end,
                             "text": text, "label": label, "attributes": {}})

    def add_claim(self, article_id: str, start: int, end: int, **attributes: Any) -> Annotation:
        """Mark body[start:end] as a claim; attributes named in the schema must take one of its values."""
        allowed = self._schema().claim_attributes
        for name, value in attributes.items():
            if name in allowed and value is not None and value not in allowed[name]:
                raise ValidationError(f"claim attribute {name}: {value!r} is not one of {allowed[name]}")
        text = self._span(article_id, start, end)
        return self._insert({"article_id": article_id, "kind": Kind.CLAIM, "start": start, "end": end,
                             "text": text, "label": "CLAIM", "attributes": dict(attributes)})

    def set_credibility(
        self, article_id: str, score: int | None, note: str | None = None,
        indicators: list[str] | tuple[str, ...] = (),
    ) -> Annotation:
        """Set this annotator's credibility of an article (score 1-5, indicators, note), replacing any earlier
        one. The score stays None until chosen; a record with no score, indicator or note is refused."""
        self._article(article_id)
        if score is not None and (not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5):
            raise ValidationError(f"credibility score must be 1-5, got {score!r}")
        if score is None and not indicators and not note:
            raise ValidationError("nothing to save: choose a score or an indicator, or write a note")
        unknown = [i for i in indicators if i not in self._schema().indicators]
        if unknown:
            raise ValidationError(f"unknown credibility indicator(s) {unknown} (see labels.toml)")
        attributes = {"score": score, "indicators": list(indicators), "note": note}
        with self._store.lock:
            keys, rows = self._keyed(self.TABLE, "article_id", article_id)
            for key in keys:
                existing = rows[key]
                if existing.get("kind") == Kind.CREDIBILITY:
                    self._put(key, {**existing, "attributes": attributes, "updated": now()})
                    return {**existing, "attributes": attributes}
        return self._insert({"article_id": article_id, "kind": Kind.CREDIBILITY, "start": None, "end": None,
                             "text": None, "label": "CREDIBILITY", "attributes": attributes})

    def get(self, annotation_id: str) -> Annotation:
        """One annotation by id."""
        with self._store.lock:
            key = self._key_of(annotation_id, must=True)
            return dict(self._store.loaded(self.TABLE)[key])

    def update(self, annotation_id: str, *, start: int | None = None, end: int | None = None,
               label: str | None = None, attributes: dict[str, Any] | None = None) -> Annotation:
        """Change an annotation's span, label or attributes, with the same checks as when adding it."""
        old = self.get(annotation_id)
        new = dict(old)
        if start is not None or end is not None:
            new["start"] = old["start"] if start is None else start
            new["end"] = old["end"] if end is None else end
            new["text"] = self._span(old["article_id"], new["start"], new["end"])
        if label is not None:
            new["label"] = label
        if attributes is not None:
            new["attributes"] = attributes
        if new["kind"] == Kind.ENTITY:
            self._check_entity(new["article_id"], new["start"], new["end"], new["label"], ignore=annotation_id)
        new["updated"] = now()
        with self._store.lock:
            key = self._key_of(annotation_id, must=True)
            self._put(key, {**self._store.loaded(self.TABLE)[key], **new})
        return new

    def replace(self, record: Annotation) -> None:
        """Write a whole record back as it was (for undo of an update)."""
        with self._store.lock:
            key = self._key_of(record["id"])
            if key is not None:
                self._put(key, {**self._store.loaded(self.TABLE)[key], **record})

    def mismatches(self, article_id: str) -> list[Annotation]:
        """Annotations whose stored text no longer equals the body at their offsets (never shifted silently)."""
        body = self._article(article_id).body
        return [r for r in self.for_article(article_id)
                if r.get("start") is not None and body[r["start"]:r["end"]] != r["text"]]

    def remove(self, annotation_id: str) -> Annotation:
        """Delete an annotation by id and return it (so it can be restored by undo)."""
        with self._store.lock:
            key = self._key_of(annotation_id, must=True)
            found = self._store.loaded(self.TABLE)[key]
            self._write([["d", self.TABLE, key]])
        return dict(found)

    def restore(self, record: Annotation) -> None:
        """Put back a removed annotation exactly as it was (for undo)."""
        with self._store.lock:
            self._put(self._new_key(), dict(record))

    def for_article(self, article_id: str) -> list[Annotation]:
        """This annotator's annotations on one article, in text order (credibility first)."""
        with self._store.lock:
            keys, table = self._keyed(self.TABLE, "article_id", article_id)
            rows = [dict(table[k]) for k in keys]
        return sorted(rows, key=sort_key)

    def set_state(self, article_id: str, state: str) -> None:
        """Record this annotator's progress on an article: not started, in progress or done."""
        self._article(article_id)
        if state not in STATES:
            raise ValidationError(f"state must be one of {STATES}, got {state!r}")
        row = {"article_id": article_id, "state": state, "updated": now()}
        with self._store.lock:
            keys, table = self._keyed(self.PROGRESS, "article_id", article_id)
            if keys:
                self._write([["p", self.PROGRESS, k, {**table[k], **row}] for k in keys])
            else:
                self._put(self._new_key(self.PROGRESS), row, self.PROGRESS)

    def state(self, article_id: str) -> str:
        """Progress on an article (store.annotation.record.state_of): as recorded, else "in progress" once
        anything is annotated."""
        with self._store.lock:
            keys, table = self._keyed(self.PROGRESS, "article_id", article_id)
            return state_of(str(table[keys[0]]["state"]) if keys else None,
                            bool(self._store.keys(self.TABLE, "article_id", article_id)))

    def states(self) -> dict[str, str]:
        """Recorded progress of every article this annotator marked (article id -> state)."""
        with self._store.lock:
            return {row["article_id"]: row["state"] for row in self._rows(self.PROGRESS).values()}

    def entity_changes_since_fold(self) -> tuple[dict[str, Any], list[tuple[Annotation | None, Annotation | None]]
                                                 ] | None:
        """(the header of this annotator's counts file, for each entity the journal changed since it was written
        (as counted there, as it is now; None: absent)), when that file counts the database alone and the database
        is read by article; else None."""
        changes = self._store.changes(self.TABLE)
        header = counts_header(self.path)
        if changes is None or header is None:
            return None
        # the file counts the database alone: written at a fold, with the journal then begun (its inode, offset 0),
        # or where there was no journal yet (a new one since has changed nothing, or the changes say what)
        if header.get("journal") != [changes[0][1], 0] and not (header.get("journal") == [None, 0] and not changes[1]):
            return None
        entity = Kind.ENTITY
        return header, [(old, new) for old, new in changes[1]
                        if (old is not None and old["kind"] == entity) or (new is not None and new["kind"] == entity)]

    def records(self) -> list[Annotation]:
        """The stored records themselves, for read-only passes over many (counts, checks): no copies, do not modify."""
        with self._store.lock:
            return list(self._rows().values())

    def all(self) -> list[Annotation]:
        with self._store.lock:
            return [dict(d) for d in self._rows().values()]

    def close(self) -> None:
        """Fold the journal (if this is the last user in this process) and release the writer lock."""
        if not self._closed:
            self._closed = True
            release_store(self._store)
