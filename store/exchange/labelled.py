"""Import pre-annotated files for one annotator, in the formats of store.exchange.formats that have a reader
(our json/jsonl, Label Studio JSON, spaCy/Prodigy JSONL, doccano JSONL): the format is found from the content
(each format's `sniff`), its `read` turns the records into RecordIn, missing articles are added, every span
is checked against the text and bad ones are reported with file:line (or file:task[i]) and skipped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from store.annotation.record import STATES, Kind
from store.corpus.article import Article, content_id
from store.corpus.importer import SUPPORTED, Skip, _from_record, jsonl_records
from store.db.storage import loads
from store.errors import ValidationError
from store.exchange.format import PARTIAL, Format
from store.exchange.formats import import_help, importable
from store.exchange.incoming import CLAIM, RecordIn, is_offset, text_of
from store.exchange.offsets import UNITS, Notice
from store.workspace import Workspace

LABELLED_SUFFIXES = (".json", ".jsonl", ".ndjson")
"""Suffixes always read for labels. A file with any other suffix, or none, is read for them too when it
starts with `[` or `{` (an export written to `-o out.doccano` imports back), except the article importer's
pages and tables and the temp file of a write in progress (NOT_LABELLED)."""
NOT_LABELLED = (".txt", ".csv", PARTIAL, ".tmp")
_LABEL_KEYS = ("entities", "claims", "label", "labels", "spans", "annotations", "predictions")
_SNIFF_LINES = 20


@dataclass
class LabelReport:
    """What a labelled import did: the format found, articles added, spans added or already there, skips."""

    path: str
    format: str | None = None
    articles_added: list[str] = field(default_factory=list)
    spans_added: int = 0
    spans_present: int = 0
    credibility_set: int = 0
    skipped: list[Skip] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    """What the user should know though nothing was skipped (e.g. offsets read as UTF-16 code units)."""

    def summary(self) -> str:
        return (f"{self.path}: {self.format or 'unknown format'}: {len(self.articles_added)} articles added, "
                f"{self.spans_added} spans added, {self.spans_present} already there, "
                f"{self.credibility_set} credibility scores, skipped {len(self.skipped)}")


def _kind_of_record(record: Any) -> str | None:
    """The name (formats.importable) of the first format whose `sniff` takes this record, else None."""
    return next((kind for kind, f in importable().items() if f.sniff is not None and f.sniff(record)), None)


def _textless(record: Any) -> bool:
    """A JSON object without a text to label: it does not tell a file's format (every format but Label
    Studio's, told by `data`, needs `text` to be recognised)."""
    return isinstance(record, dict) and not (isinstance(record.get("text"), str) and record["text"].strip())


def detect(path: str | Path) -> str | None:
    """The labelled format of a file from its content (a name of formats.importable: tahqiq, label-studio,
    spacy, doccano), else None. The first record that has a text (or is a Label Studio task) tells; records
    without one are passed over."""
    for _, record in _first_records(Path(path)):
        kind = _kind_of_record(record)
        if kind is not None or not _textless(record):
            return kind
    return None


def _first_records(path: Path) -> list[tuple[str, Any]]:
    """(where, record) for the first records of a JSON document or JSONL file, as `read` names them: what
    tells its format. [] for a file that cannot hold labels (NOT_LABELLED, not [ or { first)."""
    suffix = path.suffix.lower()
    if suffix in NOT_LABELLED or not path.is_file():
        return []
    try:
        with path.open("rb") as handle:
            head = handle.read(4096).lstrip(b"\xef\xbb\xbf").lstrip()[:1]
    except OSError:
        return []
    if head == b"[" or (head == b"{" and suffix == ".json"):
        # A JSON document: an array of Label Studio tasks or of our records, or one task.
        try:
            data = loads(path.read_bytes().decode("utf-8-sig"))
        except (ValueError, OSError):  # (JSONDecodeError, UnicodeDecodeError and nesting too deep are ValueErrors)
            return []
        data = [data] if isinstance(data, dict) else data
        return [(f"{path}:[{i}]", r) for i, r in enumerate(data[:_SNIFF_LINES])] if isinstance(data, list) else []
    if head != b"{" and suffix not in LABELLED_SUFFIXES:
        return []
    return [item for item in islice(jsonl_records(path), _SNIFF_LINES) if not isinstance(item, Skip)]


def labels_without_text(path: Path) -> Skip | None:
    """The article importer's error for the first record, when the records that tell a file's format are all
    labelled records without a text (nothing to tell the format by, nor to put the labels on)."""
    records = _first_records(path)
    if records and all(_textless(r) for _, r in records) and any(k in r for _, r in records for k in _LABEL_KEYS):
        return text_of(records[0][1], records[0][0])
    return None


def looks_labelled(path: str | Path) -> bool:
    """True when `tahqiq import` should hand this file to `import_labelled` rather than the article importer:
    a labelled file whatever its suffix (but NOT_LABELLED), any .json file (the article importer takes no
    .json; a broken one is reported here), and a file the article importer does not take whose records are
    labels without a text (reported here)."""
    p = Path(path)
    return p.is_file() and (p.suffix.lower() == ".json" or detect(p) is not None
                            or (p.suffix.lower() not in SUPPORTED and labels_without_text(p) is not None))


def read(path: Path, kind: str | None, offset_unit: str | None = None) -> Iterator[RecordIn | Skip | Notice]:
    """RecordIn for each article of a labelled file, Skip for what cannot be read, Notice for what the user
    should know: each record of the JSON document or JSONL file as the reader of format `kind` (a name of
    formats.importable) reads it. `offset_unit` is for records that do not state theirs (doccano's; default:
    the format's own unit)."""
    spec: Format | None = importable().get(kind) if kind is not None else None
    unknown = Skip(str(path), f"not a labelled file tahqiq knows ({import_help()})")
    raw = path.read_bytes()
    if raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"[" or path.suffix.lower() == ".json":
        try:
            data = loads(raw.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            yield Skip(str(path), f"not valid UTF-8 (byte {exc.start})")
            return
        except json.JSONDecodeError as exc:
            yield Skip(f"{path}:{exc.lineno}", f"not JSON ({exc.msg} at column {exc.colno})")
            return
        except ValueError as exc:  # nested thousands deep (storage.loads), a number of thousands of digits
            yield Skip(str(path), f"not JSON ({exc})")
            return
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list) or spec is None:
            yield unknown
            return
        for i, record in enumerate(data):
            yield from spec.read(f"{path}:{spec.element}[{i}]", record, offset_unit)
        return
    if spec is None:
        yield unknown
        return
    for item in jsonl_records(path):
        if isinstance(item, Skip):
            yield item
        else:
            yield from spec.read(*item, offset_unit)


def import_labelled(workspace: Workspace, path: str | Path, annotator: str,
                    offset_unit: str | None = None) -> LabelReport:
    """Import one labelled file for `annotator`; never raises for bad content (it is in the report).
    `offset_unit`: the unit of records that do not state theirs (doccano's; default: UTF-16 code units)."""
    if offset_unit not in (None, *UNITS):
        raise ValueError(f"offset_unit must be one of {', '.join(UNITS)}, not {offset_unit!r}")
    path = Path(path)
    report = LabelReport(str(path), detect(path))
    notes = workspace.annotations(annotator)  # checks the name before anything is written
    textless = labels_without_text(path) if report.format is None else None
    if textless is not None:
        report.skipped.append(textless)
        return report
    if report.format is None and path.suffix.lower() == ".json" and path.is_file():
        report.skipped += [s for s in read(path, None) if isinstance(s, Skip)][:1]
        return report
    if report.format is None:
        report.skipped.append(Skip(str(path), f"not a labelled file tahqiq knows ({import_help()})"))
        return report
    records: list[RecordIn] = []
    for item in read(path, report.format, offset_unit):
        if isinstance(item, Skip):
            report.skipped.append(item)
        elif isinstance(item, Notice):
            report.notices.append(item)
        else:
            records.append(item)

    corpus = {a.id: a for a in workspace.articles()}
    by_body = {a.body: a.id for a in corpus.values()}
    new: dict[str, Article] = {}
    placed: list[tuple[RecordIn, Article]] = []
    for rec in records:
        ident = rec.article_id or by_body.get(rec.text) or content_id(rec.text)
        article = corpus.get(ident) or new.get(ident)
        if article is None:
            made = _from_record({**rec.fields, "id": ident, "text": rec.text}, rec.where, str(path))
            if isinstance(made, Skip):
                report.skipped.append(made)
                continue
            article = new[ident] = made
        elif article.body != rec.text:
            report.skipped.append(Skip(rec.where, f"article {ident!r} is already in the workspace with a "
                                                  "different text; its labels were not imported"))
            continue
        placed.append((rec, article))
    workspace.add_articles(list(new.values()))
    report.articles_added = list(new)

    existing: set[tuple[Any, ...]] = {(r["article_id"], r["kind"], r["start"], r["end"], r["label"])
                                      for r in notes.all()}
    for rec, article in placed:
        _spans(notes, rec, article, existing, report)
        if rec.credibility is not None:
            c = rec.credibility
            try:
                notes.set_credibility(article.id, c.get("score"), note=c.get("note"),
                                      indicators=list(c.get("indicators") or ()))
                report.credibility_set += 1
            except ValidationError as exc:
                report.skipped.append(Skip(c.get("where", rec.where), str(exc)))
        if rec.state == "done" and rec.state in STATES:
            notes.set_state(article.id, rec.state)
    return report


def _spans(notes: Any, rec: RecordIn, article: Article, existing: set, report: LabelReport) -> None:
    body = article.body
    for span in rec.spans:
        s, e = span.start, span.end
        if not (is_offset(s) and is_offset(e)):
            report.skipped.append(Skip(span.where, f"offsets must be integers, got start={s!r} end={e!r}"))
            continue
        shown = span.shown or f"{s}-{e}"
        if not 0 <= s < e <= len(body):
            report.skipped.append(Skip(span.where, f"span {shown} does not fit the text "
                                                   f"({len(body)} characters)"))
            continue
        if span.text is not None and span.text != body[s:e]:
            report.skipped.append(Skip(span.where, f"span {shown}: text {span.text!r} does not match the "
                                                   f"article text there ({body[s:e]!r})"))
            continue
        kind = Kind.CLAIM if span.label == CLAIM else Kind.ENTITY
        key = (article.id, kind, s, e, span.label)
        if key in existing:
            report.spans_present += 1
            continue
        try:
            if kind == Kind.CLAIM:
                notes.add_claim(article.id, s, e, **{k: v for k, v in span.attributes.items() if v is not None})
            else:
                notes.add_entity(article.id, s, e, span.label)
        except (ValidationError, TypeError) as exc:
            report.skipped.append(Skip(span.where, str(exc)))
            continue
        existing.add(key)
        report.spans_added += 1
