"""Label Studio interchange judged by Label Studio's own code: its SDK's converter (label_studio_sdk.converter,
the code behind Label Studio's CONLL2003 and JSON_MIN exports) reads our tasks and labelling config, and
gets every span of an article full of emoji right; a file written the way Label Studio writes it (code
points, value.text, from_name/to_name, ids, annotations[].result[]) imports back exactly, with and without
value.text; a file from Label Studio before 1.4 (UTF-16 offsets) is read right only where value.text proves
it, with a notice. Needs the `interop` extra (pip install -e '.[test,interop]'): no skip."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from interop_article import ARTICLE_ID, CLAIM, LTR_ID, LTR_TEXT, TEXT, add

from store import Workspace
from store.exchange import export, import_labelled

if TYPE_CHECKING:
    from label_studio_sdk.converter import Converter


@pytest.fixture
def exported(workspace: Workspace, tmp_path: Path) -> tuple[Path, list[tuple[int, int, str]]]:
    spans = add(workspace, tmp_path)
    export(workspace, "label-studio", path=tmp_path / "tasks.json", annotators=["alice"],
           articles=f"{ARTICLE_ID},{LTR_ID}")
    return tmp_path / "tasks.json", spans


def converter(tasks: Path) -> Converter:
    """Label Studio's converter for our tasks file; its SDK is imported here, by the tests that use it, not
    when the module is collected (~0.4 s, in every xdist worker)."""
    from label_studio_sdk.converter import Converter

    return Converter(config=str(tasks.with_name("tasks.label_config.xml")), project_dir=None)


def conll_entities(path: Path, texts: list[str]) -> list[set[tuple[int, int, str]]]:
    """(start, end, label) per document of the converter's CONLL2003 output, each token found in order in
    the document's text (so offsets are code points of our text, whatever the converter counted)."""
    docs = path.read_text("utf-8").split("\n\n")
    docs = [d for d in (d.removeprefix("-DOCSTART- -X- O\n").strip("\n") for d in docs) if d]
    assert len(docs) == len(texts)
    out = []
    for doc, text in zip(docs, texts, strict=True):
        at, found, current = 0, set(), None
        for line in doc.split("\n"):
            token, _, _, tag = line.rsplit(" ", 3)
            start = text.index(token, at)
            at = start + len(token)
            if tag.startswith("B-") or (tag.startswith("I-") and current is None):
                if current:
                    found.add(tuple(current))
                current = [start, at, tag[2:]]
            elif tag.startswith("I-"):
                current[1] = at
            else:
                if current:
                    found.add(tuple(current))
                current = None
        if current:
            found.add(tuple(current))
        out.append(found)
    return out


def test_the_sdk_converts_our_export_to_conll_with_every_entity_in_place(exported, tmp_path: Path) -> None:
    tasks, spans = exported
    converter(tasks).convert(str(tasks), str(tmp_path / "conll"), "CONLL2003", is_dir=False)
    texts = [t["data"]["text"] for t in json.loads(tasks.read_text("utf-8"))]
    assert texts == [TEXT, LTR_TEXT]
    got = conll_entities(tmp_path / "conll" / "result.conll", texts)
    assert got[0] == set(spans)
    start = LTR_TEXT.index("Raja")
    assert got[1] == {(start, start + 4, "ORG")}


def test_the_sdk_json_min_slices_every_region_right(workspace: Workspace, tmp_path: Path) -> None:
    spans = add(workspace, tmp_path, claim=True)
    tasks = tmp_path / "tasks.json"
    export(workspace, "label-studio", path=tasks, annotators=["alice"], articles=ARTICLE_ID)
    converter(tasks).convert(str(tasks), str(tmp_path / "min"), "JSON_MIN", is_dir=False)
    [record] = json.loads((tmp_path / "min" / "result.json").read_text("utf-8"))
    regions = record["label"]
    for r in regions:
        assert record["text"][r["start"]:r["end"]] == r["text"]
    start = TEXT.index(CLAIM)
    assert {(r["start"], r["end"], r["labels"][0]) for r in regions} == {*spans, (start, start + len(CLAIM), "CLAIM")}
    assert record["claim_verdict"] == "true"


def test_the_config_parses_in_the_sdk_and_shows_each_task_in_its_direction(exported) -> None:
    tasks, _ = exported
    schema = converter(tasks)._schema  # noqa: SLF001 - the SDK's own parse of our config
    assert schema["label"]["type"] == "Labels" and schema["label"]["to_name"] == ["text"]
    assert {"claim_verdict", "credibility", "indicators", "credibility_note"} <= set(schema)
    root = ET.fromstring(tasks.with_name("tasks.label_config.xml").read_text("utf-8"))
    style = next(root.iter("Style")).text
    assert "unicode-bidi: plaintext" in style and "text-align: start" in style
    view = next(v for v in root.iter("View") if v.find("Text") is not None)
    assert view.get("className") in style and view.get("style") is None  # no project-wide direction
    data = {t["data"]["article_id"]: t["data"] for t in json.loads(tasks.read_text("utf-8"))}
    assert (data[ARTICLE_ID]["direction"], data[LTR_ID]["direction"]) == ("rtl", "ltr")


def test_an_arabic_text_opening_with_a_latin_word_is_named(workspace: Workspace, tmp_path: Path) -> None:
    src = tmp_path / "apple.jsonl"
    src.write_text(json.dumps({"id": "apple", "text": "Apple تعلن عن هاتف جديد"}, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    workspace.import_paths([src])
    workspace.annotations("alice").add_entity("apple", 0, 5, "ORG")
    ctx = export(workspace, "label-studio", path=tmp_path / "t.json", annotators=["alice"], articles="apple")
    assert any("'apple' is rtl by the workspace's rule (arabic)" in n and "shows it ltr" in n for n in ctx.notes)


# --- files written the way Label Studio writes them -----------------------------------------------------------

def label_studio_export(text: str, regions: list[tuple[int, int, str]], with_text: bool = True,
                        unit: str = "codepoint") -> list[dict]:
    """A task as Label Studio 1.x exports it ("JSON" export): integer ids, annotations with completed_by,
    results with an id, from_name/to_name/type/origin and value.start/end (code points since 1.4)."""
    utf16 = [len(text[:i].encode("utf-16-le")) // 2 for i in range(len(text) + 1)]
    result = []
    for n, (start, end, label) in enumerate(regions):
        s, e = (utf16[start], utf16[end]) if unit == "utf-16" else (start, end)
        value = {"start": s, "end": e, "labels": [label]}
        if with_text:
            value["text"] = text[start:end]
        result.append({"value": value, "id": f"ab{n}Cd-{n}", "from_name": "label", "to_name": "text",
                       "type": "labels", "origin": "manual"})
    return [{
        "id": 41, "annotations": [{
            "id": 17, "completed_by": 1, "result": result, "was_cancelled": False, "ground_truth": False,
            "created_at": "2024-06-03T10:00:00.000000Z", "updated_at": "2024-06-03T10:01:00.000000Z",
            "draft_created_at": None, "lead_time": 61.5, "prediction": {}, "result_count": 0,
            "unique_id": "4b1e0c1e-0000-4000-8000-000000000000", "import_id": None, "last_action": None,
            "task": 41, "project": 3, "updated_by": 1, "parent_prediction": None, "parent_annotation": None,
            "last_created_by": None}],
        "file_upload": "c0ffee-articles.json", "drafts": [], "predictions": [], "data": {"text": text},
        "meta": {}, "created_at": "2024-06-03T09:00:00.000000Z", "updated_at": "2024-06-03T10:01:00.000000Z",
        "inner_id": 1, "total_annotations": 1, "cancelled_annotations": 0, "total_predictions": 0,
        "comment_count": 0, "unresolved_comment_count": 0, "last_comment_updated_at": None, "project": 3,
        "updated_by": 1, "comment_authors": []}]


@pytest.mark.parametrize("with_text", [True, False], ids=["value.text", "no value.text"])
def test_a_label_studio_export_imports_back_exactly(workspace: Workspace, tmp_path: Path, with_text: bool) -> None:
    spans = add(workspace, tmp_path, annotator="alice")
    path = tmp_path / "project-3-at-2024-06-03.json"
    path.write_text(json.dumps(label_studio_export(TEXT, spans, with_text), ensure_ascii=False), encoding="utf-8")
    report = import_labelled(workspace, path, "ls")
    assert (report.format, report.skipped, report.notices, report.articles_added) == ("label-studio", [], [], [])
    assert report.spans_added == len(spans)
    rows = workspace.annotations("ls").for_article(ARTICLE_ID)  # found by its text: the task has no article_id
    assert {(r["start"], r["end"], r["label"]) for r in rows} == set(spans)
    assert all(r["text"] == TEXT[r["start"]:r["end"]] for r in rows)


def test_a_file_from_label_studio_before_1_4_is_read_where_value_text_proves_it(workspace: Workspace,
                                                                                  tmp_path: Path) -> None:
    spans = add(workspace, tmp_path)
    path = tmp_path / "old.json"
    path.write_text(json.dumps(label_studio_export(TEXT, spans, unit="utf-16"), ensure_ascii=False), encoding="utf-8")
    report = import_labelled(workspace, path, "old")
    assert report.skipped == [] and report.spans_added == len(spans)
    [notice] = report.notices
    assert re.match(rf"{re.escape(str(path))}:task\[0\]: 4 span\(s\) read as UTF-16 code units", str(notice))
    assert {(r["start"], r["end"], r["label"]) for r in workspace.annotations("old").all()} == set(spans)
    # Without value.text nothing proves the UTF-16 reading: code points, so these land elsewhere and are
    # refused by the store (edges inside words) or mislabel; never silently read as UTF-16.
    path.write_text(json.dumps(label_studio_export(TEXT, spans, with_text=False, unit="utf-16"),
                               ensure_ascii=False), encoding="utf-8")
    report = import_labelled(workspace, path, "old2")
    assert report.notices == []
    assert not {(r["start"], r["end"], r["label"]) for r in workspace.annotations("old2").all()} & set(spans)


def test_round_trip_restores_states_and_spans(workspace: Workspace, tmp_path: Path) -> None:
    spans = add(workspace, tmp_path, claim=True)
    tasks = tmp_path / "tasks.json"
    export(workspace, "label-studio", path=tasks, annotators=["alice"], articles=f"{ARTICLE_ID},{LTR_ID}")
    fresh = Workspace.open(tmp_path / "fresh")
    try:
        report = import_labelled(fresh, tasks, "alice")
        assert report.skipped == [] and report.notices == [] and sorted(report.articles_added) == sorted(
            [ARTICLE_ID, LTR_ID])
        notes = fresh.annotations("alice")
        assert notes.state(ARTICLE_ID) == "done"
        assert notes.state(LTR_ID) == "in progress"  # not done: left as the spans make it
        got = {(r["start"], r["end"], r["label"]) for r in notes.for_article(ARTICLE_ID)}
        start = TEXT.index(CLAIM)
        assert got == {*spans, (start, start + len(CLAIM), "CLAIM")}
    finally:
        fresh.close()
