"""What the command line prints, from hostile file names and article text (issue 15): no ESC, BEL, BS, DEL
or C1 control reaches the terminal; `list` and `show` show TABs, bidi controls and invisible characters as
visible symbols; JSON output escapes DEL, C1 and bidi controls and still parses to the exact values.

Commands run in this process (conftest's `run_cli`: its stdout and stderr are not translated, so a raw CR
would show); `show` runs once as a real process too, through the real entry point and interpreter streams."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli

from store import Workspace
from store.exchange import export

ROOT = Path(__file__).resolve().parent.parent
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # every control but \t and \n
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
TITLE = "\u202eRLO title\tTAB\u200bzw"
SOURCE = "src\x1b]0;TITLE\x07\x9b31m"
BODY = "كلمة \x1b]52;c;QQ==\x07 بعد \x08\x07 \x85\x7f نص\u202e\nسطر\tثان"


def run(*args: str, workspace: Path) -> subprocess.CompletedProcess:
    """`tahqiq --workspace WORKSPACE ARGS` in this process."""
    return run_cli(["--workspace", str(workspace), *args], cwd=ROOT)


def run_process(*args: str, workspace: Path) -> subprocess.CompletedProcess:
    """`tahqiq --workspace WORKSPACE ARGS` as a new process: the real entry point, the interpreter's streams."""
    return subprocess.run([sys.executable, "-m", "tui.cli", "--workspace", str(workspace), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, env={**os.environ})


def no_controls(text: str, bidi: bool = True) -> None:
    assert not RAW.search(text), repr(RAW.search(text).group())
    if bidi:
        assert not BIDI.search(text), repr(BIDI.search(text).group())


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    (src / "evil\x1b]0;TITLE\x07.txt").write_text("")  # empty: skipped, and named
    (src / "bad\x1b[2J.jsonl").write_text("not json\n")
    (src / "ok.jsonl").write_text(json.dumps({"id": "h1", "title": TITLE, "source": SOURCE, "text": BODY,
                                              "date": "2024-01-01"}) + "\n")
    return src


@pytest.fixture
def hostile_ws(tmp_path: Path, hostile: Path) -> Path:
    ws = Workspace.open(tmp_path / "ws")
    ws.import_paths([hostile / "ok.jsonl"])
    notes = ws.annotations("alice")
    notes.add_entity("h1", 0, 4, "PER")
    notes.add_entity("h1", 5, 24, "ORG")  # ESC ... BEL ... BS BEL
    notes.add_claim("h1", 28, 30, verdict="true")
    ws.close()
    return tmp_path / "ws"


def test_import_names_hostile_files_inertly(tmp_path: Path, hostile: Path) -> None:
    out = run("import", str(hostile), workspace=tmp_path / "ws")
    assert out.returncode == 1
    no_controls(out.stdout + out.stderr)
    assert "evil␛]0;TITLE␇.txt: empty file" in out.stderr and "bad␛[2J.jsonl" in out.stderr


def test_list_and_show_print_symbols_not_controls(hostile_ws: Path) -> None:
    out = run("list", "--all-annotators", workspace=hostile_ws)  # (alice's counts, whoever runs it)
    assert out.returncode == 0, out.stderr
    no_controls(out.stdout)
    row = out.stdout.rstrip("\n").split("\n")
    assert len(row) == 1 and row[0].split("\t") == ["h1", "⇚RLO title⇥TAB◌zw", "src␛]0;TITLE␇\ufffd31m",
                                                    "2024-01-01", "E2", "C1"]  # the columns hold
    out = run("show", "h1", workspace=hostile_ws)
    assert out.returncode == 0, out.stderr
    no_controls(out.stdout)
    real = run_process("show", "h1", workspace=hostile_ws)  # (text=True: a CR would read as \n here)
    assert (real.returncode, real.stdout, real.stderr) == (0, out.stdout, out.stderr)
    assert "title: ⇚RLO title⇥TAB◌zw\n" in out.stdout and "source: src␛]0;TITLE␇\ufffd31m\n" in out.stdout
    assert "نص⇚\nسطر⇥ثان" in out.stdout  # the body keeps its lines


def test_json_outputs_escape_controls_and_round_trip(hostile_ws: Path) -> None:
    out = run("list", "--json", workspace=hostile_ws)
    no_controls(out.stdout)
    assert json.loads(out.stdout)[0]["title"] == TITLE and json.loads(out.stdout)[0]["source"] == SOURCE
    for fmt in ("json", "jsonl", "doccano", "spacy", "label-studio"):
        out = run("export", "--format", fmt, workspace=hostile_ws)
        assert out.returncode == 0, (fmt, out.stderr)
        no_controls(out.stdout)
        no_controls(out.stderr)
        text = out.stdout
        records = json.loads(text) if fmt in ("json", "label-studio") else [json.loads(x) for x in text.splitlines()]
        dumped = json.dumps(records, ensure_ascii=False)
        assert json.dumps(BODY, ensure_ascii=False)[1:-1] in dumped, fmt  # the exact text, after parsing
    ws = Workspace.open(hostile_ws)
    try:
        buffer = io.StringIO()
        export(ws, "jsonl", out=buffer)
        record = json.loads(buffer.getvalue())
        assert (record["text"], record["title"], record["source"]) == (BODY, TITLE, SOURCE)
        assert "\\u0085" in buffer.getvalue() and "\\u202e" in buffer.getvalue() and "\\u007f" in buffer.getvalue()
    finally:
        ws.close()


def test_conll_on_stdout_has_no_raw_controls(hostile_ws: Path) -> None:
    out = run("export", "--format", "conll", workspace=hostile_ws)
    assert out.returncode == 0, out.stderr
    no_controls(out.stdout, bidi=False)  # bidi controls are text; CoNLL keeps them (a token of their own)
    no_controls(out.stderr)
    lines = [line.split("\t") for line in out.stdout.splitlines() if "\t" in line]
    assert ["␛", "5", "6", "B-ORG"] in lines and ["␇", "23", "24", "I-ORG"] in lines
    assert ["␡", "26", "27", "O"] in lines
    body = BODY
    for token, start, end, _tag in lines:  # one symbol for one character: offsets and lengths hold
        assert len(token) == int(end) - int(start)
        assert token == body[int(start):int(end)] or RAW.search(body[int(start):int(end)])
    assert "control characters; CoNLL tokens show them as symbols" in out.stderr


def test_conll_refuses_an_id_with_a_control(tmp_path: Path) -> None:
    src = tmp_path / "a.jsonl"
    src.write_text(json.dumps({"id": "x\x1b]0;t\x07", "text": "نص عربي"}) + "\n")
    ws = Workspace.open(tmp_path / "ws")
    ws.import_paths([src])
    ws.annotations("alice").add_entity("x\x1b]0;t\x07", 0, 2, "PER")
    ws.close()
    out = run("export", "--format", "conll", workspace=tmp_path / "ws")
    assert out.returncode == 1 and out.stdout == ""
    no_controls(out.stderr)
    assert "control character" in out.stderr


def test_brat_ann_lines_hold_no_raw_controls(hostile_ws: Path, tmp_path: Path) -> None:
    out = run("export", "--format", "brat", "-o", str(tmp_path / "brat"), workspace=hostile_ws)
    assert out.returncode == 0, out.stderr
    no_controls(out.stderr)
    ann = (tmp_path / "brat" / "alice" / "h1.ann").read_text(encoding="utf-8")
    no_controls(ann.replace("\t", " "))
    assert "T2\tORG 5 24\t␛]52;c;QQ==␇ بعد ␈␇\n" in ann
    assert (tmp_path / "brat" / "alice" / "h1.txt").read_text(encoding="utf-8") == BODY  # the data is exact
    manifest = (tmp_path / "brat" / "tahqiq-export.json").read_text(encoding="utf-8")
    no_controls(manifest)


def test_agreement_output_is_inert(hostile_ws: Path) -> None:
    for extra in ([], ["--json"]):
        out = run("agreement", *extra, workspace=hostile_ws)
        no_controls(out.stdout + out.stderr)
