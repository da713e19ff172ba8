"""`tahqiq export` and the labelled branch of `tahqiq import`, through tui.cli.exchange with a parser
built like tui/cli/entry.py's (global --workspace/--annotator, then the subcommand)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from test_export_fixtures import EMOJI_ID

from store import StoreError, Workspace
from tui.cli.exchange import add_export_parser, run_export, run_import_labelled, split_labelled


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tahqiq")
    parser.add_argument("--workspace", default=None)
    parser.add_argument("--annotator", default=None)
    add_export_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(list(argv))


def test_export_to_stdout_is_only_the_data(annotated_path: Path, capsys) -> None:
    assert run_export(parse("--workspace", str(annotated_path), "export", "--format", "jsonl",
                            "--annotator", "alice", "--articles", "state=done")) == 0
    out, err = capsys.readouterr()
    assert {json.loads(x)["id"] for x in out.splitlines()} == {EMOJI_ID, "52f015e52f40b84e"}
    assert err == ""


def test_global_annotator_selects_too(annotated_path: Path, capsys) -> None:
    run_export(parse("--workspace", str(annotated_path), "--annotator", "bob", "export", "-f", "doccano"))
    assert {json.loads(x)["annotator"] for x in capsys.readouterr().out.splitlines()} == {"bob"}


def test_export_to_file_reports_where_and_the_unit(annotated_path: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "tasks.json"
    assert run_export(parse("export", "--workspace", str(annotated_path), "-f", "label-studio", "-o", str(out))) == 0
    err = capsys.readouterr().err
    assert "exported 4 tasks" in err and "tasks.label_config.xml" in err and "(offsets: codepoint)" in err
    assert len(json.loads(out.read_text("utf-8"))) == 4 and (tmp_path / "tasks.label_config.xml").exists()
    assert not list(tmp_path.glob(".*partial"))
    out = tmp_path / "d.jsonl"
    for extra, unit in (((), "utf-16-code-unit"), (("--offset-unit", "codepoint"), "codepoint")):
        assert run_export(parse("export", "--workspace", str(annotated_path), "-f", "doccano", "-o", str(out),
                                *extra)) == 0
        assert f"(offsets: {unit})" in capsys.readouterr().err
        assert {json.loads(x)["offset_unit"] for x in out.read_text("utf-8").splitlines()} == {unit}


def test_user_errors_are_store_errors(annotated_path: Path) -> None:
    with pytest.raises(StoreError, match="-o DIR"):
        run_export(parse("export", "--workspace", str(annotated_path), "-f", "brat"))
    with pytest.raises(StoreError, match="no article with id 'zzz'"):
        run_export(parse("export", "--workspace", str(annotated_path), "-f", "json", "--articles", "zzz"))
    with pytest.raises(SystemExit):
        parse("export", "-f", "xml")


def test_import_routes_labelled_files(annotated_path: Path, tmp_path: Path, capsys) -> None:
    ws = Workspace.open(annotated_path)
    try:
        from store.exchange import export

        (tmp_path / "in").mkdir()
        export(ws, "doccano", path=tmp_path / "in" / "d.jsonl", annotators=["bob"])
        (tmp_path / "in" / "plain.jsonl").write_text('{"id": "p1", "text": "نص جديد"}\n', encoding="utf-8")
        labelled, plain, _ = split_labelled([str(tmp_path / "in"), str(tmp_path / "missing.txt")])
        assert labelled == [tmp_path / "in" / "d.jsonl"]
        assert plain == [str(tmp_path / "in" / "plain.jsonl"), str(tmp_path / "missing.txt")]
        with pytest.raises(StoreError, match="--annotator NAME"):
            run_import_labelled(ws, labelled, None)
        assert run_import_labelled(ws, labelled, "model") == 0
        assert "doccano: 0 articles added, 4 spans added" in capsys.readouterr().out
    finally:
        ws.close()


# (format, the file -o names: a suffix after the format or none, the format `tahqiq import` finds)
ANY_SUFFIX = [("doccano", "out.doccano", "doccano"), ("label-studio", "tasks.label-studio", "label-studio"),
              ("spacy", "out.prodigy", "spacy"), ("jsonl", "out.tahqiq", "tahqiq"), ("json", "out", "tahqiq")]


@pytest.mark.parametrize(("fmt", "name", "found"), ANY_SUFFIX)
def test_an_export_imports_back_whatever_its_suffix(annotated_path: Path, tmp_path: Path, capsys, fmt: str,
                                                    name: str, found: str) -> None:
    from tui.cli import main

    (tmp_path / "exports").mkdir()
    out = tmp_path / "exports" / name
    ws = str(annotated_path)
    assert main(["export", "--workspace", ws, "--format", fmt, "--annotator", "alice", "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["import", "--workspace", ws, "--annotator", "copy", str(out)]) == 0, capsys.readouterr().err
    assert f"{out}: {found}: 0 articles added, 10 spans added, 0 already there" in capsys.readouterr().out
    # A folder of exports too: the same file, its spans already there.
    assert main(["import", "--workspace", ws, "--annotator", "copy", str(out.parent)]) == 0
    assert f"{out}: {found}: 0 articles added, 0 spans added, 10 already there" in capsys.readouterr().out
    w = Workspace.open(annotated_path)
    try:
        def spans(name: str) -> set[tuple]:
            return {(r["article_id"], r["kind"], r["start"], r["end"], r["label"]) for r in w.annotations(name).all()
                    if r["kind"] != "credibility"}

        assert spans("copy") == spans("alice") and len(spans("copy")) == 10
    finally:
        w.close()
