"""Label Studio: task JSON (one task per article, one annotation per annotator) and its labelling config.

Label Studio counts offsets in JavaScript string positions (UTF-16 code units), so they are converted
both ways; an emoji before a span shifts it by one unit per emoji.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import groupby
from pathlib import Path
from typing import Any, TextIO
from xml.sax.saxutils import quoteattr

from ..importer import Skip
from .incoming import CLAIM, RecordIn, SpanIn, is_offset
from .offsets import UTF16, Utf16
from .records import FORMAT_TAG, Context, Item

LABELS, TEXT, CREDIBILITY, INDICATORS, CRED_NOTE = "label", "text", "credibility", "indicators", "credibility_note"
CLAIM_PREFIX = "claim_"
CLAIM_COLOR = "#e5c07b"
_dumps = json.JSONEncoder(ensure_ascii=False).encode


def config_path(path: Path) -> Path:
    """Where the labelling config goes: beside the tasks file, e.g. tasks.json -> tasks.label_config.xml."""
    return path.with_name(path.stem + ".label_config.xml")


def _region(r: dict[str, Any], conv: Utf16) -> dict[str, Any]:
    return {"start": conv.to_utf16(r["start"]), "end": conv.to_utf16(r["end"]), "text": r["text"]}


def _result(item: Item, conv: Utf16, schema: Any) -> list[dict[str, Any]]:
    out = []

    def add(rid: str, name: str, kind: str, value: dict[str, Any]) -> None:
        out.append({"id": rid, "from_name": name, "to_name": TEXT, "type": kind, "value": value,
                    "origin": "manual"})

    for r in item.annotations:
        if r["kind"] == "credibility":
            att = r["attributes"]
            if att.get("score") is not None:  # indicators or a note can be saved without a score
                add(r["id"], CREDIBILITY, "choices", {"choices": [str(att["score"])]})
            if att.get("indicators"):
                add(r["id"] + "-i", INDICATORS, "choices", {"choices": list(att["indicators"])})
            if att.get("note"):
                add(r["id"] + "-n", CRED_NOTE, "textarea", {"text": [att["note"]]})
            continue
        region = _region(r, conv)
        add(r["id"], LABELS, "labels", {**region, "labels": [r["label"]]})
        if r["kind"] == "claim":
            for name, value in r["attributes"].items():
                if value in (None, ""):
                    continue
                kind, key = ("choices", "choices") if name in schema.claim_attributes else ("textarea", "text")
                add(r["id"], CLAIM_PREFIX + name, kind, {**region, key: [value]})
    return out


def write(items: Iterable[Item], out: TextIO, ctx: Context) -> None:
    """A JSON array of tasks; items arrive grouped by article (records.select orders them so)."""
    write_ = out.write
    sep = "[\n"
    for _, group in groupby(items, key=lambda i: i.article.id):
        group = list(group)
        a = group[0].article
        conv = Utf16(a.body)
        d = ctx.saw(group[0])
        task = {
            "data": {"text": a.body, "article_id": a.id, "title": a.title, "source": a.source, "date": a.date,
                     "url": a.url, "direction": d, "paragraph_direction": group[0].paragraph_direction,
                     "offset_unit": UTF16, "format": FORMAT_TAG,
                     "annotators": [i.annotator for i in group], "states": [i.state for i in group]},
            "annotations": [{"result": _result(i, conv, ctx.schema), "was_cancelled": False,
                             "ground_truth": False, "created_at": _time(i, "created", min),
                             "updated_at": _time(i, "updated", max)} for i in group],
        }
        write_(sep)
        write_(_dumps(task))
        sep = ",\n"
    write_("[]\n" if sep == "[\n" else "\n]\n")


def _time(item: Item, key: str, pick) -> str | None:
    values = [r[key] for r in item.annotations]
    return pick(values) if values else None


def config(schema: Any, rtl: bool = True) -> str:
    """The labelling config matching `write`'s tasks: entity labels + CLAIM, claim attributes per region,
    credibility score, indicators and note per task. Offsets are logical whatever the display direction."""
    q = quoteattr
    lines = ["<View>", f"  <Labels name={q(LABELS)} toName={q(TEXT)}>"]
    for e in schema.entities.values():
        lines.append(f"    <Label value={q(e.label)} background={q(e.color)} hotkey={q(e.key)}/>")
    lines.append(f"    <Label value={q(CLAIM)} background={q(CLAIM_COLOR)}/>")
    lines.append("  </Labels>")
    style = ' style="direction: rtl; text-align: right"' if rtl else ""
    lines += [f"  <View{style}>", f"    <Text name={q(TEXT)} value=\"$text\"/>", "  </View>"]
    region = f'toName={q(TEXT)} perRegion="true" visibleWhen="region-selected" whenLabelValue={q(CLAIM)}'
    for name, values in schema.claim_attributes.items():
        lines.append(f'  <Choices name={q(CLAIM_PREFIX + name)} {region} choice="single" showInline="true">')
        lines += [f"    <Choice value={q(v)}/>" for v in values]
        lines.append("  </Choices>")
    for name in ("claimant", "note"):
        lines.append(f'  <TextArea name={q(CLAIM_PREFIX + name)} {region} maxSubmissions="1" editable="true"'
                     f' placeholder={q("claim " + name)}/>')
    lines += ['  <Header value="Credibility (1-5)"/>',
              f'  <Choices name={q(CREDIBILITY)} toName={q(TEXT)} choice="single" showInline="true">']
    lines += [f'    <Choice value="{n}"/>' for n in range(1, 6)]
    lines += ["  </Choices>", f'  <Choices name={q(INDICATORS)} toName={q(TEXT)} choice="multiple" showInline="true">']
    lines += [f"    <Choice value={q(v)}/>" for v in schema.indicators]
    lines += ["  </Choices>",
              f'  <TextArea name={q(CRED_NOTE)} toName={q(TEXT)} maxSubmissions="1" editable="true"'
              ' placeholder="credibility note"/>',
              "</View>", ""]
    return "\n".join(lines)


# --- reading tasks back --------------------------------------------------------------------------

def is_task(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("data"), dict)


def parse(path: Path, tasks: list[Any]) -> Iterator[RecordIn | Skip]:
    for i, task in enumerate(tasks):
        where = f"{path}:task[{i}]"
        if not is_task(task):
            yield Skip(where, "expected a Label Studio task (an object with 'data')")
            continue
        yield from _task(where, task)


def _task(where: str, task: dict[str, Any]) -> Iterator[RecordIn | Skip]:
    data = task["data"]
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        yield Skip(where, "field 'data.text': missing or empty")
        return
    fields = {k: data[k] for k in ("title", "source", "date", "url") if data.get(k) not in (None, "")}
    rec = RecordIn(where, text, str(data["article_id"]) if data.get("article_id") else None, fields)
    source = "annotations"
    annotations = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
    if not annotations:
        source, annotations = "predictions", [p for p in task.get("predictions") or [] if isinstance(p, dict)]
    conv = Utf16(text)
    for j, ann in enumerate(annotations):
        regions: dict[str, SpanIn] = {}
        per_region: list[tuple[str, dict[str, Any]]] = []
        for k, r in enumerate(ann.get("result") or []):
            at = f"{where}.{source}[{j}].result[{k}]"
            if not isinstance(r, dict) or not isinstance(r.get("value"), dict):
                yield Skip(at, "expected a result object with a 'value'")
                continue
            value, kind, name = r["value"], r.get("type"), r.get("from_name")
            if kind == "labels":
                labels = value.get("labels") or []
                if not labels:
                    yield Skip(at, "field 'value.labels': missing or empty")
                    continue
                try:
                    start, end = _codepoints(conv, value)
                except ValueError as exc:
                    yield Skip(at, str(exc))
                    continue
                for label in labels:
                    span = SpanIn(at, start, end, str(label), value.get("text"),
                                  shown=f"{value['start']}-{value['end']} (UTF-16 units)")
                    regions.setdefault(str(r.get("id", f"#{k}")), span)
                    rec.spans.append(span)
            elif "start" in value and name and str(name).startswith(CLAIM_PREFIX):
                per_region.append((str(r.get("id")), r))
            elif name == CREDIBILITY and kind == "choices":
                rec.credibility = rec.credibility or {"where": at, "indicators": [], "note": None}
                choice = (value.get("choices") or [None])[0]
                rec.credibility["score"] = int(choice) if str(choice).isdigit() else choice
            elif name == INDICATORS and kind == "choices":
                rec.credibility = rec.credibility or {"where": at, "indicators": [], "note": None, "score": None}
                rec.credibility["indicators"] = list(value.get("choices") or [])
            elif name == CRED_NOTE and kind == "textarea":
                rec.credibility = rec.credibility or {"where": at, "indicators": [], "note": None, "score": None}
                rec.credibility["note"] = "\n".join(value.get("text") or []) or None
            else:
                yield Skip(at, f"result {name!r} of type {kind!r} is not something tahqiq imports")
        for rid, r in per_region:
            span = regions.get(rid)
            if span is None or span.label != CLAIM:
                yield Skip(f"{where}.{source}[{j}]", f"{r['from_name']}: no CLAIM region with id {rid!r}")
                continue
            values = r["value"].get("choices") or r["value"].get("text") or []
            span.attributes[str(r["from_name"])[len(CLAIM_PREFIX):]] = "\n".join(map(str, values)) or None
    yield rec


def _codepoints(conv: Utf16, value: dict[str, Any]) -> tuple[int, int]:
    start, end = value.get("start"), value.get("end")
    if not (is_offset(start) and is_offset(end)):
        raise ValueError(f"fields 'value.start'/'value.end': expected integers, got {start!r}, {end!r}")
    return conv.to_codepoint(start), conv.to_codepoint(end)
