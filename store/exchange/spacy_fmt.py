"""spaCy/Prodigy JSONL ({"text", "spans": [{start, end, label}], "meta"}) and, when spaCy is installed,
a .spacy DocBin whose spans are aligned to spaCy tokens; spans that do not align are reported, not lost
silently. Offsets are code points (spaCy's `char_span` counts Python characters)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from store.annotation.record import Kind
from store.corpus.importer import Skip
from store.db.atomic import write_atomic_with
from store.errors import StoreError
from store.exchange.format import PARTIAL, Format
from store.exchange.incoming import RecordIn, SpanIn, article_fields, text_of
from store.exchange.offsets import CODEPOINT
from store.exchange.records import Context, Item, json_safe_encoder

_dumps = json_safe_encoder(json.JSONEncoder(ensure_ascii=False).encode)
SPANS_KEY = "sc"
LANG = "ar"


def has_spacy() -> bool:
    try:
        import spacy  # noqa: F401
    except ImportError:
        return False
    return True


def docbin_path(path: Path) -> Path:
    return path.with_suffix(".spacy")


def _record(item: Item, d: str) -> dict[str, Any]:
    a, c = item.article, item.credibility
    return {
        "text": a.body,
        "spans": [{"start": r["start"], "end": r["end"], "label": r["label"], "text": r["text"]}
                  for r in item.spans],
        "meta": {"article_id": a.id, "title": a.title, "source": a.source, "date": a.date,
                 "annotator": item.annotator, "state": item.state, "direction": d,
                 "paragraph_direction": item.paragraph_direction, "offset_unit": CODEPOINT,
                 "credibility": None if c is None else {k: c["attributes"].get(k)
                                                        for k in ("score", "indicators", "note")}},
    }


def write(items: Iterable[Item], out: TextIO, ctx: Context) -> None:
    bin_ = _DocBinWriter(ctx) if ctx.path is not None and has_spacy() else None
    if ctx.path is not None and bin_ is None:
        ctx.notes.append("spaCy is not installed: wrote the JSONL only (pip install spacy for a .spacy DocBin)")
    write_ = out.write
    for item in items:
        write_(_dumps(_record(item, ctx.saw(item))))
        write_("\n")
        if bin_ is not None:
            bin_.add(item)
    if bin_ is not None:
        bin_.save(docbin_path(ctx.path))


class _DocBinWriter:
    """Builds Docs with a blank Arabic tokenizer: entities in doc.ents (when they do not overlap) and
    every span, claims included, in doc.spans["sc"]."""

    def __init__(self, ctx: Context) -> None:
        import spacy  # not at the top: optional (the `interop` extra) and ~1 s to import
        from spacy.tokens import DocBin

        self.nlp = spacy.blank(LANG)
        self.bin = DocBin(store_user_data=True)
        self.ctx = ctx

    def add(self, item: Item) -> None:
        from spacy.util import filter_spans  # (spaCy is optional: see __init__)

        doc = self.nlp.make_doc(item.article.body)
        spans, ents = [], []
        for r in item.spans:
            span = doc.char_span(r["start"], r["end"], label=r["label"], alignment_mode="strict")
            if span is None:
                self.ctx.notes.append(
                    f"{item.article.id} ({item.annotator}): {r['label']} span {r['start']}-{r['end']} "
                    f"{r['text']!r} does not align to spaCy tokens; left out of the .spacy file (kept in the JSONL)")
                continue
            spans.append(span)
            if r["kind"] == Kind.ENTITY:
                ents.append(span)
        kept = filter_spans(ents)
        for dropped in (s for s in ents if s not in kept):
            self.ctx.notes.append(f"{item.article.id} ({item.annotator}): entity {dropped.start_char}-"
                                  f"{dropped.end_char} overlaps another; in doc.spans['sc'] only, not doc.ents")
        doc.ents = kept
        doc.spans[SPANS_KEY] = spans
        doc.user_data.update({"article_id": item.article.id, "annotator": item.annotator})
        self.bin.add(doc)

    def save(self, path: Path) -> None:
        """The DocBin to `path`, whole or not at all (temp file, fsync, rename; as DocBin.to_disk writes it)."""
        data = self.bin.to_bytes()
        write_atomic_with(path, lambda handle: handle.write(data), PARTIAL)
        self.ctx.written.append(path)


def is_spacy(record: Any) -> bool:
    return isinstance(record, dict) and isinstance(record.get("text"), str) and isinstance(record.get("spans"), list)


def parse(where: str, record: Any, offset_unit: str | None = None) -> Iterator[RecordIn | Skip]:
    """One line (or element of a JSON array): text, spans and `meta`. Offsets are code points (`offset_unit`
    is not asked)."""
    if not isinstance(record, dict):
        yield Skip(where, f"expected a JSON object, got {type(record).__name__}")
        return
    text = text_of(record, where)
    if isinstance(text, Skip):
        yield text
        return
    meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
    ident = meta.get("article_id") or record.get("article_id")
    rec = RecordIn(where, text, str(ident) if ident else None, article_fields(meta), state=meta.get("state"))
    spans = record.get("spans") or []  # (a line after the first that has none: its article, without spans)
    if not isinstance(spans, list):
        yield Skip(where, "field 'spans': expected a list")
        spans = []
    for k, span in enumerate(spans):
        at = f"{where}: spans[{k}]"
        if not isinstance(span, dict):
            yield Skip(at, "expected an object with start, end and label")
            continue
        rec.spans.append(SpanIn(at, span.get("start"), span.get("end"), str(span.get("label")), span.get("text")))
    cred = meta.get("credibility")
    if isinstance(cred, dict):
        rec.credibility = {"where": f"{where}: meta.credibility", **cred}
    yield rec


def check_target(path: Path) -> None:
    """-o must name the JSONL: the .spacy DocBin goes beside it (docbin_path), and would be the file itself."""
    if path.suffix == ".spacy":
        raise StoreError(f"-o {path}: give the JSONL path (e.g. {path.with_suffix('.jsonl')}); "
                         "the .spacy DocBin is written beside it")


FORMAT = Format("spacy", write, CODEPOINT,
                help="spaCy/Prodigy JSONL (+ FILE.spacy DocBin beside -o FILE when spaCy is installed)",
                read=parse, sniff=is_spacy, import_help="spaCy/Prodigy JSONL", check_target=check_target,
                epilog="with -o FILE.jsonl and spaCy installed, FILE.spacy (DocBin) is written too.")
