"""The one home of the annotation record (store.annotation.record) and of who an annotator is (store.annotators)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from store import Annotation, Workspace
from store.annotation.record import STATES, Kind, record_problem, sort_key, state_of
from store.annotators import (
    GOLD,
    HTML_PATTERN,
    NAME,
    PREDICTIONS_PREFIX,
    is_human,
    is_predictions,
    predictions,
    valid_name,
)
from store.db.storage import dumps, loads

ARTICLE = "52f015e52f40b84e"


def record(kind: str, start: int | None, end: int | None, **fields) -> dict:
    base = {"id": f"{kind}-{start}", "annotator": "alice", "article_id": ARTICLE, "kind": kind, "start": start,
            "end": end, "text": None if start is None else "x" * (end - start), "label": "PER",
            "attributes": {"score": 3, "indicators": [], "note": None} if start is None else {},
            "created": "2024-01-01T00:00:00+00:00", "updated": "2024-01-01T00:00:00+00:00"}
    return {**base, **fields}


def test_sort_key_puts_credibility_first_then_text_order() -> None:
    rows = [record("entity", 9, 12), record("claim", 0, 30), record("credibility", None, None),
            record("entity", 0, 4), record(Kind.ENTITY, 9, 10)]
    assert [(r["kind"], r["start"], r["end"]) for r in sorted(rows, key=sort_key)] == [
        ("credibility", None, None), ("entity", 0, 4), ("claim", 0, 30), ("entity", 9, 10), ("entity", 9, 12)]
    assert sort_key(record("credibility", None, None)) == (-1, 0)


def test_a_credibility_whose_null_span_is_absent_is_valid_and_sorted_first(workspace_path: Path) -> None:
    """record_problem lets a field that may be null be absent; everything that reads records must then cope
    (an export once failed with KeyError 'end' on such a record, a byte flipped in a key)."""
    record = {"id": "c", "article_id": ARTICLE, "kind": "credibility", "label": "CREDIBILITY",
              "attributes": {"score": 3, "indicators": [], "note": None}, "created": "", "updated": ""}
    assert record_problem(record) is None and sort_key(record) == (-1, 0)
    path = workspace_path / "annotations" / "alice.json"
    path.write_text(json.dumps({"annotations": {"1": record}}), encoding="utf-8")
    ws = Workspace.open(workspace_path)
    try:
        notes = ws.annotations("alice")
        assert notes.for_article(ARTICLE) == [record] and notes.mismatches(ARTICLE) == []
        import io

        from store.exchange import export
        out = io.StringIO()
        export(ws, "jsonl", out=out)
        assert json.loads(out.getvalue())["credibility"]["score"] == 3
    finally:
        ws.close()


@pytest.mark.parametrize("recorded, annotated, state", [
    (None, False, "not started"), (None, True, "in progress"),
    ("not started", True, "not started"), ("in progress", False, "in progress"),
    ("done", False, "done"), ("done", True, "done"),
])
def test_state_rule(recorded: str | None, annotated: bool, state: str) -> None:
    assert state_of(recorded, annotated) == state
    assert state in STATES


def test_kind_is_its_value_in_comparisons_hashes_and_json() -> None:
    assert [k.value for k in Kind] == ["entity", "claim", "credibility"]
    assert Kind.CLAIM == "claim" and "claim" in {Kind.CLAIM} and {"claim": 1}[Kind.CLAIM] == 1
    row = record(Kind.ENTITY, 0, 4)
    assert dumps(row) == dumps(record("entity", 0, 4)) and json.dumps(row) == json.dumps(record("entity", 0, 4))
    back = loads(dumps(row))
    assert back == row and type(back["kind"]) is str and back["kind"] == Kind.ENTITY


def test_the_record_check_follows_the_declared_fields() -> None:
    assert record_problem(record("entity", 0, 4)) is None
    assert record_problem(record("credibility", None, None)) is None
    no_annotator = record("claim", 0, 4)
    del no_annotator["annotator"]
    assert record_problem(no_annotator) is None  # older records may lack a NotRequired field
    assert record_problem(record("mention", 0, 4)) == (
        "field 'kind': 'mention' is not one of entity, claim, credibility")
    assert record_problem(record("entity", 0, 4, label=None)) == "field 'label': None is not text"
    assert record_problem(record("entity", 0, 4, annotator=5)) == "field 'annotator': 5 is not text"
    assert record_problem({}) == "field 'id' is missing"
    assert record_problem(record("entity", 4, 2)).startswith("fields 'start'/'end': 4, 2 are not offsets")
    assert record_problem(record("credibility", 0, 4)) == "fields 'start'/'end': a credibility record has none (null)"
    assert record_problem(record("credibility", None, None, attributes={"score": 9})).startswith(
        "field 'attributes': score (1-5 or null)")
    assert set(Annotation.__required_keys__) | set(Annotation.__optional_keys__) == {
        "id", "annotator", "article_id", "kind", "start", "end", "text", "label", "attributes", "created", "updated"}


def test_stored_records_read_back_with_string_kinds(workspace_path: Path) -> None:
    ws = Workspace.open(workspace_path)
    body = ws.article(ARTICLE).body
    start = body.index("بوبكر سبيك")
    notes = ws.annotations("alice")
    added = notes.add_entity(ARTICLE, start, start + len("بوبكر سبيك"), "PER")
    notes.set_credibility(ARTICLE, 4)
    assert added["kind"] is Kind.ENTITY
    ws.close()
    stored = Workspace.open(workspace_path).annotations("alice").for_article(ARTICLE)
    assert [r["kind"] for r in stored] == [Kind.CREDIBILITY, Kind.ENTITY] == ["credibility", "entity"]
    assert all(type(r["kind"]) is str for r in stored)


@pytest.mark.parametrize("name", ["alice", "a", "A.b_c-9", "9lives", "x" * 64, "predictions.crf", "gold",
                                  "", "-alice", ".hidden", "_x", "x" * 65, "../etc", "a b", "a/b", "عائشة", "a\\b",
                                  "a-", "a]", "a{1}", "alice\n"])
def test_the_html_pattern_accepts_the_same_names_as_the_rule(name: str) -> None:
    assert bool(re.fullmatch(HTML_PATTERN, name)) == valid_name(name) == bool(NAME.fullmatch(name))


def test_who_is_a_person() -> None:
    assert predictions("crf") == "predictions.crf" and predictions("crf").startswith(PREDICTIONS_PREFIX)
    assert is_predictions("predictions.crf") and not is_predictions("alice")
    assert is_human("alice") and not is_human(GOLD) and not is_human(predictions("crf"))
    assert valid_name(GOLD) and valid_name(predictions("crf"))
