"""What a reader of labelled data hands to the importer: an article's text, fields and spans, with where
each came from (file:line or file:task[i]) so a bad span is reported, not guessed at."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from store.corpus.importer import Skip

CLAIM = "CLAIM"


@dataclass
class SpanIn:
    """One span in code points; `text`, when the source gives it, must equal the body at the offsets."""

    where: str
    start: Any
    end: Any
    label: str
    text: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    shown: str | None = None
    """The offsets as the file gave them, for messages, when not in code points (e.g. "6-99 (UTF-16 units)")."""


@dataclass
class RecordIn:
    """One article of a labelled file and the spans, credibility and state that come with it."""

    where: str
    text: str
    article_id: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    spans: list[SpanIn] = field(default_factory=list)
    credibility: dict[str, Any] | None = None
    state: str | None = None


def is_offset(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def article_fields(record: dict[str, Any], names=("title", "source", "date", "url", "byline")) -> dict[str, Any]:
    return {k: record[k] for k in names if record.get(k) not in (None, "")}




def text_of(record: dict[str, Any], where: str):
    """The record's `text`, or a Skip naming the field."""
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return Skip(where, "field 'text': missing or empty")
    return text
