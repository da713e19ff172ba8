"""Reads our own json/jsonl records back (see tahqiq.schema.json) for `tahqiq import`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from store.corpus.importer import Skip
from store.exchange.incoming import CLAIM, RecordIn, SpanIn, article_fields, text_of


def is_ours(record: Any) -> bool:
    return isinstance(record, dict) and (str(record.get("format", "")).startswith("tahqiq/")
                                         or ("entities" in record and "claims" in record
                                             and "annotator" in record))


def parse(where: str, record: dict[str, Any]) -> Iterator[RecordIn | Skip]:
    text = text_of(record, where)
    if isinstance(text, Skip):
        yield text
        return
    out = RecordIn(where, text, str(record["id"]) if record.get("id") not in (None, "") else None,
                   article_fields(record), state=record.get("state"))
    for key in ("entities", "claims"):
        spans = record.get(key) or []
        if not isinstance(spans, list):
            yield Skip(where, f"field {key!r}: expected a list")
            continue
        for k, span in enumerate(spans):
            if not isinstance(span, dict):
                yield Skip(where, f"{key}[{k}]: expected an object with start, end and text")
                continue
            at = f"{where}: {key}[{k}]"
            if key == "entities":
                out.spans.append(SpanIn(at, span.get("start"), span.get("end"), str(span.get("label")),
                                        span.get("text")))
            else:
                attrs = span.get("attributes") or {}
                out.spans.append(SpanIn(at, span.get("start"), span.get("end"), CLAIM, span.get("text"),
                                        attrs if isinstance(attrs, dict) else {}))
    cred = record.get("credibility")
    if isinstance(cred, dict):
        out.credibility = {"where": f"{where}: credibility", "score": cred.get("score"),
                           "indicators": cred.get("indicators") or [], "note": cred.get("note")}
    yield out
