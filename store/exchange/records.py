"""Which (article, annotator) pairs an export covers (the --articles filter), and our own record for each.

One record per article and annotator: the same shape feeds every format, so they all agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from store.annotation.record import STATES, Kind, sort_key, state_of
from store.corpus.article import Article
from store.errors import StoreError
from store.exchange.offsets import CODEPOINT, direction
from store.text.direction import DEFAULT_PARAGRAPH_DIRECTION
from store.workspace import Workspace

FORMAT_TAG = "tahqiq/1"
FILTER_HELP = ("comma-separated article ids, @FILE (ids one per line), state=done|in-progress|not-started, "
               "source=NAME, date=YYYY[-MM[-DD]], date>=YYYY-MM-DD, date<=YYYY-MM-DD")
_CLAUSE = re.compile(r"^(?P<key>[a-z]+)\s*(?P<op>>=|<=|=)\s*(?P<value>.*)$")
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ud800-\udfff]")


def json_safe(text: str) -> str:
    """Encoded JSON with DEL, C1 controls, bidi controls and U+2028/U+2029 written as \\uXXXX escapes (JSON
    encoders escape only C0): exported JSON on a terminal cannot drive or reorder it, and parses to the
    same values (outside strings JSON is ASCII, so every such character is inside a string)."""
    if _JSON_UNSAFE.search(text) is None:
        return text
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def json_safe_encoder(encode: Any) -> Any:
    """`encode` (object -> JSON text), with its output passed through `json_safe`."""
    return lambda value: json_safe(encode(value))


@dataclass
class Item:
    """One article as one annotator annotated it (annotations in text order, credibility first)."""

    article: Article
    annotator: str
    state: str
    annotations: list[dict[str, Any]]
    paragraph_direction: str = DEFAULT_PARAGRAPH_DIRECTION
    """The workspace's direction rule (labels.toml `paragraph_direction`; see store.text.direction)."""

    @cached_property
    def direction(self) -> str:
        """"rtl" or "ltr" under the rule (asked by the record and by the export's summary: scanned once)."""
        return direction(self.article.body, self.paragraph_direction)

    @property
    def spans(self) -> list[dict[str, Any]]:
        return [a for a in self.annotations if a["kind"] != Kind.CREDIBILITY]

    @property
    def entities(self) -> list[dict[str, Any]]:
        return [a for a in self.annotations if a["kind"] == Kind.ENTITY]

    @property
    def credibility(self) -> dict[str, Any] | None:
        return next((a for a in self.annotations if a["kind"] == Kind.CREDIBILITY), None)


@dataclass
class Filter:
    """A parsed --articles value: ids are or-ed together, the other clauses and-ed."""

    ids: list[str] = field(default_factory=list)
    states: set[str] | None = None
    source: str | None = None
    date_prefix: str | None = None
    date_min: str | None = None
    date_max: str | None = None

    def keeps_article(self, a: Article) -> bool:
        date = a.date or ""
        return ((self.source is None or (a.source or "").casefold() == self.source)
                and (self.date_prefix is None or date.startswith(self.date_prefix))
                and (self.date_min is None or (bool(date) and date >= self.date_min))
                and (self.date_max is None or (bool(date) and date <= self.date_max)))

    def keeps_state(self, state: str) -> bool:
        if self.states is not None:
            return state in self.states
        # Untouched articles are left out unless asked for by id or by state=not-started.
        return state != "not started" or bool(self.ids)


def _state(value: str) -> str:
    state = value.strip().replace("-", " ").replace("_", " ").lower()
    if state not in STATES:
        raise StoreError(f"--articles: state={value!r} is not one of done, in-progress, not-started")
    return state


def parse_filter(text: str | None) -> Filter:
    """Parse --articles (see FILTER_HELP); a bad clause is a StoreError naming it."""
    f = Filter()
    for clause in (c.strip() for c in (text or "").split(",")):
        if not clause:
            continue
        if clause.startswith("@"):
            try:
                lines = Path(clause[1:]).read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise StoreError(f"--articles: {clause[1:]}: {exc.strerror}") from exc
            f.ids += [x.strip() for x in lines if x.strip() and not x.startswith("#")]
            continue
        m = _CLAUSE.match(clause)
        if m is None:
            f.ids.append(clause)
            continue
        key, op, value = m["key"], m["op"], m["value"].strip()
        if key == "state" and op == "=":
            f.states = {_state(v) for v in value.split("|")}
        elif key == "source" and op == "=":
            f.source = value.casefold()
        elif key == "date" and re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
            if op == "=":
                f.date_prefix = value
            elif op == ">=":
                f.date_min = value
            else:
                f.date_max = value
        else:
            raise StoreError(f"--articles: cannot use {clause!r} (use {FILTER_HELP})")
    return f


def select(workspace: Workspace, annotators: Iterable[str] | None = None,
           articles: str | Filter | None = None) -> list[tuple[Article, str, str, list[dict[str, Any]]]]:
    """The (article, annotator, state, annotations) an export covers, in corpus order then annotator order."""
    f = articles if isinstance(articles, Filter) else parse_filter(articles)
    known = workspace.annotators()
    names = list(dict.fromkeys(annotators)) if annotators else known
    missing = [n for n in names if n not in known]
    if missing:
        raise StoreError(f"--annotator: no annotations by {', '.join(map(repr, missing))} "
                         f"(annotators: {', '.join(known) or 'none yet'})")
    corpus = workspace.articles()
    if f.ids:
        by_id = {a.id: a for a in corpus}
        unknown = [i for i in f.ids if i not in by_id]
        if unknown:
            raise StoreError(f"--articles: no article with id {unknown[0]!r}")
        corpus = [by_id[i] for i in dict.fromkeys(f.ids)]
    corpus = [a for a in corpus if f.keeps_article(a)]
    per_annotator = []
    for name in names:
        notes = workspace.annotations(name, check=False)
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in notes.records():
            grouped.setdefault(row["article_id"], []).append(row)
        per_annotator.append((name, grouped, notes.states()))
    out = []
    for article in corpus:
        for name, grouped, recorded in per_annotator:
            state = state_of(recorded.get(article.id), article.id in grouped)
            if f.keeps_state(state):
                rows = sorted(grouped.get(article.id, ()), key=sort_key)
                out.append((article, name, state, rows))
    return out


def items(selection: Iterable[tuple[Article, str, str, list[dict[str, Any]]]],
          paragraph_direction: str = DEFAULT_PARAGRAPH_DIRECTION) -> Iterable[Item]:
    for article, name, state, rows in selection:
        yield Item(article, name, state, rows, paragraph_direction)


def _times(rows: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    if not rows:
        return None, None
    return min(r["created"] for r in rows), max(r["updated"] for r in rows)


def to_record(item: Item) -> dict[str, Any]:
    """Our own record (documented by tahqiq.schema.json): article, annotator, state, spans, credibility."""
    a = item.article
    entities, claims = [], []
    credibility = None
    for r in item.annotations:
        if r["kind"] == Kind.ENTITY:
            entities.append({"id": r["id"], "start": r["start"], "end": r["end"], "text": r["text"],
                             "label": r["label"], "created": r["created"], "updated": r["updated"]})
        elif r["kind"] == Kind.CLAIM:
            claims.append({"id": r["id"], "start": r["start"], "end": r["end"], "text": r["text"],
                           "attributes": r["attributes"], "created": r["created"], "updated": r["updated"]})
        else:
            att = r["attributes"]
            credibility = {"score": att["score"], "indicators": att.get("indicators", []),
                           "note": att.get("note"), "created": r["created"], "updated": r["updated"]}
    created, updated = _times(item.annotations)
    return {
        "format": FORMAT_TAG, "offset_unit": CODEPOINT, "direction": item.direction,
        "paragraph_direction": item.paragraph_direction,
        "id": a.id, "title": a.title, "title_derived": a.title_derived, "source": a.source, "date": a.date,
        "byline": a.byline, "url": a.url, "text": a.body,
        "annotator": item.annotator, "state": item.state, "created": created, "updated": updated,
        "credibility": credibility, "entities": entities, "claims": claims,
    }


@dataclass
class Context:
    """What a writer may need beside the records: the schema, the output path, and notes for the user."""

    workspace: Any
    path: Path | None = None
    notes: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    directions: dict[str, int] = field(default_factory=dict)

    @property
    def schema(self) -> Any:
        """The label schema, read only by the formats that need it (reading it checks every annotation)."""
        return self.workspace.schema

    @cached_property
    def paragraph_direction(self) -> str:
        """The workspace's paragraph direction rule, stated in every export beside each direction."""
        return getattr(self.schema, "paragraph_direction", DEFAULT_PARAGRAPH_DIRECTION)

    def saw(self, item: Item) -> str:
        d = item.direction
        self.directions[d] = self.directions.get(d, 0) + 1
        return d
