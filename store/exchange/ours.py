"""Our own format, written and read back: `jsonl` (one record a line) and `json` (an array of the same records).

Each record is validated by tahqiq.schema.json; offsets count code points into `text`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from importlib import resources
from typing import Any

from store.corpus.importer import Skip
from store.db.storage import dumps
from store.exchange.format import Format
from store.exchange.framed import Frame, framed
from store.exchange.incoming import CLAIM, RecordIn, SpanIn, article_fields, text_of
from store.exchange.offsets import CODEPOINT
from store.exchange.records import Context, Item, annotator_part, article_part, json_safe


def _dumps(record: dict[str, Any]) -> bytes:
    """One record as compact JSON (orjson: export is mostly this), UTF-8."""
    return _safe(dumps(record))


_C1 = re.compile(b"\xc2[\x80-\x9f]")
_E2 = re.compile(b"\xe2(?:\x80[\x8e\x8f\xa8-\xae]|\x81[\xa6-\xa9])")
"""With DEL and U+061C (b"\\xd8\\x9c"), the UTF-8 of what json_safe escapes: C1 controls; U+200E-F, U+2028-202E,
U+2066-2069 (a surrogate is never UTF-8). Each pattern begins with one byte, which the search skips to."""


def _safe(data: bytes) -> bytes:
    """`data` (UTF-8 JSON, as orjson writes it) with no raw DEL, C1 or bidi control that could drive a terminal
    (json_safe)."""
    if (b"\x7f" in data or (b"\x9c" in data and b"\xd8\x9c" in data)  # (the first byte is every other byte of Arabic)
            or (b"\xc2" in data and _C1.search(data) is not None)
            or (b"\xe2" in data and _E2.search(data) is not None)):
        return json_safe(data.decode("utf-8")).encode("utf-8")
    return data


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) shipped with the package, for a record or an array of records."""
    return json.loads(resources.files(__package__).joinpath("tahqiq.schema.json").read_text("utf-8"))


def prepare(annotator: str, state: str, rows: list[dict[str, Any]]) -> bytes:
    """The annotator's part of the record, `"annotator":...,"claims":[...]}` (its JSON less the opening brace),
    made as the annotator is read (Format.prepare)."""
    return _dumps(annotator_part(annotator, state, rows))[1:]


def _head(item: Item) -> bytes:
    """The article's part of the record, `{"format":...,"text":...,` (its JSON less the closing brace, plus a
    comma)."""
    return _dumps(article_part(item))[:-1] + b","


def records(items: Iterable[Item], ctx: Context) -> Iterator[tuple[bytes, bytes]]:
    """Each item's record as compact JSON, UTF-8, in two pieces: the article's part, encoded once for all its
    annotators, and the annotator's (together the same bytes as `_dumps(to_record(item))`: compact JSON is the
    concatenation of its members, and json_safe escapes character by character)."""
    article, head = None, b""
    for item in items:
        ctx.saw(item)
        if item.article is not article:
            article = item.article
            head = _head(item)
        tail = item.prepared
        yield head, (tail if tail is not None else prepare(item.annotator, item.state, item.annotations))


LINES: Frame = (b"", b"\n", b"\n", b"")
ARRAY: Frame = (b"[\n", b",\n", b"\n]\n", b"[]\n")
write_jsonl = framed(records, LINES)
write_json = framed(records, ARRAY)


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
               prepare=prepare, records=records, frame=LINES, **_READS)
JSON = Format("json", write_json, CODEPOINT, help="tahqiq records as one JSON array", prepare=prepare,
              records=records, frame=ARRAY, **_READS)
