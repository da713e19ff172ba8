"""Undo and redo of one annotator's changes for a whole session; every step is saved as it happens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from store.annotation.annotation_set import AnnotationSet
from store.annotation.record import Annotation, Kind
from store.errors import ValidationError


@dataclass(frozen=True)
class Change:
    """One undoable step: the record before (None if it did not exist) and after (None if removed)."""

    before: Annotation | None
    after: Annotation | None


class History:
    """Applies changes through an AnnotationSet and remembers them so `undo`/`redo` can reverse them."""

    def __init__(self, notes: AnnotationSet) -> None:
        self.notes = notes
        self._done: list[list[Change]] = []
        self._undone: list[list[Change]] = []
        self.listeners: list[Callable[[list[Change]], None]] = []
        """Called with every step applied (a change, an undo as the reversed changes, a redo), after it is
        saved: what is derived from the annotations (suggestions) follows at once."""

    def _push(self, changes: list[Change]) -> None:
        if changes:
            self._done.append(changes)
            self._undone.clear()
            self._tell(changes)

    def _tell(self, changes: list[Change]) -> None:
        for listener in self.listeners:
            listener(changes)

    def add_entity(self, article_id: str, start: int, end: int, label: str) -> Annotation:
        record = self.notes.add_entity(article_id, start, end, label)
        self._push([Change(None, record)])
        return record

    def add_entities(self, article_id: str, spans: list[tuple[int, int]], label: str) -> list[Annotation]:
        """Tag several spans as one undo step; spans refused by the store are left out."""
        added = []
        for start, end in spans:
            try:
                added.append(self.notes.add_entity(article_id, start, end, label))
            except ValidationError:
                continue
        self._push([Change(None, r) for r in added])
        return added

    def add_claim(self, article_id: str, start: int, end: int, **attributes: Any) -> Annotation:
        record = self.notes.add_claim(article_id, start, end, **attributes)
        self._push([Change(None, record)])
        return record

    def set_credibility(self, article_id: str, score: int, **kwargs: Any) -> Annotation:
        before = next((r for r in self.notes.for_article(article_id) if r["kind"] == Kind.CREDIBILITY), None)
        if before is not None:
            kwargs.setdefault("note", before["attributes"].get("note"))
            kwargs.setdefault("indicators", before["attributes"].get("indicators", []))
        self.notes.set_credibility(article_id, score, **kwargs)
        after = next(r for r in self.notes.for_article(article_id) if r["kind"] == Kind.CREDIBILITY)
        self._push([Change(before, after)])
        return after

    def update(self, annotation_id: str, **fields: Any) -> Annotation:
        before = self.notes.get(annotation_id)
        after = self.notes.update(annotation_id, **fields)
        self._push([Change(before, after)])
        return after

    def remove(self, annotation_id: str) -> Annotation:
        before = self.notes.remove(annotation_id)
        self._push([Change(before, None)])
        return before

    def _apply(self, old: Annotation | None, new: Annotation | None) -> None:
        if old is None and new is not None:
            self.notes.restore(new)
        elif old is not None and new is None:
            self.notes.remove(old["id"])
        elif new is not None:
            self.notes.replace(new)

    def undo(self) -> list[Change] | None:
        """Reverse the last step; returns it, or None when there is nothing to undo."""
        if not self._done:
            return None
        step = self._done.pop()
        for change in reversed(step):
            self._apply(change.after, change.before)
        self._undone.append(step)
        self._tell([Change(c.after, c.before) for c in reversed(step)])
        return step

    def redo(self) -> list[Change] | None:
        """Apply the last undone step again."""
        if not self._undone:
            return None
        step = self._undone.pop()
        for change in step:
            self._apply(change.before, change.after)
        self._done.append(step)
        self._tell(step)
        return step
