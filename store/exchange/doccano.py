"""doccano sequence labelling JSONL: {"text", "label": [[start, end, "LABEL"], ...]} plus our metadata.

Offsets are UTF-16 code units by default: doccano's backend stores and exports the integers it is given
without looking at them, and its span editor (v-annotator) places and makes spans at JavaScript string
positions unless the project's "grapheme mode" is on (FORMATS.md names the files of doccano 1.8.4 that show
it). `offset_unit="codepoint"` writes code points instead. Every line states its unit in `offset_unit`; on
import a line's own `offset_unit` wins, then the importer's choice, then UTF-16. Claims are CLAIM spans;
their attributes are not in this format (use json/jsonl or label-studio to keep them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from store.corpus.importer import Skip
from store.exchange.format import Format
from store.exchange.incoming import CLAIM, RecordIn, SpanIn, article_fields, is_offset, text_of
from store.exchange.offsets import CODEPOINT, UNITS, UTF16, Notice, Utf16
from store.exchange.records import Context, Item, json_safe_encoder

_dumps = json_safe_encoder(json.JSONEncoder(ensure_ascii=False).encode)


def _credibility(item: Item) -> dict[str, Any] | None:
    c = item.credibility
    return None if c is None else {k: c["attributes"].get(k) for k in ("score", "indicators", "note")}


def write(items: Iterable[Item], out: TextIO, ctx: Context, offset_unit: str = UTF16) -> None:
    write_ = out.write
    for item in items:
        a = item.article
        conv = Utf16(a.body)
        write_(_dumps({
            "text": a.body,
            "label": [[conv.to_unit(r["start"], offset_unit), conv.to_unit(r["end"], offset_unit), r["label"]]
                      for r in item.spans],
            "article_id": a.id, "title": a.title, "source": a.source, "date": a.date,
            "annotator": item.annotator, "state": item.state, "credibility": _credibility(item),
            "direction": ctx.saw(item), "paragraph_direction": item.paragraph_direction, "offset_unit": offset_unit,
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


def parse(where: str, record: Any, offset_unit: str | None = None) -> Iterator[RecordIn | Skip | Notice]:
    """One line (or element of a JSON array). Its offsets are in the line's own `offset_unit`, else `offset_unit`,
    else UTF-16 code units (doccano's editor); a Notice says when UTF-16 was assumed for a text where the two
    units differ."""
    if not isinstance(record, dict):
        yield Skip(where, f"expected a JSON object, got {type(record).__name__}")
        return
    text = text_of(record, where)
    if isinstance(text, Skip):
        yield text
        return
    stated = record.get("offset_unit")
    if stated is not None and stated not in UNITS:
        yield Skip(f"{where}: offset_unit", f"unknown unit {stated!r} (use {' or '.join(UNITS)})")
        return
    unit = stated or offset_unit or UTF16
    conv = Utf16(text)
    rec = RecordIn(where, text, str(record["article_id"]) if record.get("article_id") else None,
                   article_fields(record), state=record.get("state"))
    key = "label" if "label" in record else "labels"
    raw: list[tuple[str, Any, Any, str]] = []
    for k, triple in enumerate(record.get(key) or []):
        at = f"{where}: {key}[{k}]"
        if not (isinstance(triple, list) and len(triple) == 3 and isinstance(triple[2], str)):
            yield Skip(at, 'expected [start, end, "LABEL"]')
            continue
        raw.append((at, triple[0], triple[1], triple[2]))
    for k, ent in enumerate(record.get("entities") or [] if key not in record else []):
        at = f"{where}: entities[{k}]"
        if not isinstance(ent, dict):
            yield Skip(at, "expected an object with start_offset, end_offset and label")
            continue
        raw.append((at, ent.get("start_offset"), ent.get("end_offset"), str(ent.get("label"))))
    for at, start, end, label in raw:
        if unit == UTF16 and conv.differs and is_offset(start) and is_offset(end):
            try:
                rec.spans.append(SpanIn(at, conv.to_codepoint(start), conv.to_codepoint(end), label,
                                        shown=f"{start}-{end} (UTF-16 units)"))
            except ValueError as exc:
                yield Skip(at, str(exc))
        else:
            rec.spans.append(SpanIn(at, start, end, label))
    if raw and unit == UTF16 and stated is None and conv.differs:
        yield Notice(where, "offsets read as UTF-16 code units (doccano's editor counts so; the line states no "
                            "offset_unit and its text has characters outside the BMP): use --offset-unit "
                            "codepoint if the tool that wrote them counts code points (Python code, doccano's "
                            "CoNLL import)")
    cred = record.get("credibility")
    if isinstance(cred, dict):
        rec.credibility = {"where": f"{where}: credibility", **cred}
    yield rec


FORMAT = Format("doccano", write, UTF16, units=(CODEPOINT,),
                help="doccano sequence-labelling JSONL (UTF-16 offsets, as doccano's editor counts)",
                read=parse, sniff=is_doccano, import_help="doccano JSONL",
                epilog="UTF-16 code units (JavaScript string positions, as doccano's span editor counts; "
                       "--offset-unit codepoint for code points).")

__all__ = ["CLAIM", "FORMAT", "is_doccano", "parse", "write"]
