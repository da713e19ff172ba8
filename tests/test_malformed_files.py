"""Malformed workspace files, one case each (issue 15): every one is a one-line error naming the file and
the line or field, in the command that reads it, never a traceback and never a hang."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from conftest import import_file, until_told

from store import StoreError, Workspace
from store.annotation.labels import load_schema
from store.assist.claim_rules import candidates, parse_rules
from store.assist.suggest import load_patterns
from store.corpus.importer import MAX_TEXT_CHARS
from store.db.journal_format import encode_line
from store.doctor import check
from store.session import SessionState
from store.team.stats import article_rows
from tui.app import make_app
from tui.cli import main
from tui.screens.reader import ReaderScreen

pytestmark = pytest.mark.usefixtures("quiet_waits")  # Pilot waits for the app, not the clock (conftest.py)

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = "f6acadc5c55dd27f"
DEEP = b"[" * 5000 + b"]" * 5000
DEEP_OBJECT = b'{"a":' * 5000 + b"1" + b"}" * 5000
SLOW_REGEX = r"(.|\w)+\d"
"""Backtracks for ever on an Arabic sentence with no digit in it (Python's re never returns)."""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def one_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("tahqiq: error:")]
    assert len(lines) == 1, err
    return lines[0]


def said(err: str) -> str:
    """The one line a command said about a damaged file: an error, or a warning when it went on without it."""
    lines = [line for line in err.splitlines() if line.startswith(("tahqiq: error:", "tahqiq: warning:"))]
    assert len(lines) == 1, err
    return lines[0]


def annotate(path: Path) -> None:
    ws = Workspace.open(path)
    body = ws.article(ARTICLE).body
    start = body.index("المسؤول")
    ws.annotations("alice").add_entity(ARTICLE, start, start + len("المسؤول"), "PER")
    ws.close()


# ----- labels.toml, claim_rules.toml, patterns.jsonl ------------------------------------------------------

def test_credibility_not_a_table_in_labels_toml(workspace_path: Path, capsys) -> None:
    labels = workspace_path / "labels.toml"
    labels.write_text("credibility = 5\n[entities.PER]\nkey = 'p'\n", encoding="utf-8")
    with pytest.raises(StoreError, match=r"labels\.toml:1: field 'credibility'"):
        load_schema(labels)
    code, _, err = run(capsys, "agreement", "--workspace", str(workspace_path))
    assert code == 1 and "labels.toml:1: field 'credibility'" in one_error(err)
    for command in (["export", "--format", "jsonl"], ["list"]):  # what is stored: the default labels, warned
        code, _, err = run(capsys, *command, "--workspace", str(workspace_path))
        assert code == 0 and "labels.toml:1: field 'credibility'" in said(err) and "warning" in said(err)
    code, out, _ = run(capsys, "doctor", "--dry-run", "--workspace", str(workspace_path))
    assert code == 1 and "field 'credibility'" in out


def test_labels_toml_nested_thousands_deep(workspace_path: Path, capsys) -> None:
    (workspace_path / "labels.toml").write_bytes(b"x = " + DEEP + b"\n")
    for command in (["export", "--format", "jsonl"], ["doctor", "--dry-run"], ["agreement"]):
        code, out, err = run(capsys, *command, "--workspace", str(workspace_path))
        assert code == (0 if command[0] == "export" else 1)  # export: a warning, and the default labels
        assert "labels.toml" in out + err and "nested too deeply" in out + err


def test_rules_not_a_table_in_claim_rules_toml(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"claim_rules\.toml:1: field 'rules'"):
        parse_rules("rules = 5\n", tmp_path / "claim_rules.toml")
    with pytest.raises(StoreError, match=r"claim_rules\.toml:2: rules\.x\.regex: expected a string"):
        parse_rules("# one\n[rules.x]\nregex = 5\n", tmp_path / "claim_rules.toml")


def test_invalid_utf8_in_patterns_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "patterns.jsonl"
    path.write_bytes(b'{"label": "PER", "pattern": "x"}\n{"label": "PER", "pattern": "\xff"}\n')
    with pytest.raises(StoreError, match=r"patterns\.jsonl:2: not valid UTF-8"):
        load_patterns(path, ["PER"])
    path.write_bytes(b'{"label": "PER", "pattern": "x"}\n' + DEEP + b"\n")
    with pytest.raises(StoreError, match=r"patterns\.jsonl:2: not JSON \(nested too deeply"):
        load_patterns(path, ["PER"])


# ----- a regex from a file never hangs the app ----------------------------------------------------------

HANG_CHECK = """
import json, sys, time
from pathlib import Path
from store import Workspace
from store.assist.claim_rules import candidates, load_rules
from store.assist.suggest import Suggester
ws = Workspace.open(sys.argv[1])
rules = load_rules(ws.path)
problems = []
began = time.monotonic()
marks = candidates(ws.article(sys.argv[2]).body, rules, problems)
again = candidates(ws.article(sys.argv[2]).body, rules, problems)
suggester = Suggester(ws, "alice")
found = suggester.for_article(sys.argv[2])
print(json.dumps({"problems": problems, "rules": [r.name for r in rules], "marks": len(marks),
                  "again": len(again), "suggester": suggester.take_problems(), "tokens": len(suggester.tokens),
                  "seconds": time.monotonic() - began}))
ws.close()
"""


def test_a_backtracking_regex_in_claim_rules_or_patterns_is_stopped_and_reported_once(workspace_path: Path) -> None:
    (workspace_path / "claim_rules.toml").write_text(
        "[rules.number]\nregex = '[0-9]+'\n\n[rules.slow]\nregex = '" + SLOW_REGEX + "'\n", encoding="utf-8")
    (workspace_path / "patterns.jsonl").write_text(
        json.dumps({"label": "PER", "pattern": [{"REGEX": r"((.|\w)+)+\d"}]}) + "\n", encoding="utf-8")
    # in a child process: before the fix the regex never returned (re holds the interpreter: no in-process timeout)
    result = subprocess.run([sys.executable, "-c", HANG_CHECK, str(workspace_path), ARTICLE], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["problems"] == [f"{workspace_path / 'claim_rules.toml'}:4: rules.slow.regex: took over 0.2 s on "
                                  "one article (a pattern that backtracks without end?); the rule is skipped"]
    assert report["rules"] == ["number"] and report["marks"] == report["again"] > 0
    assert len(report["suggester"]) == 1 and "patterns.jsonl:1: field 'pattern'" in report["suggester"][0]
    assert report["tokens"] == 0 and report["seconds"] < 30


def test_candidates_take_a_slow_rule_out_of_the_list(tmp_path: Path) -> None:
    rules = parse_rules(f"[rules.slow]\nregex = '{SLOW_REGEX}'\n[rules.word]\nwords = ['قال']\n",
                        tmp_path / "claim_rules.toml")
    problems: list[str] = []
    marks = candidates("قال الوزير إن نسبة البطالة ارتفعت إلى ثلاثين في المائة هذا العام.", rules, problems,
                       seconds=0.05)
    assert [m.reasons for m in marks] == [("word",)]
    assert [r.name for r in rules] == ["word"] and len(problems) == 1
    assert "claim_rules.toml:1: rules.slow" in problems[0]


async def test_the_reader_says_once_that_a_claim_rule_was_too_slow(workspace_path: Path) -> None:
    (workspace_path / "claim_rules.toml").write_text(f"[rules.slow]\nregex = '{SLOW_REGEX}'\n", encoding="utf-8")
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(2):
            app.push_screen(ReaderScreen(ARTICLE))
            await pilot.pause()
            app.pop_screen()
            await pilot.pause()
        told = [n.message for n in app._notifications if "rules.slow" in n.message]
        assert len(told) == 1 and "claim_rules.toml:1" in told[0]
    app.workspace.close()


# ----- JSON nested thousands deep, in every JSON file -----------------------------------------------------

@pytest.mark.parametrize("name", ["corpus.json", "annotations/alice.json", "assignments.json",
                                  "suggestions/alice.json", "state/alice.json"])
@pytest.mark.parametrize("deep", [DEEP, DEEP_OBJECT], ids=["arrays", "objects"])
def test_json_nested_thousands_deep(workspace_path: Path, capsys, name: str, deep: bytes) -> None:
    annotate(workspace_path)
    path = workspace_path / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(deep)
    for command in (["list", "--annotator", "alice"], ["export", "--format", "jsonl"], ["agreement"]):
        code, _, err = run(capsys, *command, "--workspace", str(workspace_path))
        if name in ("corpus.json", "annotations/alice.json"):  # (what the commands read)
            assert code in (0, 1) and path.name in said(err) and "nested too deeply" in err
    code, out, _ = run(capsys, "doctor", "--dry-run", "--workspace", str(workspace_path))
    assert code == 1 and "nested too deeply" in out and path.name in out
    assert path.read_bytes() == deep


def test_journal_line_nested_thousands_deep(workspace_path: Path, capsys) -> None:
    annotate(workspace_path)
    journal = workspace_path / "annotations" / "alice.journal"
    journal.write_bytes(b"%08x " % zlib.crc32(DEEP) + DEEP + b"\n")  # checksum-valid
    for command in (["list"], ["export", "--format", "jsonl"], ["agreement"]):
        code, _, err = run(capsys, *command, "--workspace", str(workspace_path))
        assert code in (0, 1) and "alice.journal: line 1: not a journal entry" in said(err)
    code, out, _ = run(capsys, "doctor", "--dry-run", "--workspace", str(workspace_path))
    assert code == 1 and "alice.journal: damaged line(s) 1" in out


# ----- corpus and annotation records without their fields -------------------------------------------------

@pytest.mark.parametrize("record, why", [("x", "not a record"), ({}, "field 'id'"),
                                         ({"id": "a", "text_at": [0, 1, 2, 3], "title": 5}, "field 'title'"),
                                         ({"id": "a", "text_at": [2**63, 1, 1, 1]}, "field 'text_at'")])
def test_a_malformed_corpus_record(workspace_path: Path, capsys, record, why: str) -> None:
    corpus = workspace_path / "corpus.json"
    data = json.loads(corpus.read_bytes())
    data["articles"]["1"] = record
    corpus.write_text(json.dumps(data), encoding="utf-8")
    before = corpus.read_bytes()
    for command in (["list"], ["show", ARTICLE], ["export", "--format", "jsonl"], ["agreement"]):
        code, _, err = run(capsys, *command, "--workspace", str(workspace_path))
        assert code == 1 and f"corpus.json: article record 1: {why}" in one_error(err)
    code, out, _ = run(capsys, "doctor", "--dry-run", "--workspace", str(workspace_path))
    assert code == 1 and why in out
    assert corpus.read_bytes() == before


@pytest.mark.parametrize("record, why", [
    ({}, "field 'id' is missing"),
    ({"id": "x", "article_id": ARTICLE, "kind": "entity", "start": "a", "end": 3, "text": "t", "label": "PER",
      "attributes": {}, "created": "", "updated": ""}, "fields 'start'/'end'"),
    ({"id": "x", "article_id": ARTICLE, "kind": "credibility", "start": None, "end": None, "text": None,
      "label": "CREDIBILITY", "attributes": {"score": "high"}, "created": "", "updated": ""}, "field 'attributes'"),
])
@pytest.mark.parametrize("where", ["database", "journal"])
def test_an_annotation_record_without_its_fields(workspace_path: Path, capsys, record, why: str, where: str) -> None:
    annotate(workspace_path)
    folder = workspace_path / "annotations"
    if where == "database":
        data = json.loads((folder / "alice.json").read_bytes())
        data["annotations"]["7"] = record
        (folder / "alice.json").write_text(json.dumps(data), encoding="utf-8")
        expected = f"alice.json: table 'annotations', record 7: {why}"
    else:
        (folder / "alice.journal").write_bytes(encode_line([["p", "annotations", "7", record]]))  # checksum-valid
        expected = f"alice.journal: line 1: record 7 of table 'annotations': {why}"
    damaged = {p.name: p.read_bytes() for p in folder.iterdir()}
    for command in (["list"], ["export", "--format", "jsonl"], ["agreement"]):
        code, _, err = run(capsys, *command, "--workspace", str(workspace_path))
        assert code in (0, 1) and expected in said(err)
    code, out, _ = run(capsys, "doctor", "--dry-run", "--workspace", str(workspace_path))
    assert code == 1 and ("record 7" in out if where == "database" else "alice.journal: damaged line(s) 1" in out)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == damaged
    ws = Workspace.open(workspace_path, read_only=True)  # looking only: the other records are shown
    try:
        notes = ws.annotations("alice", check=False)
        assert [r["text"] for r in notes.records()] == ["المسؤول"] and expected in notes.damage[0]
    finally:
        ws.close()


def test_doctor_drops_a_journal_line_without_fields_and_keeps_a_copy(workspace_path: Path, capsys) -> None:
    annotate(workspace_path)
    journal = workspace_path / "annotations" / "alice.journal"
    journal.write_bytes(encode_line([["p", "progress", "3", {"state": "done"}]]))
    code, out, _ = run(capsys, "doctor", "--workspace", str(workspace_path))
    assert "repaired" in out and "alice.journal" in out
    assert journal.read_bytes() == b"" and list(journal.parent.glob("alice.journal.bak-*"))
    assert run(capsys, "list", "--workspace", str(workspace_path))[0] == 0


# ----- assignments.json, state, rejected suggestions --------------------------------------------------------

def test_a_truncated_assignments_json_is_told_not_fatal(workspace_path: Path) -> None:
    (workspace_path / "assignments.json").write_text('{"f6acadc5c55dd27f": ["ali', encoding="utf-8")
    ws = Workspace.open(workspace_path)
    try:
        with pytest.raises(StoreError, match="assignments.json: cannot read assignments"):
            article_rows(ws, "alice")
        problems: list[str] = []
        assert len(article_rows(ws, "alice", problems=problems)) == 5
        assert len(problems) == 1 and "assignments.json" in problems[0] and "\n" not in problems[0]
    finally:
        ws.close()


async def test_the_app_starts_on_a_truncated_assignments_json(workspace_path: Path) -> None:
    (workspace_path / "assignments.json").write_text('{"f6acadc5c55dd27f": ["ali', encoding="utf-8")
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        assert any("assignments.json: cannot read assignments" in n.message for n in app._notifications)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReaderScreen)
    app.workspace.close()


def test_a_damaged_state_file_is_told_and_copied_before_it_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "state" / "alice.json"
    path.parent.mkdir()
    path.write_bytes(b'{"theme": "textual-dark", "cur')
    state = SessionState(tmp_path, "alice")
    assert state.problem and "state/alice.json: cannot read" in state.problem and "\n" not in state.problem
    state.set("theme", "textual-light")
    assert (tmp_path / "state" / "alice.json.damaged").read_bytes() == b'{"theme": "textual-dark", "cur'
    assert json.loads(path.read_bytes())["theme"] == "textual-light"
    path.write_text(json.dumps({"library": {"sort": ["x"]}, "theme": "textual-dark"}), encoding="utf-8")
    state = SessionState(tmp_path, "alice")
    assert "field 'library.sort'" in state.problem and state.get("library") is None
    assert state.get("theme") == "textual-dark"


@pytest.mark.parametrize("content", [b'"x"', b"[5]", b"[[1, 2]]", DEEP], ids=["string", "list", "pair", "deep"])
async def test_damaged_rejected_suggestions_are_told(workspace_path: Path, content: bytes) -> None:
    path = workspace_path / "suggestions" / "alice.json"
    path.parent.mkdir()
    path.write_bytes(content)
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(120, 36)) as pilot:
        await app.workers.wait_for_complete()
        app.push_screen(ReaderScreen(ARTICLE))
        await until_told(pilot, app, "suggestions/alice.json")  # (told by the background build)
    app.workspace.close()
    assert path.read_bytes() == content


# ----- imports: Label Studio, JSONL, CSV --------------------------------------------------------------------

def test_label_studio_annotations_not_a_list(workspace_path: Path, tmp_path: Path, capsys) -> None:
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([{"data": {"text": "نص عربي قصير للتجربة."}, "annotations": 5},
                                {"data": {"text": "نص ثان."}, "annotations": [{"result": 5}]}]), encoding="utf-8")
    code, _, err = run(capsys, "import", "--annotator", "A", str(path), "--workspace", str(workspace_path))
    assert code == 1
    assert f"{path}:task[0]: field 'annotations': expected a list, got int" in err
    assert f"{path}:task[1].annotations[0]: field 'result': expected a list, got int" in err


def test_a_deeply_nested_labelled_json_file(workspace_path: Path, tmp_path: Path, capsys) -> None:
    path = tmp_path / "tasks.json"
    path.write_bytes(DEEP)
    code, _, err = run(capsys, "import", "--annotator", "A", str(path), "--workspace", str(workspace_path))
    assert code == 1 and f"{path}: not JSON (nested too deeply" in err


def test_a_deeply_nested_jsonl_line_is_skipped_and_the_import_goes_on(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "articles.jsonl"
    report = import_file(workspace, path, json.dumps({"id": "j1", "text": "نص أول."}).encode() + b"\n" + DEEP + b"\n"
                         + b'{"id": "j3", "text": 1' + b"0" * 5000 + b"}\n"
                         + json.dumps({"id": "j4", "text": "نص رابع."}).encode() + b"\n")
    assert report.imported == ["j1", "j4"]
    assert [str(s)[len(str(path)):][:30] for s in report.skipped] == [":2: not JSON (nested too deepl",
                                                                      ":3: not JSON (Exceeds the limi"]


def test_csv_rows_after_a_bad_row_are_imported(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "articles.csv"
    long = "ن" * (MAX_TEXT_CHARS + 1)
    report = import_file(workspace, path, f"id,text\nr1,نص أول\nr2,{long}\nr3,نص ثالث\nr4,\"نص\nرابع\"\n")
    assert report.imported == ["r1", "r3", "r4"]
    assert [str(s) for s in report.skipped] == [
        f"{path}:3: field 'text': 1,000,001 characters is over the 1,000,000 limit"]


def test_csv_unterminated_quote_is_reported_where_it_begins(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "articles.csv"
    report = import_file(workspace, path, 'id,text\nr1,"سطر\nثان"\nr2,"نص بلا نهاية\nr3,نص ثالث\nr4,نص رابع\n')
    assert report.imported == ["r1", "r3", "r4"]
    assert workspace.article("r1").body == "سطر\nثان" and workspace.article("r3").body == "نص ثالث"
    assert [str(s) for s in report.skipped] == [
        f"{path}:4: bad CSV: this field's opening quote never closes (the rest of the file would be one text); "
        "the rows after this line are read on"]


def test_csv_text_after_a_closing_quote_skips_that_row_only(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "articles.csv"
    report = import_file(workspace, path, 'id,text\nr1,"نص"x\nr2,نص ثان\n')
    assert report.imported == ["r2"]
    assert [str(s) for s in report.skipped] == [f"{path}:2: bad CSV (',' expected after '\"')"]


# ----- doctor reads the app's other files too ----------------------------------------------------------------

@pytest.mark.parametrize("name, content, said", [
    ("keymap.toml", b"keys = 5\n", "keymap.toml: [keys] must map"),
    ("claim_rules.toml", b"rules = 5\n", "claim_rules.toml:1: field 'rules'"),
    ("patterns.jsonl", b"\xff\n", "patterns.jsonl:1: not valid UTF-8"),
    ("assignments.json", b'{"a": [', "assignments.json: cannot read assignments"),
    ("suggestions/alice.json", b"[5]", "suggestions/alice.json: rejected suggestion [0]"),
    ("state/alice.json", DEEP, "state/alice.json: cannot read (nested too deeply"),
])
def test_doctor_checks_the_other_files(workspace_path: Path, name: str, content: bytes, said: str) -> None:
    path = workspace_path / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    problems = [str(f) for f in check(workspace_path, dry_run=True) if f.level == "problem"]
    assert len(problems) == 1 and said in problems[0] and "\n" not in problems[0]
    assert path.read_bytes() == content
