"""Bad input never crashes an import and never damages the workspace: one clear line per skip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import import_file

from store import Workspace


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("bad.txt", "مرحبا".encode() + b"\xff\xfe bad", "not valid UTF-8"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary file"),
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"   \n\n  ", "empty file"),
        ("chrome.txt", "شكرا على الإبلاغ!\n".encode(), "no article text"),
        ("table.xlsx", b"PK\x03\x04", "unsupported file type"),
    ],
)
def test_bad_file_is_skipped_with_one_line(workspace: Workspace, tmp_path: Path, name, content, reason) -> None:
    path = tmp_path / name
    before = workspace.corpus_path.read_bytes()
    report = import_file(workspace, path, content)
    assert report.imported == [] and len(report.skipped) == 1
    line = str(report.skipped[0])
    assert reason in line and str(path) in line and "\n" not in line
    assert workspace.corpus_path.read_bytes() == before


def test_jsonl_bad_lines_name_file_and_line(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "articles.jsonl"
    lines = [
        json.dumps({"id": "ok1", "text": "نص الخبر الأول.", "title": "عنوان", "date": "2020-01-02"}),
        "{not json",
        json.dumps({"id": "notext", "title": "بلا نص"}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "baddate", "text": "نص", "date": "yesterday"}),
        json.dumps({"text": "نص بلا معرّف، يأخذ معرّفا من محتواه.", "source": "هسبريس"}),
        json.dumps({"id": {"nested": 1}, "text": "نص"}),
    ]
    report = import_file(workspace, path, "\n".join(lines).encode() + b"\n\xff\xfe\n")
    assert len(report.imported) == 2
    reasons = {str(s).split(":")[1]: str(s) for s in report.skipped}
    assert set(reasons) == {"2", "3", "4", "5", "7", "8"}
    assert "not JSON" in reasons["2"]
    assert "field 'text'" in reasons["3"]
    assert "expected a JSON object" in reasons["4"]
    assert "field 'date'" in reasons["5"]
    assert "field 'id'" in reasons["7"]
    assert "not valid UTF-8" in reasons["8"]
    ok = workspace.article("ok1")
    assert (ok.title, ok.date, ok.body, ok.title_derived) == ("عنوان", "2020-01-02", "نص الخبر الأول.", False)
    derived = workspace.article(report.imported[1])
    assert derived.title_derived and derived.source == "هسبريس"


def test_csv_import_and_missing_text_column(workspace: Workspace, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    report = import_file(workspace, good, 'id,title,text,date\nc1,عنوان,"سطر أول\nسطر ثان",25-11-2014\nc2,فارغ,,\n')
    assert report.imported == ["c1"]
    assert [str(s) for s in report.skipped] == [f"{good}:4: field 'text': missing or empty"]
    assert workspace.article("c1").date == "2014-11-25"
    assert workspace.article("c1").body == "سطر أول\nسطر ثان"
    report = import_file(workspace, tmp_path / "bad.csv", "id,body\n1,x\n")
    assert "missing from the CSV header" in str(report.skipped[0])


def test_huge_file_is_refused_without_reading_it(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    before = workspace.corpus_path.read_bytes()
    report = workspace.import_paths([path])
    assert "50.0 MB is over the 5 MB limit" in str(report.skipped[0])
    assert workspace.corpus_path.read_bytes() == before


def test_huge_jsonl_record_is_skipped(workspace: Workspace, tmp_path: Path) -> None:
    report = import_file(workspace, tmp_path / "big.jsonl", json.dumps({"id": "big", "text": "ا" * 1_000_001}) + "\n")
    assert "over the 1,000,000 limit" in str(report.skipped[0]) and report.imported == []


def test_missing_path_and_folder_walk(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("عنوان قصير\nنص المقال هنا.", encoding="utf-8")
    (folder / "notes.md").write_text("ignored", encoding="utf-8")
    report = workspace.import_paths([folder, tmp_path / "nope"])
    assert len(report.imported) == 1
    assert [s.reason for s in report.skipped] == ["no such file or folder"]
    assert workspace.article(report.imported[0]).title == "عنوان قصير"


def test_corrupt_corpus_is_reported_and_never_overwritten(workspace_path: Path) -> None:
    from store import CorruptFileError
    corpus = workspace_path / "corpus.json"
    corpus.write_bytes(b'{"articles": {"1": {"id": "x", "bo')
    damaged = corpus.read_bytes()
    with pytest.raises(CorruptFileError, match="corpus.json: not a valid database file"):
        Workspace.open(workspace_path)
    assert corpus.read_bytes() == damaged


def test_corrupt_annotations_are_reported_and_kept(workspace: Workspace) -> None:
    from store import CorruptFileError
    path = workspace.path / "annotations" / "eve.json"
    path.write_bytes(b"[1, 2")
    with pytest.raises(CorruptFileError, match="eve.json"):
        workspace.annotations("eve")
    assert path.read_bytes() == b"[1, 2"


def test_a_link_out_of_the_folder_is_named_not_followed(tmp_path: Path) -> None:
    """`import DIR` once imported /etc/hostname through a planted symbolic link."""
    from tui.cli import main

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("سر لا يخرج من هنا\n\n"
                                        "نص طويل بما يكفي ليكون مقالا كاملا هنا.", encoding="utf-8")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ok.txt").write_text("عنوان\n\nنص المقال الأول وهو طويل بما يكفي للاستيراد.", encoding="utf-8")
    (folder / "leak.txt").symlink_to(outside / "secret.txt")
    (folder / "sub").symlink_to(outside, target_is_directory=True)
    ws = tmp_path / "ws"
    assert main(["import", str(folder), "--workspace", str(ws)]) == 1
    w = Workspace.open(ws)
    try:
        bodies = [a.body for a in w.articles()]
    finally:
        w.close()
    assert len(bodies) == 1 and not any("سر" in b for b in bodies)
