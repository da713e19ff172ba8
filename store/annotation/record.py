"""The annotation record: what one entity, claim or credibility is as stored (a TinyDB document), its kinds, its
text order and its check; and an article's progress states with the rule that derives one.

No `from __future__ import annotations` here: the TypedDict's NotRequired fields are read at run time (Python 3.11
does not see them in string annotations)."""

from datetime import datetime, timezone
from enum import StrEnum
from itertools import product
from operator import itemgetter
from types import NoneType, UnionType
from typing import Any, NotRequired, TypedDict, Union, get_args, get_origin, get_type_hints


class Kind(StrEnum):
    """What an annotation marks. A StrEnum: a member equals and hashes as its value, and json and orjson write
    it as its value, so records read back (plain strings) and members compare alike and stored JSON is
    unchanged."""

    ENTITY = "entity"
    CLAIM = "claim"
    CREDIBILITY = "credibility"


class Annotation(TypedDict):
    """A stored annotation. Entities and claims are spans of the article body: `start`/`end` are code point
    offsets (0 <= start <= end) and `text` is body[start:end]; a claim's label is "CLAIM" and its `attributes`
    the schema's claim attributes. Credibility (at most one per article and annotator) has no span (`start`,
    `end` and `text` null), the label "CREDIBILITY", and `attributes` {"score": 1-5 or null, "indicators":
    [...], "note": text or null}. `created` and `updated` are ISO 8601 UTC times.

    The one list of fields: `record_problem` checks every record read from the files against it (a field
    added here is checked there; one that older records lack is declared NotRequired)."""

    id: str
    article_id: str
    kind: Kind
    start: int | None
    end: int | None
    text: str | None
    label: str
    attributes: dict[str, Any]
    created: str
    updated: str
    annotator: NotRequired[str]
    """Who made it (AnnotationSet writes it on every record it adds; not required when reading)."""


STATES = ("not started", "in progress", "done")
"""An article's progress for one annotator, in order."""


def state_of(recorded: str | None, annotated: bool) -> str:
    """An annotator's progress on an article: the recorded state, else "in progress" once anything is
    annotated, else "not started"."""
    if recorded is not None:
        return recorded
    return "in progress" if annotated else "not started"


def sort_key(record: Annotation) -> tuple[int, int]:
    """Text order of records of one article: by start then end, a credibility (no span) first."""
    start = record.get("start")  # (a credibility's null span may be absent: record_problem allows it)
    return (start if start is not None else -1, record.get("end") or 0)


def _types(hint: Any) -> tuple[type, ...]:
    """The run-time types a value of a field's declared type may have as read from JSON (a Kind is read as
    text; a float may be written as a whole number)."""
    if get_origin(hint) in (Union, UnionType):
        return tuple(t for arg in get_args(hint) for t in _types(arg))
    if hint is None or hint is NoneType:
        return (NoneType,)
    if hint is Kind:
        return (str, Kind)
    if hint is float:
        return (float, int)
    return (get_origin(hint) or hint,)


_FIELDS = {name: _types(hint) for name, hint in get_type_hints(Annotation).items()}
"""Field -> the run-time types of its value, for every field of Annotation, in declaration order."""
_VALUES = itemgetter(*_FIELDS)
_TYPINGS = frozenset(product(*_FIELDS.values()))
"""Every combination of the types of the values of a record that has all the fields."""
_KIND, _START, _END, _TEXT, _ATTRIBUTES = map(list(_FIELDS).index, ("kind", "start", "end", "text", "attributes"))
_SPAN_KINDS = frozenset((Kind.ENTITY, Kind.CLAIM))
_SPAN = ("start", "end", "text")
"""Fields whose rule depends on the kind (checked, and told, per kind)."""
_WORDS = {str: "text", dict: "a table", int: "a whole number", float: "a number", bool: "true or false",
          list: "a list", NoneType: "null"}
_MISSING = object()


def record_problem(record: dict[str, Any]) -> str | None:
    """What makes a stored annotation record unusable (a field of Annotation missing or of the wrong type, a
    kind that is not a Kind, a span that is not one, a credibility's attributes), or None: checked as an
    annotation database and its journal are read, so that a record such as `{}` is a one-line error naming the
    file (or is skipped when only looking), never a KeyError later on. A field that may be null may be absent."""
    try:  # a million records are checked as a database is read: one with every field, quickly
        values = _VALUES(record)
    except KeyError:
        pass
    else:
        if tuple(map(type, values)) in _TYPINGS:
            kind, start, end = values[_KIND], values[_START], values[_END]
            if kind in _SPAN_KINDS:
                if type(start) is int and type(end) is int and 0 <= start <= end and type(values[_TEXT]) is str:
                    return None
            elif kind == Kind.CREDIBILITY and start is None and end is None and _credibility_ok(values[_ATTRIBUTES]):
                return None
    g = record.get
    for name, types in _FIELDS.items():
        if name in _SPAN:
            continue
        value = g(name, _MISSING)
        if value is _MISSING:
            if name in Annotation.__required_keys__ and NoneType not in types:
                return f"field {name!r} is missing"
            continue
        if Kind in types:
            if value not in tuple(Kind):  # (a member of Kind equals its value)
                return f"field {name!r}: {_short(value)} is not one of {', '.join(Kind)}"
        elif type(value) not in types:
            return f"field {name!r}: {_short(value)} is not " + " or ".join(_WORDS.get(t, t.__name__) for t in types)
    kind, start, end, text = g("kind"), g("start"), g("end"), g("text")
    if kind == Kind.CREDIBILITY:
        if start is not None or end is not None:
            return "fields 'start'/'end': a credibility record has none (null)"
        if type(text) not in _FIELDS["text"]:
            return f"field 'text': {_short(text)} is not text or null"
        if not _credibility_ok(record["attributes"]):
            return "field 'attributes': score (1-5 or null), indicators (a list) and note (text or null) expected"
        return None
    if not (type(start) is int and type(end) is int and 0 <= start <= end):
        return f"fields 'start'/'end': {_short(start)}, {_short(end)} are not offsets (whole numbers, start <= end)"
    if type(text) is not str:
        return f"field 'text': {_short(record.get('text', _MISSING))} is not text"
    return None


def _credibility_ok(attributes: dict[str, Any]) -> bool:
    """A credibility's attributes: score 1-5 or null, indicators a list (or absent), note text or empty."""
    score = attributes.get("score", _MISSING)
    return ((score is None or (type(score) is int and 1 <= score <= 5))
            and isinstance(attributes.get("indicators", []), list)
            and isinstance(attributes.get("note") or "", str))


def progress_problem(row: dict[str, Any]) -> str | None:
    """What makes a stored progress row ({article_id, state, updated}) unusable, or None."""
    if type(row.get("article_id")) is not str:
        return "field 'article_id': missing or not text"
    if row.get("state") not in STATES:
        return f"field 'state': {_short(row.get('state'))} is not one of {', '.join(STATES)}"
    return None


ANNOTATIONS_TABLE, PROGRESS_TABLE = "annotations", "progress"
"""The tables of an annotator's database: annotation records, and progress rows."""
GROUP_FIELD = "article_id"
"""The field both tables are read by, an article at a time (store.db.record_index)."""


def stored_problem(table: str, record: dict[str, Any]) -> str | None:
    """What makes a stored row of an annotation database unusable, or None: an annotation record as
    `record_problem` says, a progress row as `progress_problem` says (other tables are not checked). Checked
    as the database and its journal are read."""
    if table == ANNOTATIONS_TABLE:
        return record_problem(record)
    if table == PROGRESS_TABLE:
        return progress_problem(record)
    return None


def _short(value: Any) -> str:
    if value is _MISSING:
        return "missing"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def now() -> str:
    """The current UTC time, ISO 8601 to the second (a record's "created" and "updated")."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
