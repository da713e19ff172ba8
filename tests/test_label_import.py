"""Importing pre-annotated files: export then import then export gives the same spans in every importable
format; bad records are reported with file:line (or file:task[i]) and skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_export_fixtures import EMOJI_ID, EMOJI_TEXT
from test_export_formats import spans_from

from store import StoreError, Workspace
from store.corpus.article import content_id
from store.exchange import detect, export, import_labelled, looks_labelled
from store.workspace import LABELS_CHECKED

IMPORTABLE = {"jsonl": "x.jsonl", "json": "x.json", "label-studio": "x.json", "doccano": "x.jsonl",
              "spacy": "x.jsonl"}
SEED = "52f015e52f40b84e"
ALICE_SPANS = 10  # 5 on the emoji article, 3 + 2 on two seeds (see test_export_fixtures)


def _without_annotator(spans: set[tuple]) -> set[tuple]:
    return {(a, s, e, label, text) for a, _, s, e, label, text in spans}


@pytest.mark.parametrize("fmt", list(IMPORTABLE))
def test_export_import_export_gives_the_same_spans(ws: Workspace, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / IMPORTABLE[fmt]
    export(ws, fmt, path=path, annotators=["alice"])
    assert detect(path) == ("tahqiq" if fmt in ("json", "jsonl") else fmt) and looks_labelled(path)
    report = import_labelled(ws, path, "copy")
    assert report.skipped == [] and report.articles_added == [] and report.spans_added == ALICE_SPANS, report.summary()
    again = tmp_path / ("again" + path.suffix)
    export(ws, fmt, path=again, annotators=["copy"])
    before, after = spans_from(fmt, path.read_text("utf-8")), spans_from(fmt, again.read_text("utf-8"))
    assert _without_annotator(before) == _without_annotator(after) and len(after) == ALICE_SPANS
    # Importing the same file again adds nothing.
    assert import_labelled(ws, path, "copy").spans_present == ALICE_SPANS

    alice, copy = ws.annotations("alice"), ws.annotations("copy")
    if fmt in ("jsonl", "json", "label-studio"):  # formats that carry claim attributes and credibility
        def claims_and_cred(notes):
            return sorted((r["article_id"], r["kind"], r["start"], json.dumps(r["attributes"], sort_keys=True))
                          for r in notes.all() if r["kind"] != "entity")
        assert claims_and_cred(alice) == claims_and_cred(copy)
    if fmt in ("jsonl", "json"):
        assert copy.state(EMOJI_ID) == "done"


@pytest.mark.parametrize("fmt", list(IMPORTABLE))
def test_import_into_an_empty_workspace_adds_the_articles(ws: Workspace, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / IMPORTABLE[fmt]
    export(ws, fmt, path=path, annotators=["alice"])
    fresh = Workspace.open(tmp_path / "fresh")
    try:
        report = import_labelled(fresh, path, "model")
        assert report.skipped == [] and sorted(report.articles_added) == sorted(
            [EMOJI_ID, SEED, "f6acadc5c55dd27f"])
        assert fresh.article(EMOJI_ID).body == EMOJI_TEXT and fresh.article(EMOJI_ID).title == "اختبار"
        out = tmp_path / ("fresh" + path.suffix)
        export(fresh, fmt, path=out)
        assert _without_annotator(spans_from(fmt, out.read_text("utf-8"))) == _without_annotator(
            spans_from(fmt, path.read_text("utf-8")))
    finally:
        fresh.close()


def test_records_without_id_match_an_article_by_text_or_get_a_content_id(ws: Workspace, tmp_path: Path) -> None:
    body = ws.article(SEED).body
    start = body.index("بوبكر سبيك")
    path = tmp_path / "model.jsonl"
    lines = [{"text": body, "label": [[start, start + 10, "PER"]]},  # doccano, no id: a known text
             {"text": "وزير الخارجية في عمّان.", "label": [[17, 22, "LOC"]]}]  # a new text
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    report = import_labelled(ws, path, "model")
    new_id = content_id(lines[1]["text"])
    assert report.format == "doccano" and report.articles_added == [new_id] and report.spans_added == 2
    assert {(r["article_id"], r["text"]) for r in ws.annotations("model").all()} == {
        (SEED, "بوبكر سبيك"), (new_id, "عمّان")}


def test_plain_article_files_are_not_labelled(tmp_path: Path) -> None:
    plain = tmp_path / "a.jsonl"
    plain.write_text('{"id": "1", "text": "نص"}\n', encoding="utf-8")
    page = tmp_path / "a.txt"
    page.write_text('{"text": "x", "label": []}\n', encoding="utf-8")
    assert not looks_labelled(plain) and not looks_labelled(page) and detect(plain) is None
    broken = tmp_path / "b.json"
    broken.write_text('[{"data": {"text": "x"}', encoding="utf-8")
    assert looks_labelled(broken)  # .json files all go to the labelled importer, which reports this


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_jsonl_records_are_reported_with_file_and_line(ws: Workspace, tmp_path: Path) -> None:
    body = ws.article(SEED).body
    s = body.index("بوبكر سبيك")
    path = _write_lines(tmp_path / "bad.jsonl", [
        json.dumps({"article_id": SEED, "text": body, "label": [[s, s + 10, "PER"]]}),         # 1 good
        '{"text": "not closed", "label": [[0, 3, "PER"]]',                                     # 2 not JSON
        json.dumps({"label": [[0, 3, "PER"]], "article_id": "x"}),                             # 3 no text
        json.dumps({"article_id": SEED, "text": body, "label": [[s, 10**6, "PER"]]}),          # 4 out of range
        json.dumps({"article_id": SEED, "text": body, "label": [[s, s + 3]]}),                 # 5 bad triple
        json.dumps({"article_id": SEED, "text": body, "label": [[s, s + 10, "PERS"]]}),        # 6 unknown label
        json.dumps({"article_id": SEED, "text": "another text", "label": [[0, 3, "PER"]]}),    # 7 text differs
        "[1, 2]",                                                                              # 8 not an object
    ])
    report = import_labelled(ws, path, "model")
    where = {str(skip).split(": ")[0]: str(skip) for skip in report.skipped}
    assert report.spans_added == 1 and len(report.skipped) == 7, [str(x) for x in report.skipped]
    assert "not JSON" in where[f"{path}:2"]
    assert "field 'text': missing or empty" in where[f"{path}:3"]
    assert f"{path}:4: label[0]: span {s}-1000000 does not fit the text (2693 characters)" == where[f"{path}:4"]
    assert 'expected [start, end, "LABEL"]' in where[f"{path}:5"]
    assert "unknown entity label 'PERS'" in where[f"{path}:6"]
    assert "different text" in where[f"{path}:7"]
    assert "expected a JSON object" in where[f"{path}:8"]


def test_span_text_that_does_not_match_is_skipped(ws: Workspace, tmp_path: Path) -> None:
    body = ws.article(SEED).body
    path = _write_lines(tmp_path / "p.jsonl", [json.dumps(
        {"text": body, "spans": [{"start": 0, "end": 3, "label": "PER", "text": "xyz"},
                                 {"start": 0, "end": 3, "label": "ORG", "text": body[:3]}],
         "meta": {"article_id": SEED}}, ensure_ascii=False)])
    report = import_labelled(ws, path, "model")
    assert report.format == "spacy" and report.spans_added == 1
    assert str(report.skipped[0]).startswith(f"{path}:1: spans[0]: span 0-3: text 'xyz' does not match")


def test_bad_label_studio_tasks_are_reported_with_task_index(ws: Workspace, tmp_path: Path) -> None:
    def labels(start, end, text=None, label="LOC"):
        value = {"start": start, "end": end, "labels": [label]}
        if text is not None:
            value["text"] = text
        return {"id": "r", "from_name": "label", "to_name": "text", "type": "labels", "value": value}

    text = "😀 في القاهرة"  # القاهرة: code points 5-12 (Label Studio 1.4+), UTF-16 units 6-13 (before 1.4)
    tasks = [
        {"data": {"text": text}, "annotations": [{"result": [labels(5, 12, "القاهرة")]}]},   # good
        {"data": {"text": text}, "annotations": [{"result": [labels(2, 4, "xy")]}]},          # text: neither
        {"data": {"text": text}, "annotations": [{"result": [labels(6, 99)]}]},               # out of range
        {"data": {"no_text": 1}},                                                             # no text
        {"data": {"text": text}, "predictions": [{"result": [labels(6, 13, "القاهرة")]}]},   # UTF-16: proven
        "a string",
    ]
    path = tmp_path / "ls.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    report = import_labelled(ws, path, "model")
    skipped = {str(x).split(": ")[0]: str(x) for x in report.skipped}
    assert report.format == "label-studio" and report.spans_added == 1 and len(skipped) == 4, skipped
    assert report.spans_present == 1  # the UTF-16 one is the same span, read right
    at = f"{path}:task[%d].%s[0].result[0]"
    assert ("span 2-4 (code points; read as UTF-16 units it does not match either): text 'xy' does not match"
            in skipped[at % (1, "annotations")])
    assert "span 6-99 does not fit the text" in skipped[at % (2, "annotations")]
    assert skipped[f"{path}:task[3]"] == f"{path}:task[3]: field 'data.text': missing or empty"
    assert "expected a Label Studio task" in skipped[f"{path}:task[5]"]
    [notice] = report.notices
    assert str(notice).startswith(f"{path}:task[4]: 1 span(s) read as UTF-16 code units") and "5-12" in str(notice)
    [row] = ws.annotations("model").all()
    assert (row["start"], row["end"], row["text"]) == (5, 12, "القاهرة")


def test_broken_json_file_is_reported_with_its_line(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[\n {"data": {"text": "x"}},\n {"data": \n', encoding="utf-8")
    report = import_labelled(ws, path, "model")
    assert len(report.skipped) == 1 and str(report.skipped[0]).startswith(f"{path}:4: not JSON")


def test_bad_annotator_name_is_refused(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    export(ws, "doccano", path=path)
    with pytest.raises(StoreError, match="annotator name"):
        import_labelled(ws, path, "no spaces please")


def _saved(path: Path) -> dict[str, bytes]:
    """Every file of a workspace and its content (lock files and the labels check's cache aside: opening a
    workspace makes them)."""
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file() and p.suffix != ".lock" and p.name != LABELS_CHECKED}


TEXTLESS = [  # (file, content, where the error points, the field named)
    ("p.jsonl", '{"id": "x", "entities": []}\n', "p.jsonl:1", "text"),
    ("p.doccano", '{"id": "x", "entities": []}\n', "p.doccano:1", "text"),
    ("p.json", '[{"id": "x", "entities": []}]', "p.json:[0]", "text"),
    ("ls.json", '[{"data": {"title": "x"}, "predictions": [{"result": []}]}]', "ls.json:task[0]", "data.text"),
    ("ls.jsonl", '{"data": {}, "predictions": []}\n', "ls.jsonl:1", "data.text"),
]


@pytest.mark.parametrize(("name", "content", "where", "field"), TEXTLESS)
def test_predictions_record_without_text_is_one_clear_error_and_saves_nothing(
        workspace_path: Path, tmp_path: Path, capsys, name: str, content: str, where: str, field: str) -> None:
    from tui.cli import main

    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    before = _saved(workspace_path)
    assert main(["import", "--workspace", str(workspace_path), "--predictions", "model", str(path)]) == 1
    err = capsys.readouterr().err
    # One line, in the article importer's words for a record without text, naming the file and the record.
    assert err.strip() == f"tahqiq: skipped {tmp_path}/{where}: field {field!r}: missing or empty"
    assert _saved(workspace_path) == before


def test_predictions_after_a_record_without_text_are_still_predictions(workspace_path: Path, tmp_path: Path,
                                                                        capsys) -> None:
    """A first line without text does not make the file an article file: the next line tells its format."""
    from tui.cli import main

    ws = Workspace.open(workspace_path)
    body, ids = ws.article(SEED).body, [a.id for a in ws.articles()]
    ws.close()
    s = body.index("بوبكر سبيك")
    path = _write_lines(tmp_path / "model.jsonl", [
        json.dumps({"id": "x", "entities": []}),
        json.dumps({"article_id": SEED, "text": body, "label": [[s, s + 10, "PER"]]}, ensure_ascii=False)])
    assert main(["import", "--workspace", str(workspace_path), "--predictions", "model", str(path)]) == 1
    out, err = capsys.readouterr()
    assert err.strip() == f"tahqiq: skipped {path}:1: field 'text': missing or empty"
    assert f"{path}: doccano: 0 articles added, 1 spans added" in out
    ws = Workspace.open(workspace_path)
    try:
        assert [a.id for a in ws.articles()] == ids  # line 2's text is the seed's: no article was added
        assert [(r["article_id"], r["text"]) for r in ws.annotations("predictions.model").all()] == [
            (SEED, "بوبكر سبيك")]
    finally:
        ws.close()


@pytest.mark.parametrize("name", ["articles.jsonl", "page.txt"])
def test_predictions_of_an_article_file_are_refused_not_imported_as_articles(
        workspace_path: Path, tmp_path: Path, capsys, name: str) -> None:
    """`--predictions` on a file of articles used to import the articles and drop the flag without a word."""
    from tui.cli import main

    path = tmp_path / name
    text = "خبر جديد عن المغرب والجزائر في يوم الاثنين."
    path.write_text(json.dumps({"id": "new", "text": text}, ensure_ascii=False) + "\n" if name.endswith("l")
                    else text, encoding="utf-8")
    before = _saved(workspace_path)
    assert main(["import", "--workspace", str(workspace_path), "--predictions", "model", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(path) in err and "holds articles, not labels" in err, err
    assert _saved(workspace_path) == before
