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

    def add_entity(self, article_id: str, start: int, end: int, label: str) -> Annotation:
        """Tag body[start:end] with an entity label from the schema."""
        if label not in self._schema().entities:
            known = ", ".join(self._schema().entities)
            raise ValidationError(f"unknown entity label {label!r} (labels.toml has {known})")
        text = self._span(article_id, start, end)
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

    def all(self) -> list[Annotation]:
        return [dict(d) for d in self._table.all()]

    def close(self) -> None:
        self._db.close()
