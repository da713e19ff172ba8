"""The command line as a user meets it: exit codes, one-line errors, no tracebacks.

Most commands run in this process (`run`, through conftest's `run_cli`); `run_process` starts
`python -m tui.cli` for the few that need the real entry point: `--version` and the first `import` here,
`render` and `show` into a closed pipe.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli


def run(*args: str, workspace: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """`tahqiq ARGS` in this process."""
    full_env = dict(env or {})
    if workspace is not None:
        full_env["TAHQIQ_WORKSPACE"] = str(workspace)
    return run_cli(args, env=full_env)


def run_process(*args: str, workspace: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """`tahqiq ARGS` as a new process: the real entry point."""
    full_env = {**os.environ, **(env or {})}
    if workspace is not None:
        full_env["TAHQIQ_WORKSPACE"] = str(workspace)
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], capture_output=True, text=True,
                          env=full_env, timeout=60)


def test_read_only_app_on_a_missing_workspace_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo"
    out = run_process("--read-only", "--workspace", str(missing))
    assert out.returncode == 1 and "no workspace here" in out.stderr and len(out.stderr.splitlines()) == 1
    assert not missing.exists()


def test_version_and_help() -> None:
    out = run_process("--version")
    assert out.returncode == 0 and out.stdout.startswith("tahqiq ")
    assert run("--version").stdout == out.stdout
    for command in ([], ["import"], ["list"], ["show"], ["render"], ["export"]):
        result = run(*command, "--help")
        assert result.returncode == 0 and "usage: tahqiq" in result.stdout


def test_usage_error_exits_2() -> None:
    result = run("frobnicate")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_import_list_show(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    first = run_process("import", str(seeds), workspace=ws)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "imported 5, duplicates 0, conflicts 0, skipped 0"
    again = run("import", str(seeds), workspace=ws)
    assert again.stdout.strip() == "imported 0, duplicates 5, conflicts 0, skipped 0" and again.returncode == 0

    listed = json.loads(run("list", "--json", workspace=ws).stdout)
    assert [r["id"] for r in listed][:2] == ["f6acadc5c55dd27f", "d9577bfa1a0662c0"]
    assert listed[0]["source"] == "محيط" and listed[0]["entities"] == 0
    table = run("list", workspace=ws).stdout.splitlines()
    assert len(table) == 5 and table[0].split("\t")[3] == "2014-11-25"

    shown = run("show", "52f015e52f40b84e", "--workspace", str(ws))
    assert shown.returncode == 0
    assert "byline: كوثر زكي ورضى الرحماني" in shown.stdout and "بعد مرور أسابيع" in shown.stdout


def test_import_with_bad_input_exits_1_with_one_line_each(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "نص جيد"}\nnot json\n', encoding="utf-8")
    result = run("import", str(bad), str(tmp_path / "missing.txt"), workspace=tmp_path / "ws")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [f"tahqiq: skipped {tmp_path / 'missing.txt'}: no such file or folder",
                     f"tahqiq: skipped {bad}:2: not JSON (Expecting value at column 1)"]
    assert result.stdout.strip() == "imported 1, duplicates 0, conflicts 0, skipped 2"


@pytest.mark.parametrize(
    "args, message",
    [
        (["show", "nope"], "tahqiq: error: no article with id 'nope'"),
        (["render", "nope"], "tahqiq: error: no article with id 'nope'"),
        (["render", "f6acadc5c55dd27f", "--width", "0"], "tahqiq: error: --width must be at least 1, got 0"),
    ],
)
def test_user_errors_are_one_line_exit_1(workspace_path: Path, args, message) -> None:
    result = run(*args, workspace=workspace_path)
    assert result.returncode == 1
    assert result.stderr.strip() == message and "Traceback" not in result.stderr


def test_corrupt_workspace_is_one_line_and_untouched(workspace_path: Path) -> None:
    corpus = workspace_path / "corpus.json"
    corpus.write_text("{oops", encoding="utf-8")
    result = run("list", workspace=workspace_path)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "corpus.json: not a valid database file" in result.stderr
    assert corpus.read_text(encoding="utf-8") == "{oops"


def test_workspace_that_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("x")
    result = run("list", "--workspace", str(path))
    assert result.returncode == 1 and "not a folder" in result.stderr


@pytest.mark.parametrize("command", [["list"], ["show", "x"], ["export", "--format", "jsonl"], ["agreement"],
                                     ["render", "x", "--width", "20"]])
def test_a_mistyped_workspace_is_named_not_created(tmp_path: Path, command: list[str]) -> None:
    from tui.cli import main

    typo = tmp_path / "wrokspace"
    assert main([*command, "--workspace", str(typo)]) == 1
    assert not typo.exists()


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`tahqiq render ID | head -1` used to print "Broken pipe" and exit 1."""
    src = tmp_path / "long.jsonl"
    # 155 kB shown, 245 kB rendered: far more than a pipe holds (64 KiB), so the command is still writing
    # when `head` has gone.
    src.write_text(json.dumps({"id": "long", "text": "كلمة عربية طويلة " * 5000}, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    ws = tmp_path / "ws"
    assert run("import", str(src), "--workspace", str(ws)).returncode == 0
    assert len(run("show", "long", "--workspace", str(ws)).stdout.encode()) > 2 * 65536
    for command in ("render long --width 20", "show long"):
        proc = subprocess.run(f"{sys.executable} -m tui.cli {command} --workspace {ws} | head -c 1 >/dev/null; "
                              "echo ${PIPESTATUS[0]}", shell=True, executable="/bin/bash", capture_output=True,
                              text=True, timeout=120)
        assert proc.stderr == "" and proc.stdout.strip() == "141", (command, proc.stderr, proc.stdout)


def test_a_search_without_hits_says_so(workspace_path: Path, capsys) -> None:
    from tui.cli import main

    assert main(["list", "--search", "كلمةلاتوجد", "--workspace", str(workspace_path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "no article contains" in captured.err


def test_an_id_imported_again_with_another_text_is_a_conflict(tmp_path: Path) -> None:
    """It used to count as "duplicates 1" with exit 0, silently keeping the old text."""
    ws = tmp_path / "ws"
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text(json.dumps({"id": "n1", "text": "النص الأول للمقال كما نشر."}, ensure_ascii=False) + "\n",
                     encoding="utf-8")
    second.write_text(json.dumps({"id": "n1", "text": "نص آخر تماما بالمعرف نفسه."}, ensure_ascii=False) + "\n"
                      + json.dumps({"id": "n1", "text": "النص الأول للمقال كما نشر."}, ensure_ascii=False) + "\n",
                      encoding="utf-8")

    assert run("import", str(first), "--workspace", str(ws)).returncode == 0
    result = run("import", str(second), "--workspace", str(ws))
    assert result.returncode == 1
    assert result.stdout.strip() == "imported 0, duplicates 1, conflicts 1, skipped 0"
    assert "conflict" in result.stderr and "'n1'" in result.stderr and "b.jsonl" in result.stderr
    assert "النص الأول" in run("show", "n1", "--workspace", str(ws)).stdout  # nothing changed


def test_list_counts_the_annotators_own_annotations_unless_told_all(workspace_path: Path, capsys,
                                                                    monkeypatch) -> None:
    """Issue: `list` counted every annotator's spans (gold and predictions too): E72 where the caller tagged 12."""
    from spans import word_span

    from store import Workspace
    from tui.cli import main

    article = "52f015e52f40b84e"
    ws = Workspace.open(workspace_path)
    body = ws.article(article).body
    for name, entities, claims in (("alice", 3, 1), ("bob", 2, 2), ("gold", 4, 0), ("predictions.ner", 5, 0)):
        notes = ws.annotations(name)
        for i in range(entities):
            notes.add_entity(article, *word_span(body, 2 * i), "PER")
        for i in range(claims):
            notes.add_claim(article, *word_span(body, 40 + 2 * i))
    ws.close()

    def counts(*args: str) -> dict[str, tuple[int, int]]:
        assert main(["list", "--json", "--workspace", str(workspace_path), *args]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert len(rows) == 5
        return {r["id"]: (r["entities"], r["claims"]) for r in rows if r["entities"] or r["claims"]}

    assert counts("--annotator", "alice") == {article: (3, 1)}
    assert counts("--annotator", "bob") == {article: (2, 2)}
    assert counts("--annotator", "carol") == {}  # nothing tagged yet (and nothing created for carol)
    assert not (workspace_path / "annotations" / "carol.json").exists()
    monkeypatch.setenv("USER", "bob")  # no --annotator: the login name, as the app
    assert counts() == {article: (2, 2)}
    assert counts("--all-annotators") == {article: (3 + 2 + 4 + 5, 1 + 2)}
    assert counts("--all-annotators", "--annotator", "alice") == {article: (14, 3)}
    assert main(["list", "--workspace", str(workspace_path), "--annotator", "alice"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(article))
    assert row.split("\t")[-2:] == ["E3", "C1"]
    assert main(["list", "--workspace", str(workspace_path), "--annotator", "../alice"]) == 1
    assert "annotator name '../alice'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["list", "--help"])
    assert "--all-annotators" in capsys.readouterr().out
