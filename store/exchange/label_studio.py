"""Label Studio: task JSON (one task per article, one annotation per annotator) and its labelling config.

Offsets are code points, as Label Studio has stored them since 1.4 (its editor converts browser positions
to code points; its SDK's converter slices Python strings with them). Files from Label Studio before 1.4
counted UTF-16 code units: on import that reading is taken only where `value.text` proves it, with a notice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import groupby
from pathlib import Path
from typing import Any, TextIO
from xml.sax.saxutils import quoteattr

from store.annotation.record import Kind
from store.corpus.importer import Skip
from store.db.atomic import write_atomic_text
from store.exchange.format import PARTIAL, Format
from store.exchange.incoming import CLAIM, RecordIn, SpanIn, is_offset
from store.exchange.offsets import CODEPOINT, Notice, Utf16, direction
from store.exchange.records import FORMAT_TAG, Context, Item, json_safe_encoder
from store.text.direction import FIRST_STRONG

LABELS, TEXT, CREDIBILITY, INDICATORS, CRED_NOTE = "label", "text", "credibility", "indicators", "credibility_note"
CLAIM_PREFIX = "claim_"
CLAIM_COLOR = "#e5c07b"
_dumps = json_safe_encoder(json.JSONEncoder(ensure_ascii=False).encode)


def config_path(path: Path) -> Path:
    """Where the labelling config goes: beside the tasks file, e.g. tasks.json -> tasks.label_config.xml."""
    return path.with_name(path.stem + ".label_config.xml")


def _region(r: dict[str, Any]) -> dict[str, Any]:
    return {"start": r["start"], "end": r["end"], "text": r["text"]}


def _result(item: Item, schema: Any) -> list[dict[str, Any]]:
    out = []

    def add(rid: str, name: str, kind: str, value: dict[str, Any]) -> None:
        out.append({"id": rid, "from_name": name, "to_name": TEXT, "type": kind, "value": value,
                    "origin": "manual"})

    for r in item.annotations:
        if r["kind"] == Kind.CREDIBILITY:
            att = r["attributes"]
            if att.get("score") is not None:  # indicators or a note can be saved without a score
                add(r["id"], CREDIBILITY, "choices", {"choices": [str(att["score"])]})
            if att.get("indicators"):
                add(r["id"] + "-i", INDICATORS, "choices", {"choices": list(att["indicators"])})
            if att.get("note"):
                add(r["id"] + "-n", CRED_NOTE, "textarea", {"text": [att["note"]]})
            continue
        region = _region(r)
        add(r["id"], LABELS, "labels", {**region, "labels": [r["label"]]})
        if r["kind"] == Kind.CLAIM:
            for name, value in r["attributes"].items():
                if value in (None, ""):
                    continue
                kind, key = ("choices", "choices") if name in schema.claim_attributes else ("textarea", "text")
                add(r["id"], CLAIM_PREFIX + name, kind, {**region, key: [value]})
    return out


def write(items: Iterable[Item], out: TextIO, ctx: Context) -> None:
    """A JSON array of tasks; items arrive grouped by article (records.select orders them so). Each task has
    an integer `id` (Label Studio's converter needs one) and states each annotation's annotator and state in
    `data.annotators`/`data.states`, in the order of `annotations`."""
    write_ = out.write
    sep = "[\n"
    for n, (_, group) in enumerate(groupby(items, key=lambda i: i.article.id), 1):
        group = list(group)
        a = group[0].article
        d = ctx.saw(group[0])  # one count per task: the summary line counts tasks
        _note_direction(group[0], d, ctx)
        times = [(_time(i, "created", min), _time(i, "updated", max)) for i in group]
        known = [t for pair in times for t in pair if t is not None]
        task = {
            "id": n,
            "data": {"text": a.body, "article_id": a.id, "title": a.title, "source": a.source, "date": a.date,
                     "url": a.url, "direction": d, "paragraph_direction": group[0].paragraph_direction,
                     "offset_unit": CODEPOINT, "format": FORMAT_TAG,
                     "annotators": [i.annotator for i in group], "states": [i.state for i in group]},
            "annotations": [_annotation(i, ctx, created, updated, min(known) if known else None)
                            for i, (created, updated) in zip(group, times, strict=True)],
        }
        write_(sep)
        write_(_dumps(task))
        sep = ",\n"
    write_("[]\n" if sep == "[\n" else "\n]\n")


def _annotation(item: Item, ctx: Context, created: str | None, updated: str | None,
                fallback: str | None) -> dict[str, Any]:
    """One annotator's annotation. An annotator with no annotation rows (a state only) gets the task's
    earliest time: Label Studio's converter sorts a task's annotations by `created_at` and cannot compare a
    missing time with a present one."""
    out: dict[str, Any] = {"result": _result(item, ctx.schema), "was_cancelled": False, "ground_truth": False}
    created, updated = created or fallback, updated or fallback
    if created is not None:
        out["created_at"], out["updated_at"] = created, updated
    return out


def _note_direction(item: Item, d: str, ctx: Context) -> None:
    """Label Studio's labelling config cannot read a per-task value except an object tag's `value` (its
    `style` and `<Style>` are fixed for the project), so the config lets the browser take each paragraph's
    direction from its first strong character (unicode-bidi: plaintext). Where the workspace's rule decides
    otherwise (e.g. `arabic` for an Arabic text opening with a Latin name), say so."""
    shown = direction(item.article.body, FIRST_STRONG)
    if shown != d:
        first = "left-to-right" if shown == "ltr" else "right-to-left"
        ctx.notes.append(f"label-studio: article {item.article.id!r} is {d} by the workspace's rule "
                         f"({item.paragraph_direction}) but its first strong letter is {first}: Label Studio "
                         f"shows it {shown} (data.direction says {d})")


def _time(item: Item, key: str, pick) -> str | None:
    values = [r[key] for r in item.annotations]
    return pick(values) if values else None


# Label Studio's config cannot read a task's data.direction (View `style` and <Style> are fixed; only an
# object tag's `value` is taken from the task), so each paragraph of the text takes its direction from its
# first strong character in the browser, and aligns to its start: Arabic paragraphs right, Latin ones left.
# `.htx-richtext` is the Text tag's text container (`.htx-text` in old versions).
TEXT_CLASS = "tahqiq-text"
TEXT_STYLE = (f".{TEXT_CLASS} .htx-richtext, .{TEXT_CLASS} .htx-text "
              "{ unicode-bidi: plaintext; text-align: start; white-space: pre-wrap; }")


def config(schema: Any) -> str:
    """The labelling config matching `write`'s tasks: entity labels + CLAIM, claim attributes per region,
    credibility score, indicators and note per task. Offsets are logical whatever the display direction;
    direction is per task and per paragraph (TEXT_STYLE)."""
    q = quoteattr
    lines = ["<View>", f"  <Style>{TEXT_STYLE}</Style>", f"  <Labels name={q(LABELS)} toName={q(TEXT)}>"]
    for e in schema.entities.values():
        lines.append(f"    <Label value={q(e.label)} background={q(e.color)} hotkey={q(e.key)}/>")
    lines.append(f"    <Label value={q(CLAIM)} background={q(CLAIM_COLOR)}/>")
    lines.append("  </Labels>")
    lines += [f"  <View className={q(TEXT_CLASS)}>", f"    <Text name={q(TEXT)} value=\"$text\"/>", "  </View>"]
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


def parse(where: str, task: Any, offset_unit: str | None = None) -> Iterator[RecordIn | Skip | Notice]:
    """One task (an element of a JSON array, one task object, or a line of a JSONL file); see `_task` for the
    offsets (`offset_unit` is not asked: code points, UTF-16 units only where `value.text` proves them)."""
    if not is_task(task):
        yield Skip(where, "expected a Label Studio task (an object with 'data')")
        return
    yield from _task(where, task)


def _task(where: str, task: dict[str, Any]) -> Iterator[RecordIn | Skip | Notice]:
    """One task: its text, spans (code points; UTF-16 units only where `value.text` proves that reading,
    with a Notice), credibility, and state: `done` when `data.states` (as tahqiq writes it, one per entry
    of `annotations`) says done for every annotation imported."""
    data = task["data"]
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        yield Skip(where, "field 'data.text': missing or empty")
        return
    fields = {k: data[k] for k in ("title", "source", "date", "url") if data.get(k) not in (None, "")}
    rec = RecordIn(where, text, str(data["article_id"]) if data.get("article_id") else None, fields)
    source = "annotations"
    annotations = [(j, a) for j, a in enumerate(_list(task.get("annotations")))
                   if isinstance(a, dict) and not a.get("was_cancelled")]
    if annotations:
        states = _list(data.get("states"))
        done = [j < len(states) and states[j] == "done" for j, _ in annotations]
        rec.state = "done" if all(done) else None
    else:
        source = "predictions"
        annotations = [(j, p) for j, p in enumerate(_list(task.get("predictions"))) if isinstance(p, dict)]
    for name in ("annotations", "predictions"):
        if task.get(name) is not None and not isinstance(task[name], list):
            yield Skip(where, f"field {name!r}: expected a list, got {type(task[name]).__name__}")
    conv = Utf16(text)
    utf16: list[str] = []
    for j, ann in annotations:
        regions: dict[str, SpanIn] = {}
        per_region: list[tuple[str, dict[str, Any]]] = []
        if ann.get("result") is not None and not isinstance(ann["result"], list):
            yield Skip(f"{where}.{source}[{j}]", f"field 'result': expected a list, got {type(ann['result']).__name__}")
        for k, r in enumerate(_list(ann.get("result"))):
            at = f"{where}.{source}[{j}].result[{k}]"
            if not isinstance(r, dict) or not isinstance(r.get("value"), dict):
                yield Skip(at, "expected a result object with a 'value'")
                continue
            value, kind, name = r["value"], r.get("type"), r.get("from_name")
            if kind == "labels":
                labels = value.get("labels") or []
                if not labels or not isinstance(labels, list):
                    yield Skip(at, "field 'value.labels': missing, empty or not a list")
                    continue
                try:
                    start, end, shown = _codepoints(text, conv, value)
                except ValueError as exc:
                    yield Skip(at, str(exc))
                    continue
                if shown is not None and shown.endswith("(UTF-16 units)"):
                    utf16.append(f"{start}-{end}")
                for label in labels:
                    span = SpanIn(at, start, end, str(label), value.get("text"), shown=shown)
                    regions.setdefault(str(r.get("id", f"#{k}")), span)
                    rec.spans.append(span)
            elif "start" in value and name and str(name).startswith(CLAIM_PREFIX):
                per_region.append((str(r.get("id")), r))
            elif name == CREDIBILITY and kind == "choices":
                rec.credibility = rec.credibility or {"where": at, "indicators": [], "note": None}
                choice = (_list(value.get("choices")) or [None])[0]
                rec.credibility["score"] = int(choice) if str(choice).isdigit() and len(str(choice)) < 4 else choice
            elif name == INDICATORS and kind == "choices":
                rec.credibility = rec.credibility or {"where": at, "indicators": [], "note": None, "score": None}
                rec.credibility["indicators"] = list(_list(value.get("choices")))
            elif name == CRED_NOTE and kind == "textarea":
                rec.credibility = rec.credibility or {"where": at, "indicators": [], "note": None, "score": None}
                rec.credibility["note"] = "\n".join(map(str, _list(value.get("text")))) or None
            else:
                yield Skip(at, f"result {name!r} of type {kind!r} is not something tahqiq imports")
        for rid, r in per_region:
            span = regions.get(rid)
            if span is None or span.label != CLAIM:
                yield Skip(f"{where}.{source}[{j}]", f"{r['from_name']}: no CLAIM region with id {rid!r}")
                continue
            values = _list(r["value"].get("choices")) or _list(r["value"].get("text"))
            span.attributes[str(r["from_name"])[len(CLAIM_PREFIX):]] = "\n".join(map(str, values)) or None
    if utf16:
        yield Notice(where, f"{len(utf16)} span(s) read as UTF-16 code units (JavaScript string positions, as "
                            "Label Studio before 1.4 and earlier tahqiq exports wrote them): their value.text matches "
                            "the text there and not at the code point offsets; imported at code points "
                            + ", ".join(utf16[:5]) + (" ..." if len(utf16) > 5 else ""))
    yield rec


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _codepoints(text: str, conv: Utf16, value: dict[str, Any]) -> tuple[int, int, str | None]:
    """(start, end, how to show the file's offsets in a message or None) in code points. Label Studio has
    counted code points since 1.4; UTF-16 code units are taken only where `value.text` equals the text at
    the UTF-16 reading and not at the code point one."""
    start, end = value.get("start"), value.get("end")
    if not (is_offset(start) and is_offset(end)):
        raise ValueError(f"fields 'value.start'/'value.end': expected integers, got {start!r}, {end!r}")
    said = value.get("text")
    if not conv.differs or not isinstance(said, str) or text[start:end] == said:
        return start, end, None
    try:
        s, e = conv.to_codepoint(start), conv.to_codepoint(end)
    except ValueError:
        s = e = None
    if s is not None and text[s:e] == said:
        return s, e, f"{start}-{end} (UTF-16 units)"
    return start, end, f"{start}-{end} (code points; read as UTF-16 units it does not match either)"


def write_config(ctx: Context) -> None:
    """After the tasks: the labelling config matching them beside -o FILE (config_path), or, when the tasks
    went to a stream, a note that it was not written."""
    xml = config(ctx.schema)  # direction per task and paragraph: see TEXT_STYLE
    if ctx.path is None:
        ctx.notes.append("Label Studio labelling config not written (output is stdout); use -o FILE to get "
                         "FILE.label_config.xml beside the tasks")
        return
    write_atomic_text(config_path(ctx.path), lambda handle: handle.write(xml), PARTIAL)
    ctx.written.append(config_path(ctx.path))


FORMAT = Format("label-studio", write, CODEPOINT,
                help="Label Studio tasks; config written beside -o FILE as FILE.label_config.xml",
                read=parse, sniff=is_task, import_help="Label Studio JSON", element="task",
                after=write_config, noun="task",
                epilog="with -o FILE the labelling config goes to FILE.label_config.xml (each paragraph shown in "
                       "the direction of its first strong letter; a note names articles the workspace's rule "
                       "reads otherwise); on stdout it is not written.")
