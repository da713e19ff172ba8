"""doccano interchange in doccano's unit: its backend (1.8.4) stores and exports the integers it is given and
keeps every other key of a line as metadata, and its span editor counts JavaScript string positions (UTF-16
code units) unless the project's grapheme mode is on (evidence: FORMATS.md). So a line we write must slice
right as JavaScript slices, a line doccano writes back (our keys kept, its own `id` and `Comments` added,
new spans in UTF-16 units) must import exactly, and a line that states no unit is read as UTF-16 unless the
importer is told otherwise. doccano itself (a Django server) is not installed by the tests; its import and
export code is reproduced here from the files named in FORMATS.md."""

from __future__ import annotations

import json
from pathlib import Path

from interop_article import ARTICLE_ID, TEXT, add

from store import Workspace
from store.exchange import export, import_labelled
from tui.cli.entry import build_parser


def js_slice(text: str, start: int, end: int) -> str:
    """JavaScript's text.slice(start, end): UTF-16 code units."""
    return text.encode("utf-16-le")[2 * start:2 * end].decode("utf-16-le")


def js_index(text: str, part: str) -> int:
    """JavaScript's text.indexOf(part)."""
    return len(text[:text.index(part)].encode("utf-16-le")) // 2


def through_doccano(line: dict, new_spans: list[list], example_id: int = 7) -> dict:
    """What doccano 1.8.4 does to one of our lines: import keeps `text`, takes `label` as spans and every
    other key as meta (data_import/pipeline/data.py BaseData.parse); export writes {"id", "text", **meta}
    plus the spans sorted as (start, end, label) tuples and the comments (data_export/models.py
    ExportedExample.to_dict, data_export/pipeline/formatters.py TupledSpanFormatter)."""
    meta = {k: v for k, v in line.items() if k not in ("text", "label")}
    spans = sorted(tuple(s) for s in line["label"] + new_spans)
    return {"id": example_id, "text": line["text"], **meta, "label": [list(s) for s in spans], "Comments": []}


def our_line(ws: Workspace, tmp: Path, **kw) -> dict:
    export(ws, "doccano", path=tmp / "d.jsonl", annotators=["alice"], articles=ARTICLE_ID, **kw)
    [line] = [json.loads(x) for x in (tmp / "d.jsonl").read_text("utf-8").splitlines()]
    return line


def test_our_doccano_lines_slice_as_javascript_does(workspace: Workspace, tmp_path: Path) -> None:
    spans = add(workspace, tmp_path)
    line = our_line(workspace, tmp_path)
    assert line["offset_unit"] == "utf-16-code-unit" and line["text"] == TEXT
    assert sorted((js_slice(TEXT, s, e), label) for s, e, label in line["label"]) == sorted(
        (TEXT[s:e], label) for s, e, label in spans)
    assert [s for s, _, _ in line["label"]] != [s for s, _, _ in spans]  # the emoji before them count 2
    line = our_line(workspace, tmp_path, offset_unit="codepoint")
    assert line["offset_unit"] == "codepoint"
    assert sorted((s, e, label) for s, e, label in line["label"]) == sorted(spans)


def test_a_line_back_from_doccano_imports_exactly(workspace: Workspace, tmp_path: Path) -> None:
    spans = add(workspace, tmp_path)
    start = js_index(TEXT, "أمس")  # a span drawn in doccano's editor: JavaScript positions
    back = through_doccano(our_line(workspace, tmp_path), [[start, start + 3, "MISC"]])
    path = tmp_path / "all.jsonl"  # doccano's "JSONL" export of a sequence labelling project
    path.write_text(json.dumps(back, ensure_ascii=False) + "\n", encoding="utf-8")
    report = import_labelled(workspace, path, "doccano")
    assert (report.format, report.skipped, report.notices) == ("doccano", [], [])
    rows = workspace.annotations("doccano").for_article(ARTICLE_ID)
    cp = TEXT.index("أمس")
    assert {(r["start"], r["end"], r["label"]) for r in rows} == {*spans, (cp, cp + 3, "MISC")}
    assert all(r["text"] == TEXT[r["start"]:r["end"]] for r in rows)


def test_a_line_without_offset_unit_is_utf16_unless_told(workspace: Workspace, tmp_path: Path) -> None:
    add(workspace, tmp_path)
    cp, js = TEXT.index("الرجاء"), js_index(TEXT, "الرجاء")
    path = tmp_path / "plain.jsonl"
    for name, offsets, unit in (("u16", (js, js + 6), None), ("cp", (cp, cp + 6), "codepoint")):
        path.write_text(json.dumps({"id": 1, "text": TEXT, "label": [[*offsets, "ORG"]], "Comments": []},
                                   ensure_ascii=False) + "\n", encoding="utf-8")
        report = import_labelled(workspace, path, name, offset_unit=unit)
        assert report.skipped == [] and report.spans_added == 1, [str(s) for s in report.skipped]
        assert [(r["start"], r["end"]) for r in workspace.annotations(name).all()] == [(cp, cp + 6)]
        assert bool(report.notices) == (unit is None)  # UTF-16 assumed for an emoji text: said so
    # doccano's relation-mode export ("entities" with start_offset/end_offset) reads the same way.
    path.write_text(json.dumps({"id": 1, "text": TEXT, "entities": [
        {"id": 3, "label": "ORG", "start_offset": js, "end_offset": js + 6}], "relations": []},
        ensure_ascii=False) + "\n", encoding="utf-8")
    report = import_labelled(workspace, path, "rel")
    assert report.skipped == [] and [(r["start"], r["end"]) for r in workspace.annotations("rel").all()] == [
        (cp, cp + 6)]


def test_offsets_inside_an_emoji_and_unknown_units_are_reported(workspace: Workspace, tmp_path: Path) -> None:
    add(workspace, tmp_path)
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in (
        {"text": TEXT, "label": [[1, 5, "ORG"]]},                                   # 1: inside 😀
        {"text": TEXT, "label": [[0, 4, "ORG"]], "offset_unit": "grapheme"},        # unknown unit
    )) + "\n", encoding="utf-8")
    report = import_labelled(workspace, path, "bad")
    skipped = sorted(map(str, report.skipped))
    assert len(skipped) == 2 and report.spans_added == 0, skipped
    assert f"{path}:1: label[0]: UTF-16 offset 1 falls inside a surrogate pair" in skipped[0]
    assert skipped[1].startswith(f"{path}:2: offset_unit: unknown unit 'grapheme'")


def test_the_cli_takes_offset_unit_on_export_and_import() -> None:
    parser = build_parser()
    assert parser.parse_args(["import", "x.jsonl", "--offset-unit", "codepoint"]).offset_unit == "codepoint"
    assert parser.parse_args(["import", "x.jsonl"]).offset_unit is None
    args = parser.parse_args(["export", "-f", "doccano", "--offset-unit", "codepoint"])
    assert args.offset_unit == "codepoint"
