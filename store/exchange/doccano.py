"""doccano sequence labelling JSONL: {"text", "label": [[start, end, "LABEL"], ...]} plus our metadata.

Offsets are code points (doccano is Python; its importer slices Python strings). Claims are CLAIM spans;
their attributes are not in this format (use json/jsonl or label-studio to keep them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from ..importer import Skip
from .incoming import CLAIM, RecordIn, SpanIn, article_fields, text_of
from .offsets import CODEPOINT
from .records import Context, Item

_dumps = json.JSONEncoder(ensure_ascii=False).encode


def _credibility(item: Item) -> dict[str, Any] | None:
    c = item.credibility
    return None if c is None else {k: c["attributes"].get(k) for k in ("score", "indicators", "note")}


def write(items: Iterable[Item], out: TextIO, ctx: Context) -> None:
    write_ = out.write
    for item in items:
        a = item.article
        write_(_dumps({
            "text": a.body, "label": [[r["start"], r["end"], r["label"]] for r in item.spans],
            "article_id": a.id, "title": a.title, "source": a.source, "date": a.date,
            "annotator": item.annotator, "state": item.state, "credibility": _credibility(item),
            "direction": ctx.saw(item), "paragraph_direction": item.paragraph_direction, "offset_unit": CODEPOINT,
        }))
        write_("\n")


def is_doccano(record: Any) -> bool:
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        return False
    label = record.get("label", record.get("labels"))
    if isinstance(label, list) and all(isinstance(x, list) for x in label):
        return True
    ents = record.get("entities")
    return isinstance(ents, list) and bool(ents) and isinstance(ents[0], dict) and "start_offset" in ents[0]


def parse(where: str, record: dict[str, Any]) -> Iterator[RecordIn | Skip]:
    text = text_of(record, where)
    if isinstance(text, Skip):
        yield text
        return
    rec = RecordIn(where, text, str(record["article_id"]) if record.get("article_id") else None,
                   article_fields(record), state=record.get("state"))
    key = "label" if "label" in record else "labels"
    for k, triple in enumerate(record.get(key) or []):
        at = f"{where}: {key}[{k}]"
        if not (isinstance(triple, list) and len(triple) == 3 and isinstance(triple[2], str)):
            yield Skip(at, 'expected [start, end, "LABEL"]')
            continue
        rec.spans.append(SpanIn(at, triple[0], triple[1], triple[2]))
    for k, ent in enumerate(record.get("entities") or [] if key not in record else []):
        at = f"{where}: entities[{k}]"
        if not isinstance(ent, dict):
            yield Skip(at, "expected an object with start_offset, end_offset and label")
            continue
        rec.spans.append(SpanIn(at, ent.get("start_offset"), ent.get("end_offset"), str(ent.get("label"))))
    cred = record.get("credibility")
    if isinstance(cred, dict):
        rec.credibility = {"where": f"{where}: credibility", **cred}
    yield rec


__all__ = ["CLAIM", "is_doccano", "parse", "write"]
