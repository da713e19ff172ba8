"""Every workspace file damaged every which way (issue 15): truncated, emptied, `{}`, `[]`, `"x"`, nested
5,000 deep, invalid UTF-8, a flipped byte, a known field of the wrong type, a huge number. Every command
(`list`, `list --json`, `show`, `export`, `doctor --dry-run`, `agreement`) then ends with exit code 0 or 1,
no traceback, any error one line naming the damaged file, within a time limit, and the damaged file's bytes
unchanged (nothing writes over damaged data). The app starts on each damaged file too."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from conftest import until_told
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import StoreError, Workspace
from store.annotation.labels import DEFAULT_LABELS_TOML
from store.assist.claim_rules import DEFAULT_RULES_TOML
from store.db import journal
from store.db.journal_format import encode_line
from tui.app import make_app
from tui.cli import main
from tui.screens.reader import ReaderScreen

pytestmark = pytest.mark.usefixtures("quiet_waits")  # Pilot waits for the app, not the clock (conftest.py)

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = "f6acadc5c55dd27f"
EXAMPLES = int(os.environ.get("DAMAGE_EXAMPLES", "100"))
SECONDS = 30
"""Time limit of one command (they take well under a second on these five articles)."""
DEEP = b"[" * 5000 + b"]" * 5000
DEEP_OBJECT = b'{"a":' * 5000 + b"1" + b"}" * 5000
HUGE = b"1" + b"0" * 5000

FILES = ["labels.toml", "keymap.toml", "claim_rules.toml", "patterns.jsonl", "corpus.json",
         "annotations/alice.json", "annotations/alice.journal", "state/alice.json", "suggestions/alice.json",
         "assignments.json"]
COMMANDS = [["list", "--annotator", "alice"], ["list", "--json", "--annotator", "alice"],
            ["show", ARTICLE, "--annotator", "alice"], ["export", "--format", "jsonl"], ["doctor", "--dry-run"],
            ["agreement"]]
WRONG = [5, -1, "x", "", [], {}, None, True, 1e308, 10**30, [[[]]], {"a": [1]}, "ن" * 3]
"""Values of the wrong type (or range) for a known field."""
TOML_WRONG = ["5", "-1", '"x"', '""', "[]", "{}", "true", "1e308", "inf", "nan", '[1, "a"]', "{a = 1}"]


def build(path: Path) -> Path:
    """Seeds, two annotators (a database each and a journal line for alice), and every other file the app
    keeps: state, rejected suggestions, assignments, patterns, claim rules, keymap."""
    ws = Workspace.open(path)
    ws.import_seeds()
    ids = [a.id for a in ws.articles()]
    body = ws.article(ARTICLE).body
    start = body.index("المسؤول")
    for name, label, score in (("alice", "PER", 3), ("bob", "ORG", 4)):
        notes = ws.annotations(name)
        notes.add_entity(ARTICLE, start, start + len("المسؤول"), label)
        notes.set_credibility(ARTICLE, score)
        notes.set_state(ARTICLE, "done")
    ws.close()
    other = body.index("بوزارة")
    record = {"id": "j1", "annotator": "alice", "created": "2024-01-01T00:00:00+00:00",
              "updated": "2024-01-01T00:00:00+00:00", "article_id": ARTICLE, "kind": "entity", "start": other,
              "end": other + len("بوزارة"), "text": "بوزارة", "label": "ORG", "attributes": {}}
    with open(path / "annotations" / "alice.journal", "ab") as handle:
        handle.write(encode_line([["p", "annotations", "50", record]]))
    for name, data in (("state/alice.json", {"theme": "textual-dark", "cursors": {ARTICLE: 3},
                                             "library": {"sort": "title", "filters": {"state": "done"}},
                                             "triage": {"queue": ids, "position": 1}, "last_article": ARTICLE}),
                       ("suggestions/alice.json", [[ARTICLE, 0, 3, "PER"]]),
                       ("assignments.json", {i: ["alice", "bob"] for i in ids})):
        (path / name).parent.mkdir(exist_ok=True)
        (path / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (path / "patterns.jsonl").write_text(
        json.dumps({"label": "ORG", "pattern": "الأمم المتحدة"}, ensure_ascii=False) + "\n"
        + json.dumps({"label": "LOC", "pattern": [{"REGEX": "^ال"}, {"IS_DIGIT": False}]}) + "\n", encoding="utf-8")
    (path / "claim_rules.toml").write_text(DEFAULT_RULES_TOML, encoding="utf-8")
    (path / "keymap.toml").write_text('[keys]\nclaim = "k"\n', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("damaged") / "base")


# ----- ways to damage a file --------------------------------------------------------------------------------

def wrong_type(name: str, original: bytes, pick: Any) -> bytes:
    """The file with one known field given a value of the wrong type (`pick` draws from a list)."""
    if name.endswith(".toml"):
        value = pick(TOML_WRONG)
        templates = {
            "labels.toml": ["credibility = {v}\n[entities.PER]\nkey = 'p'\n", "entities = {v}\n",
                            "claims = {v}\n[entities.PER]\nkey = 'p'\n",
                            "nested_entities = {v}\n[entities.PER]\nkey = 'p'\n",
                            "paragraph_direction = {v}\n[entities.PER]\nkey = 'p'\n", "[entities.PER]\nkey = {v}\n",
                            "[entities.PER]\nkey = 'p'\ncolor = {v}\nname = {v}\n",
                            DEFAULT_LABELS_TOML + "\n[claims.extra]\nx = {v}\n",
                            "[entities.PER]\nkey = 'p'\n[credibility]\nindicators = {v}\n"],
            "claim_rules.toml": ["rules = {v}\n", "[rules]\na = {v}\n",
                                 "[rules.a]\nwords = {v}\n", "[rules.a]\nregex = {v}\n"],
            "keymap.toml": ["keys = {v}\n", "[keys]\nclaim = {v}\n", "[keys]\ntag-PER = {v}\nquit = {v}\n"],
        }[name]
        return pick(templates).format(v=value).encode()
    value = pick(WRONG)
    if name.endswith(".journal"):
        record = json.loads(original[9:original.index(b"\n")])[0][3]
        ops = pick([[["p", "annotations", "60", {**record, pick(sorted(record)): value}]],
                    [["p", "annotations", "60", value]],
                    [["p", "progress", "60", {"article_id": ARTICLE, "state": value}]],
                    [["p", value, "60", record]], [["d", "annotations", value]], [value]])
        try:
            return original + encode_line(ops)  # checksum-valid: only the fields are wrong
        except (ValueError, TypeError):
            body = json.dumps(ops).encode()
            return original + b"%08x " % zlib.crc32(body) + body + b"\n"
    if name.endswith(".jsonl"):
        record = {"label": "PER", "pattern": [{"REGEX": "x"}]}
        where = pick(["label", "pattern", "token", "key"])
        if where == "token":
            record["pattern"] = [value]
        elif where == "key":
            record["pattern"] = [{"REGEX": value}]
        else:
            record[where] = value
        return original + json.dumps(record).encode() + b"\n"
    data = json.loads(original)
    if name == "corpus.json":
        key = next(iter(data["articles"]))
        field = pick(["id", "text_at", "title", "title_derived", "source", "date", "byline", "url", "origin", "extra",
                      "body", None, "text_at[0]", "text_at[1]", "text_at[3]"])
        if field is None:
            data["articles"][key] = value
        elif field.startswith("text_at["):
            data["articles"][key]["text_at"][int(field[8])] = value
        else:
            data["articles"][key][field] = value
    elif name == "annotations/alice.json":
        table = pick(["annotations", "progress"])
        key = next(iter(data[table]))
        field = pick(sorted(data[table][key]) + [None] + (["attributes.score"] if table == "annotations" else []))
        if field is None:
            data[table][key] = value
        elif field == "attributes.score":
            data[table][key]["attributes"]["score"] = value
        else:
            data[table][key][field] = value
    elif name == "state/alice.json":
        field = pick(["theme", "cursors", "library", "triage", "last_article", "library.sort",
                      "library.filters", "library.filters.state", "library.reverse", "triage.queue",
                      "triage.position", f"cursors.{ARTICLE}"])
        at = data
        *outer, last = field.split(".")
        for part in outer:
            at = at[part]
        at[last] = value
    elif name == "suggestions/alice.json":
        where = pick([None, 0, 1, 2, 3])
        if where is None:
            data[0] = value
        else:
            data[0][where] = value
    elif name == "assignments.json":
        key = next(iter(data))
        if pick([True, False]):
            data[key] = value
        else:
            data[key][0] = value
    return json.dumps(data, ensure_ascii=False).encode()


@st.composite
def damage(draw) -> tuple[str, str, Any]:
    """(file, how, function of the original bytes giving the damaged ones)."""
    name = draw(st.sampled_from(FILES))
    how = draw(st.sampled_from(["truncated", "empty", "{}", "[]", '"x"', "deep", "deep-object", "utf-8",
                                "flipped", "wrong-type", "huge", "wrong-type"]))
    cut = draw(st.floats(0, 1))
    bit = draw(st.sampled_from([0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80]))

    def pick(options: list) -> Any:
        return draw(st.sampled_from(options))

    def apply(original: bytes) -> bytes:
        at = min(int(len(original) * cut), len(original) - 1)
        if how == "truncated":
            return original[:at]
        if how == "flipped":
            return original[:at] + bytes([original[at] ^ bit]) + original[at + 1:]
        if how == "utf-8":
            return original[:at] + b"\xff\xfe\xc3" + original[at:]
        if how == "wrong-type":
            return wrong_type(name, original, pick)
        fixed = {"empty": b"", "{}": b"{}", "[]": b"[]", '"x"': b'"x"', "deep": DEEP, "deep-object": DEEP_OBJECT,
                 "huge": HUGE}[how]
        if name.endswith((".journal", ".jsonl")) and how != "empty":  # a whole line of it, checksummed for the journal
            return original + (b"%08x " % zlib.crc32(fixed) + fixed if name.endswith(".journal") else fixed) + b"\n"
        return fixed

    return name, how, apply


# ----- running the commands ---------------------------------------------------------------------------------

class Hang(Exception):
    pass


def _alarm(*_: object) -> None:
    raise Hang(f"a command ran over {SECONDS} s")


def run_command(argv: list[str]) -> tuple[int, str, str]:
    """`tahqiq ARGV` in this process, with a time limit; (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return code, out.getvalue(), err.getvalue()


def forget_stores(folder: Path) -> None:
    """Close what a command that stopped on an error left open of `folder` (store.db.journal caches stores)."""
    root = os.path.realpath(folder) + os.sep
    for key, store in list(journal._OPEN.items()):
        if key.startswith(root):
            with contextlib.suppress(Exception):
                store.close()
            journal._OPEN.pop(key, None)


def allowed_error(line: str, name: str) -> bool:
    """An error or warning about damaged `name` must name it (a damaged corpus may also leave an article
    missing, or send the reader to bodies.bin which corpus.json points into)."""
    if Path(name).name in line:
        return True
    return name == "corpus.json" and ("no article with id" in line or "bodies.bin" in line)


def check_damaged(base: Path, folder: Path, name: str, how: str, apply) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(base, folder)
    path = folder / name
    damaged = apply(path.read_bytes())
    path.write_bytes(damaged)
    try:
        for command in COMMANDS:
            argv = [*command, "--workspace", str(folder)]
            try:
                code, out, err = run_command(argv)
            except Hang:
                pytest.fail(f"{name} ({how}): tahqiq {' '.join(command)} hung")
            finally:
                forget_stores(folder)
            what = f"{name} ({how}): tahqiq {' '.join(command)}"
            assert code in (0, 1), f"{what}: exit code {code}\n{err}"
            assert "Traceback" not in out + err, f"{what}: {err}"
            for line in err.splitlines():
                assert line.startswith(("tahqiq: ", "doctor: ")), f"{what}: not one line per message:\n{err}"
                if line.startswith(("tahqiq: error:", "tahqiq: warning:")):
                    assert allowed_error(line, name), f"{what}: an error that does not name {name}: {line}"
            if command[0] == "doctor":
                for line in out.splitlines():
                    assert re.match(r"(ok|note|problem|repaired): ", line), f"{what}: {line}"
            assert path.read_bytes() == damaged, f"{what}: wrote over the damaged {name}"
    finally:
        forget_stores(folder)


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(case=damage())
def test_every_command_on_a_damaged_file(base: Path, tmp_path_factory, case) -> None:
    name, how, apply = case
    check_damaged(base, tmp_path_factory.getbasetemp() / "damaged-case", name, how, apply)


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("how", ["deep", "wrong-type"])
def test_each_file_nested_deep_or_of_the_wrong_type(base: Path, tmp_path: Path, name: str, how: str) -> None:
    """The two damages that crashed most, on every file, whatever hypothesis draws."""
    def first(options: list) -> Any:
        return options[0]

    def apply(original: bytes) -> bytes:
        if how == "wrong-type":
            return wrong_type(name, original, first)
        if name.endswith(".journal"):
            return original + b"%08x " % zlib.crc32(DEEP) + DEEP + b"\n"
        return DEEP + (b"\n" if name.endswith(".jsonl") else b"")

    check_damaged(base, tmp_path / "ws", name, how, apply)


# ----- a few as a user runs them: a new process -------------------------------------------------------------

@pytest.mark.parametrize("name, content", [
    ("corpus.json", b'{"articles": {"1": {}}}'),
    ("annotations/alice.json", DEEP_OBJECT),
    ("labels.toml", b"credibility = 5\n[entities.PER]\nkey = 'p'\n"),
])
def test_in_a_new_process(base: Path, tmp_path: Path, name: str, content: bytes) -> None:
    folder = tmp_path / "ws"
    shutil.copytree(base, folder)
    (folder / name).write_bytes(content)
    for command in (["list"], ["export", "--format", "jsonl"], ["doctor", "--dry-run"]):
        result = subprocess.run([sys.executable, "-m", "tui.cli", *command, "--workspace", str(folder)], cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode in (0, 1) and "Traceback" not in result.stdout + result.stderr, result.stderr
        said = [line for line in result.stderr.splitlines() if line.startswith(("tahqiq: error", "tahqiq: warning"))]
        assert all(Path(name).name in line for line in said), result.stderr
    assert (folder / name).read_bytes() == content


# ----- the app starts on each damaged file -------------------------------------------------------------------

APP_CASES = {
    "labels.toml": b"credibility = 5\n[entities.PER]\nkey = 'p'\n",
    "keymap.toml": b"keys = 5\n",
    "claim_rules.toml": b"rules = 5\n",
    "patterns.jsonl": DEEP + b"\n",
    "corpus.json": b'{"articles": {"1": {}}}',
    "annotations/alice.json": b'{"annotations": {"1": {}}}',
    "annotations/alice.journal": encode_line([["p", "annotations", "9", {"kind": "entity"}]]),
    "state/alice.json": b'{"theme": "textual-dark", "cur',
    "suggestions/alice.json": b'"x"',
    "assignments.json": b'{"f6acadc5c55dd27f": ["ali',
}


@pytest.mark.parametrize("name", FILES)
async def test_the_app_starts_on_a_damaged_file(base: Path, tmp_path: Path, name: str) -> None:
    """As `tahqiq` does: a file the app cannot do without (labels, corpus, the annotator's own database) is a
    one-line error before the screen opens; any other is told in a notification, and the app goes on."""
    folder = tmp_path / "ws"
    shutil.copytree(base, folder)
    path = folder / name
    path.write_bytes(APP_CASES[name])
    workspace = None
    try:
        try:  # what cmd_app does before the screen opens
            workspace = Workspace.open(folder)
            workspace.schema  # noqa: B018
            workspace.annotations("alice").acquire()
        except StoreError as exc:
            assert Path(name).name in str(exc) and "\n" not in str(exc)
            assert name in ("labels.toml", "corpus.json", "annotations/alice.json", "annotations/alice.journal")
            return
        app = make_app(workspace, "alice")
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            await app.workers.wait_for_complete()
            app.push_screen(ReaderScreen(ARTICLE))
            await until_told(pilot, app, Path(name).name)  # (some are told by the background build)
            assert isinstance(app.screen, ReaderScreen)
    finally:
        if workspace is not None:
            workspace.close()
        forget_stores(folder)
    if name == "state/alice.json":  # replaced by the app, but only after a copy was kept
        assert (folder / "state" / "alice.json.damaged").read_bytes() == APP_CASES[name]
    else:
        assert path.read_bytes() == APP_CASES[name]
