"""The --articles filter, the Item every format writes (one article as one annotator annotated it), and our
own record for each (store.exchange.stream makes the Items).

One record per article and annotator: the same shape feeds every format, so they all agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import Any

from store.annotation.record import STATES, Kind
from store.corpus.article import Article
from store.errors import StoreError
from store.exchange.offsets import CODEPOINT, direction
from store.text.direction import DEFAULT_PARAGRAPH_DIRECTION

FORMAT_TAG = "tahqiq/1"
FILTER_HELP = ("comma-separated article ids, @FILE (ids one per line), state=done|in-progress|not-started, "
               "source=NAME, date=YYYY[-MM[-DD]], date>=YYYY-MM-DD, date<=YYYY-MM-DD")
_CLAUSE = re.compile(r"^(?P<key>[a-z]+)\s*(?P<op>>=|<=|=)\s*(?P<value>.*)$")
JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ud800-\udfff]")
"""The characters `json_safe` escapes."""


def json_safe(text: str) -> str:
    """Encoded JSON with DEL, C1 controls, bidi controls and U+2028/U+2029 written as \\uXXXX escapes (JSON
    encoders escape only C0): exported JSON on a terminal cannot drive or reorder it, and parses to the
    same values (outside strings JSON is ASCII, so every such character is inside a string)."""
    if JSON_UNSAFE.search(text) is None:
        return text
    return JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


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
    prepared: Any = None
    """What the format's `prepare` made of the rows as the annotator was read (then `annotations` is empty)."""

    @cached_property
    def direction(self) -> str:
        """"rtl" or "ltr" under the rule (asked by the record and by the export's summary: scanned once; an
        export sets it once per article)."""
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

    @property
    def by_article(self) -> bool:
        """Whether it keeps some articles and not others by their fields (`keeps_article`)."""
        return any(v is not None for v in (self.source, self.date_prefix, self.date_min, self.date_max))

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


def _times(rows: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    if not rows:
        return None, None
    return min(map(_CREATED, rows)), max(map(_UPDATED, rows))


_CREATED, _UPDATED = itemgetter("created"), itemgetter("updated")
_ENTITY, _CLAIM = Kind.ENTITY.value, Kind.CLAIM.value  # (plain text: a member equals its value, and is slower to get)


def to_record(item: Item) -> dict[str, Any]:
    """Our own record (documented by tahqiq.schema.json): article, annotator, state, spans, credibility."""
    return {**article_part(item), **annotator_part(item.annotator, item.state, item.annotations)}


def article_part(item: Item) -> dict[str, Any]:
    """The fields of our record that every annotator of the article shares (its first twelve, in order)."""
    a = item.article
    return {
        "format": FORMAT_TAG, "offset_unit": CODEPOINT, "direction": item.direction,
        "paragraph_direction": item.paragraph_direction,
        "id": a.id, "title": a.title, "title_derived": a.title_derived, "source": a.source, "date": a.date,
        "byline": a.byline, "url": a.url, "text": a.body,
    }


def annotator_part(annotator: str, state: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The rest of our record: one annotator's work on the article (`rows` in text order)."""
    entities, claims = [], []
    credibility = None
    for r in rows:
        kind = r["kind"]
        if kind == _ENTITY:
            entities.append({"id": r["id"], "start": r["start"], "end": r["end"], "text": r["text"],
                             "label": r["label"], "created": r["created"], "updated": r["updated"]})
        elif kind == _CLAIM:
            claims.append({"id": r["id"], "start": r["start"], "end": r["end"], "text": r["text"],
                           "attributes": r["attributes"], "created": r["created"], "updated": r["updated"]})
        else:
            att = r["attributes"]
            credibility = {"score": att["score"], "indicators": att.get("indicators", []),
                           "note": att.get("note"), "created": r["created"], "updated": r["updated"]}
    created, updated = _times(rows)
    return {"annotator": annotator, "state": state, "created": created, "updated": updated,
            "credibility": credibility, "entities": entities, "claims": claims}


@dataclass
class Context:
    """What a writer may need beside the records: the schema, the output path, and notes for the user."""

    workspace: Any
    path: Path | None = None
    notes: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    directions: dict[str, int] = field(default_factory=dict)
    binary: Any = None
    """The binary file under the writer's text stream when that stream writes UTF-8 as given, with no newline
    translation (an export to a file): a writer may write encoded bytes there once it has flushed the text stream."""

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
