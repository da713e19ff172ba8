"""Our own format, written and read back: `jsonl` (one record a line) and `json` (an array of the same records).

Each record is validated by tahqiq.schema.json; offsets count code points into `text`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from importlib import resources
from typing import Any, TextIO

from store.corpus.importer import Skip
from store.db.storage import dumps
from store.exchange.format import Format
from store.exchange.incoming import CLAIM, RecordIn, SpanIn, article_fields, text_of
from store.exchange.offsets import CODEPOINT
from store.exchange.records import Context, Item, annotator_part, article_part, json_safe


def _dumps(record: dict[str, Any]) -> str:
    """One record as compact JSON (orjson when installed: export is mostly this)."""
    return json_safe(dumps(record).decode("utf-8"))  # no raw DEL, C1 or bidi control on a terminal


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) shipped with the package, for a record or an array of records."""
    return json.loads(resources.files(__package__).joinpath("tahqiq.schema.json").read_text("utf-8"))


def prepare(annotator: str, state: str, rows: list[dict[str, Any]]) -> str:
    """The annotator's part of the record, `"annotator":...,"claims":[...]}` (its JSON less the opening brace),
    made as the annotator is read (Format.prepare)."""
    return _dumps(annotator_part(annotator, state, rows))[1:]


def _records(items: Iterable[Item], ctx: Context) -> Iterator[str]:
    """Each item's record as compact JSON: the article's part encoded once for all its annotators, joined to
    each annotator's (the same text as `_dumps(to_record(item))`: compact JSON is the concatenation of its
    members, and json_safe escapes character by character)."""
    article, head = None, ""
    for item in items:
        ctx.saw(item)
        if item.article is not article:
            article = item.article
            head = _dumps(article_part(item))[:-1] + ","
        tail = item.prepared
        yield head + (tail if tail is not None else prepare(item.annotator, item.state, item.annotations))


def write_jsonl(items: Iterable[Item], out: TextIO, ctx: Context) -> None:
    write = out.write
    for record in _records(items, ctx):
        write(record)
        write("\n")


def write_json(items: Iterable[Item], out: TextIO, ctx: Context) -> None:
    write = out.write
    sep = "[\n"
    for record in _records(items, ctx):
        write(sep)
        write(record)
        sep = ",\n"
    write("[]\n" if sep == "[\n" else "\n]\n")


# --- reading records back (tahqiq import) ------------------------------------------------------------

def is_ours(record: Any) -> bool:
    return isinstance(record, dict) and (str(record.get("format", "")).startswith("tahqiq/")
                                         or ("entities" in record and "claims" in record
                                             and "annotator" in record))


def parse(where: str, record: Any, offset_unit: str | None = None) -> Iterator[RecordIn | Skip]:
    """One record (a JSONL line or an element of a JSON array): its article, entities, claims with their
    attributes, credibility and state. Offsets are code points (`offset_unit` is not asked)."""
    if not isinstance(record, dict):
        yield Skip(where, f"expected a JSON object, got {type(record).__name__}")
        return
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


_READS = {"read": parse, "sniff": is_ours, "imported_as": "tahqiq", "import_help": "tahqiq json/jsonl"}
JSONL = Format("jsonl", write_jsonl, CODEPOINT, help="tahqiq records, one a line (tahqiq.schema.json)",
               prepare=prepare, **_READS)
JSON = Format("json", write_json, CODEPOINT, help="tahqiq records as one JSON array", prepare=prepare, **_READS)
