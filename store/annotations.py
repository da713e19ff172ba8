"""One annotator's annotations: entities, claims and credibility, in their own TinyDB file."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB

from .article import Article
from .errors import ValidationError
from .labels import Schema
from .storage import AtomicJSONStorage

Annotation = dict[str, Any]
"""A stored annotation: id, article_id, kind ("entity", "claim", "credibility"), start, end, text,
label, attributes, created, updated."""
KINDS = ("entity", "claim", "credibility")
STATES = ("not started", "in progress", "done")


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class AnnotationSet:
    """The annotations of one annotator, saved on every change (atomically) to `annotations/<name>.json`."""

    def __init__(
        self, path: Path, annotator: str, article: Callable[[str], Article], schema: Callable[[], Schema]
    ) -> None:
        self.annotator = annotator
        self.path = path
        self._article = article
        self._schema = schema
        self._db = TinyDB(path, storage=AtomicJSONStorage)
        self._table = self._db.table("annotations", cache_size=0)
        self._progress = self._db.table("progress", cache_size=0)
        self._table.all()  # read now, so a corrupt file is reported on open rather than on first save

    def _span(self, article_id: str, start: int, end: int) -> str:
        body = self._article(article_id).body
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
            raise ValidationError(f"offsets must be integers, got start={start!r} end={end!r}")
        if not 0 <= start < end <= len(body):
            raise ValidationError(
                f"span {start}-{end} is outside article {article_id} (body has {len(body)} characters)"
            )
        return body[start:end]

    def _insert(self, record: Annotation) -> Annotation:
        stamp = now()
        record = {"id": uuid.uuid4().hex[:12], "annotator": self.annotator, "created": stamp,
                  "updated": stamp, **record}
        self._table.insert(record)
        return record

    def _check_entity(self, article_id: str, start: int, end: int, label: str, ignore: str | None = None) -> None:
        if label not in self._schema().entities:
            known = ", ".join(self._schema().entities)
            raise ValidationError(f"unknown entity label {label!r} (labels.toml has {known})")
        nested = self._schema().nested_entities
        for other in self.for_article(article_id):
            if other["kind"] != "entity" or other["id"] == ignore:
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
        return self._insert({"article_id": article_id, "kind": "entity", "start": start, "end": end,
                             "text": text, "label": label, "attributes": {}})

    def add_claim(self, article_id: str, start: int, end: int, **attributes: Any) -> Annotation:
        """Mark body[start:end] as a claim; attributes named in the schema must take one of its values."""
        allowed = self._schema().claim_attributes
        for name, value in attributes.items():
            if name in allowed and value is not None and value not in allowed[name]:
                raise ValidationError(f"claim attribute {name}: {value!r} is not one of {allowed[name]}")
        defaults = {"verdict": "unverified"} if "verdict" in allowed else {}
        text = self._span(article_id, start, end)
        return self._insert({"article_id": article_id, "kind": "claim", "start": start, "end": end,
                             "text": text, "label": "CLAIM", "attributes": {**defaults, **attributes}})

    def set_credibility(
        self, article_id: str, score: int, note: str | None = None, indicators: list[str] | tuple[str, ...] = ()
    ) -> Annotation:
        """Set this annotator's credibility score (1-5) for an article, replacing any earlier one."""
        self._article(article_id)
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise ValidationError(f"credibility score must be 1-5, got {score!r}")
        unknown = [i for i in indicators if i not in self._schema().indicators]
        if unknown:
            raise ValidationError(f"unknown credibility indicator(s) {unknown} (see labels.toml)")
        q = Query()
        existing = self._table.get((q.article_id == article_id) & (q.kind == "credibility"))
        attributes = {"score": score, "indicators": list(indicators), "note": note}
        if existing is not None:
            self._table.update({"attributes": attributes, "updated": now()}, doc_ids=[existing.doc_id])
            return {**existing, "attributes": attributes}
        return self._insert({"article_id": article_id, "kind": "credibility", "start": None, "end": None,
                             "text": None, "label": "CREDIBILITY", "attributes": attributes})

    def get(self, annotation_id: str) -> Annotation:
        """One annotation by id."""
        found = self._table.get(Query().id == annotation_id)
        if found is None:
            raise ValidationError(f"no annotation with id {annotation_id!r} for {self.annotator}")
        return dict(found)

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
        if new["kind"] == "entity":
            self._check_entity(new["article_id"], new["start"], new["end"], new["label"], ignore=annotation_id)
        new["updated"] = now()
        self._table.update(new, Query().id == annotation_id)
        return new

    def replace(self, record: Annotation) -> None:
        """Write a whole record back as it was (for undo of an update)."""
        self._table.update(dict(record), Query().id == record["id"])

    def mismatches(self, article_id: str) -> list[Annotation]:
        """Annotations whose stored text no longer equals the body at their offsets (never shifted silently)."""
        body = self._article(article_id).body
        return [r for r in self.for_article(article_id)
                if r["start"] is not None and body[r["start"]:r["end"]] != r["text"]]

    def remove(self, annotation_id: str) -> Annotation:
        """Delete an annotation by id and return it (so it can be restored by undo)."""
        found = self._table.get(Query().id == annotation_id)
        if found is None:
            raise ValidationError(f"no annotation with id {annotation_id!r} for {self.annotator}")
        self._table.remove(doc_ids=[found.doc_id])
        return dict(found)

    def restore(self, record: Annotation) -> None:
        """Put back a removed annotation exactly as it was (for undo)."""
        self._table.insert(dict(record))

    def for_article(self, article_id: str) -> list[Annotation]:
        """This annotator's annotations on one article, in text order (credibility first)."""
        rows = [dict(d) for d in self._table.search(Query().article_id == article_id)]
        return sorted(rows, key=lambda r: (r["start"] if r["start"] is not None else -1, r["end"] or 0))

    def set_state(self, article_id: str, state: str) -> None:
        """Record this annotator's progress on an article: not started, in progress or done."""
        self._article(article_id)
        if state not in STATES:
            raise ValidationError(f"state must be one of {STATES}, got {state!r}")
        self._progress.upsert({"article_id": article_id, "state": state, "updated": now()},
                              Query().article_id == article_id)

    def state(self, article_id: str) -> str:
        """Progress on an article: as recorded, else "in progress" once anything is annotated."""
        row = self._progress.get(Query().article_id == article_id)
        if row is not None:
            return str(row["state"])
        return "in progress" if self._table.contains(Query().article_id == article_id) else "not started"

    def states(self) -> dict[str, str]:
        """Recorded progress of every article this annotator marked (article id -> state)."""
        return {row["article_id"]: row["state"] for row in self._progress.all()}

    def all(self) -> list[Annotation]:
        return [dict(d) for d in self._table.all()]

    def close(self) -> None:
        self._db.close()
