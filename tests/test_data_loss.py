"""Issue 15, data loss: a damaged index never costs the texts, damaged databases are salvaged record by
record and rebuilt from the previous version, export never drops a damaged annotator in silence, texts
are checked when read, and temp files are cleaned and never followed through a symlink.

Real workspaces, real files; a restart is closing every store: a command run by conftest's `run_cli` (it
closes what it opened, as a process's end would), or a new process where a kill is part of the story.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_cli
from spans import word_span

from store import CorruptFileError, StoreError, Workspace
from store.db.journal import _OPEN

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = "52f015e52f40b84e"


def _tahqiq(*args: str) -> subprocess.CompletedProcess:
    """`tahqiq ARGS`, in this process; every store it opened closed after (the next command is a restart)."""
    return run_cli(args, cwd=ROOT, timeout=120)


def _one_line_error(run: subprocess.CompletedProcess) -> str:
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    return lines[0]


def _restart(path: Path) -> None:
    """As a new process would: nothing of this workspace cached (every store of it closed)."""
    mine = [key for key in _OPEN if key.startswith(os.path.realpath(path))]
    assert not mine, f"stores still open: {mine}"


def _fifty(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    path = tmp_path / "ws50"
    texts = {f"a{i:02d}": f"نص المقال رقم {i} " * (i + 3) for i in range(50)}
    src = tmp_path / "fifty.jsonl"
    src.write_text("".join(json.dumps({"id": k, "text": v, "title": f"عنوان {k}"}, ensure_ascii=False) + "\n"
                           for k, v in texts.items()), encoding="utf-8")
    ws = Workspace.open(path)
    assert len(ws.import_paths([src]).imported) == 50
    ws.close()
    return path, texts


# ----- 1. an empty or shrunken corpus index ----------------------------------------------------------

@pytest.mark.parametrize("index", ["zero-bytes", "empty-object", "shrunk", "deleted"])
def test_a_damaged_corpus_index_is_refused_and_doctor_rebuilds_it(tmp_path: Path, index: str) -> None:
    path, texts = _fifty(tmp_path)
    corpus, bodies = path / "corpus.json", path / "bodies.bin"
    stored = bodies.read_bytes()
    if index == "zero-bytes":
        corpus.write_bytes(b"")
    elif index == "empty-object":
        corpus.write_bytes(b"{}")
    elif index == "deleted":
        corpus.unlink()
    else:  # an older copy of the index: the first ten articles only
        data = json.loads(corpus.read_text("utf-8"))
        data["articles"] = dict(list(data["articles"].items())[:10])
        corpus.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    listed = _tahqiq("list", "--workspace", str(path))
    line = _one_line_error(listed)
    assert "corpus.json" in line and "tahqiq doctor" in line
    more = tmp_path / "more.jsonl"
    more.write_text(json.dumps({"id": "new1", "text": "نص جديد"}, ensure_ascii=False) + "\n", encoding="utf-8")
    imported = _tahqiq("import", str(more), "--workspace", str(path))
    assert "corpus.json" in _one_line_error(imported)
    with pytest.raises(StoreError):  # what the app does at start on an empty workspace: import the seeds
        ws = Workspace.open(path)
        ws.import_seeds()
    _restart(path)
    assert bodies.read_bytes() == stored  # not one byte of text cut off

    assert _tahqiq("doctor", "--workspace", str(path), "--dry-run").returncode == 1
    assert bodies.read_bytes() == stored
    fixed = _tahqiq("doctor", "--workspace", str(path))
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "rebuilt" in fixed.stdout
    listed = _tahqiq("list", "--workspace", str(path), "--json")
    assert listed.returncode == 0, listed.stderr
    assert [r["id"] for r in json.loads(listed.stdout)] == list(texts)
    ws = Workspace.open(path)
    assert {a.id: a.body for a in ws.articles()} == texts
    assert ws.article("a07").title == "عنوان a07"
    assert ws.import_paths([more]).imported == ["new1"]
    ws.close()
    assert _tahqiq("doctor", "--workspace", str(path)).returncode == 0


def test_an_import_killed_before_its_index_was_written_still_leaves_room(tmp_path: Path) -> None:
    """Texts appended by an import that never wrote corpus.json are not damage: they are set aside, kept."""
    path, texts = _fifty(tmp_path)
    bodies = path / "bodies.bin"
    script = (
        "import sys, os\n"
        "from store import Workspace\n"
        "ws = Workspace.open(sys.argv[1])\n"
        "ws._articles_table.insert_multiple = lambda rows: os._exit(0)  # killed before the index is saved\n"
        "ws.import_paths([sys.argv[2]])\n")
    src = tmp_path / "killed.jsonl"
    line = json.dumps({"id": "lost1", "text": "نص لم يكتمل"}, ensure_ascii=False)
    src.write_text(line + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-c", script, str(path), str(src)], check=True, cwd=ROOT)
    ws = Workspace.open(path)
    assert "lost1" not in {a.id for a in ws.articles()} and len(ws.articles()) == 50
    assert ws.import_paths([src]).imported == ["lost1"]
    assert ws.article("lost1").body == "نص لم يكتمل"
    assert {a.id: a.body for a in ws.articles() if a.id != "lost1"} == texts
    ws.close()
    assert "نص لم يكتمل".encode() in (path / "bodies.bin.orphaned").read_bytes()
    assert bodies.exists() and _tahqiq("doctor", "--workspace", str(path)).returncode == 0


# ----- 2. an empty annotation database -----------------------------------------------------------------

def test_an_empty_annotation_database_is_damage_not_no_annotations(workspace_path: Path) -> None:
    ws = Workspace.open(workspace_path)
    notes = ws.annotations("alice")
    for i in range(5):
        notes.add_claim(ARTICLE, *word_span(ws.article(ARTICLE).body, i))
    ws.close()  # folded into alice.json
    db = workspace_path / "annotations" / "alice.json"
    assert len(json.loads(db.read_text())["annotations"]) == 5
    db.write_bytes(b"")
    ws = Workspace.open(workspace_path)
    with pytest.raises(CorruptFileError) as caught:
        ws.annotations("alice")
    ws.close()
    _restart(workspace_path)
    assert str(db) in str(caught.value) and "\n" not in str(caught.value)
    assert db.read_bytes() == b""  # never written over
    run = _tahqiq("doctor", "--workspace", str(workspace_path), "--dry-run")
    assert run.returncode == 1 and f"problem: {db}" in run.stdout, run.stdout
    assert "ok: 0 article" not in run.stdout and db.read_bytes() == b""
    app = _tahqiq("--workspace", str(workspace_path), "--annotator", "alice")
    assert app.returncode == 1 and str(db) in app.stderr
    assert db.read_bytes() == b""


# ----- 3. the previous version, salvage, read-only ----------------------------------------------------

SAVER = """
import sys, os
from store import Workspace
from conftest import run_cli
from spans import word_span
ws = Workspace.open(sys.argv[1])
notes = ws.annotations("alice")
body = ws.article(sys.argv[2]).body
for i in range(int(sys.argv[3])):
    notes.add_claim(sys.argv[2], *word_span(body, i % 40), note=f"save {sys.argv[4]}-{i}")
if sys.argv[5] == "kill":
    os._exit(0)  # killed: the saves are in the journal only
ws.close()
"""


def _save(path: Path, count: int, tag: str, end: str) -> None:
    subprocess.run([sys.executable, "-c", SAVER, str(path), ARTICLE, str(count), tag, end], check=True,
                   cwd=ROOT, env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'tests'}"})


def _flip_in_record(db: Path, nth: int) -> None:
    """One flipped byte inside the `nth` record of a folded TinyDB file (a ':' becomes ';')."""
    data = bytearray(db.read_bytes())
    at = data.index(f'"{nth}":{{"id":'.encode())
    colon = data.index(b'"article_id":', at) + len(b'"article_id"')
    data[colon] ^= 0x01
    db.write_bytes(bytes(data))
    with pytest.raises(ValueError):
        json.loads(bytes(data))


def test_each_fold_keeps_the_previous_version_and_doctor_rebuilds_from_it(workspace_path: Path) -> None:
    _save(workspace_path, 30, "one", "close")
    _save(workspace_path, 20, "two", "close")
    db = workspace_path / "annotations" / "alice.json"
    prev = db.with_name("alice.json.prev")
    assert len(json.loads(prev.read_text("utf-8"))["annotations"]) == 30  # the fold before the last
    assert len(json.loads(db.read_text("utf-8"))["annotations"]) == 50
    db.write_bytes(db.read_bytes()[: len(db.read_bytes()) // 3])  # cut short: most records unreadable
    assert "restore it from a backup" not in _tahqiq("doctor", "--workspace", str(workspace_path),
                                                     "--dry-run").stdout
    fixed = _tahqiq("doctor", "--workspace", str(workspace_path))
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert list(db.parent.glob("alice.json.damaged-*"))  # the damaged file is kept
    ws = Workspace.open(workspace_path)
    notes = ws.annotations("alice")
    assert len(notes.all()) == 50
    assert sorted(r["attributes"]["note"] for r in notes.all()) == sorted(
        [f"save one-{i}" for i in range(30)] + [f"save two-{i}" for i in range(20)])
    ws.close()


@pytest.mark.parametrize("previous", [True, False])
def test_read_only_and_doctor_keep_every_intact_record_of_a_damaged_database(workspace_path: Path,
                                                                             previous: bool) -> None:
    _save(workspace_path, 420, "folded", "close")
    _save(workspace_path, 100, "journal", "kill")
    db = workspace_path / "annotations" / "alice.json"
    journal = db.with_suffix(".journal")
    assert journal.stat().st_size > 0
    if not previous:  # a database folded by an older version: no previous version to go back to
        for p in db.parent.glob("alice.*prev"):
            p.unlink()
    _flip_in_record(db, 200)
    expect = 520 if previous else 519

    ro = Workspace.open(workspace_path, read_only=True)
    notes = ro.annotations("alice")
    assert len(notes.all()) == expect
    assert notes.damage and str(db) in notes.damage[0]
    ro.close()
    _restart(workspace_path)
    listed = _tahqiq("list", "--workspace", str(workspace_path), "--json", "--all-annotators")  # works, warns
    assert listed.returncode == 0, listed.stderr
    assert "alice" in listed.stderr and str(db) in listed.stderr
    assert sum(r["claims"] for r in json.loads(listed.stdout)) == expect
    listed = _tahqiq("list", "--workspace", str(workspace_path), "--json", "--annotator", "bob")  # a teammate's
    assert listed.returncode == 0, listed.stderr  # own counts: still warned about alice's damaged file
    assert "alice" in listed.stderr and str(db) in listed.stderr
    assert sum(r["claims"] for r in json.loads(listed.stdout)) == 0

    fixed = _tahqiq("doctor", "--workspace", str(workspace_path))
    assert str(db) in fixed.stdout and "repaired" in fixed.stdout, fixed.stdout
    ws = Workspace.open(workspace_path)
    assert len(ws.annotations("alice").all()) == expect  # opens for writing again
    ws.annotations("alice").add_claim(ARTICLE, *word_span(ws.article(ARTICLE).body, 3))
    ws.close()
    assert _tahqiq("doctor", "--workspace", str(workspace_path)).returncode == 0


def test_salvage_parses_a_damaged_tinydb_file_record_by_record() -> None:
    from store.db.journal_format import salvage_tables

    good = {"annotations": {str(i): {"id": f"r{i}", "n": i, "t": "نص"} for i in range(1, 11)},
            "progress": {"1": {"article_id": "x", "state": "done"}}}
    for spaced in (False, True):
        raw = json.dumps(good, ensure_ascii=False, separators=(", ", ": ") if spaced else (",", ":")).encode()
        tables, skipped = salvage_tables(raw)
        assert tables == good and skipped == 0
        at = raw.index(b'"r5"')
        broken = raw[:at] + b"\xff" + raw[at + 1:]  # not UTF-8 any more
        tables, skipped = salvage_tables(broken)
        assert set(tables["annotations"]) == set(good["annotations"]) - {"5"} and skipped == 1
        assert tables["progress"] == good["progress"]
        at = raw.index(b'"r7"') - 1
        broken = raw[:at] + b";" + raw[at + 1:]  # the structure itself
        tables, skipped = salvage_tables(broken)
        assert set(tables["annotations"]) == set(good["annotations"]) - {"7"} and skipped == 1
        tables, _ = salvage_tables(raw[: raw.index(b'"r9"')])  # cut short
        assert set(tables["annotations"]) == {str(i) for i in range(1, 9)}


# ----- 4. export and a damaged annotator ------------------------------------------------------------------

def test_export_refuses_a_damaged_annotator_unless_told_to_skip(annotated_path: Path, tmp_path: Path) -> None:
    ws = Workspace.open(annotated_path)
    bob = ws.annotations("bob")
    body = ws.article(ARTICLE).body
    for i in range(20):
        bob.add_claim(ARTICLE, *word_span(body, 5 + i))
    bob._store._j_off = 0  # noqa: SLF001 - leave the saves in the journal
    ws.close()
    journal = annotated_path / "annotations" / "bob.journal"
    data = bytearray(journal.read_bytes())
    data[data.index(b"\n") + 20] ^= 0x01  # line 2
    journal.write_bytes(bytes(data))
    out = tmp_path / "out.jsonl"

    run = _tahqiq("export", "--workspace", str(annotated_path), "-f", "jsonl", "-o", str(out))
    line = _one_line_error(run)
    assert str(journal) in line and "line 2" in line and "--skip-damaged" in line
    assert not out.exists()
    run = _tahqiq("export", "--workspace", str(annotated_path), "-f", "jsonl", "-o", str(out), "--skip-damaged")
    assert run.returncode == 0, run.stderr
    assert str(journal) in run.stderr and "line 2" in run.stderr and "left out" in run.stderr
    records = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    bobs = [r for r in records if r["annotator"] == "bob"]
    assert sum(len(r["claims"]) for r in bobs) == 1 + 19  # his earlier claim and every intact save
    assert any(r["annotator"] == "alice" for r in records)
    listed = _tahqiq("list", "--workspace", str(annotated_path), "--annotator", "alice")
    assert listed.returncode == 0 and "bob" in listed.stderr and str(journal) in listed.stderr


# ----- 6. texts checked when read --------------------------------------------------------------------------

def test_a_damaged_text_that_is_still_utf8_is_refused_when_read(workspace_path: Path, tmp_path: Path) -> None:
    ws = Workspace.open(workspace_path)
    ws.annotations("alice").add_entity(ARTICLE, *word_span(ws.article(ARTICLE).body, 0), "PER")
    ws.close()
    corpus = json.loads((workspace_path / "corpus.json").read_text("utf-8"))["articles"]
    offset, size = next(r["text_at"] for r in corpus.values() if r["id"] == ARTICLE)[:2]
    bodies = workspace_path / "bodies.bin"
    data = bytearray(bodies.read_bytes())
    space = data.index(b" ", offset, offset + size)
    data[space] = ord("!")  # still valid UTF-8
    bodies.write_bytes(bytes(data))
    show = _tahqiq("show", ARTICLE, "--workspace", str(workspace_path))
    line = _one_line_error(show)
    assert ARTICLE in line and "bodies.bin" in line
    export = _tahqiq("export", "--workspace", str(workspace_path), "-f", "jsonl", "--articles", ARTICLE)
    assert ARTICLE in _one_line_error(export) and export.stdout == ""
    ws = Workspace.open(workspace_path)
    with pytest.raises(CorruptFileError, match=ARTICLE):
        list(ws.iter_bodies())
    other = next(a for a in ws.articles() if a.id != ARTICLE)
    assert other.body  # the others still read
    ws.close()


# ----- 7. temp files -----------------------------------------------------------------------------------------

def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temp_files_are_removed_on_open_and_live_ones_kept(workspace_path: Path) -> None:
    ws = Workspace.open(workspace_path)
    ws.annotations("alice").add_entity(ARTICLE, 0, 3, "ORG")
    ws.close()
    folder = workspace_path / "annotations"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = folder / f".alice.json.{_dead_pid()}-abcd1234.tmp"  # a fold killed half way
        dead.write_bytes((folder / "alice.json").read_bytes())
        alive = folder / f".alice.json.{live.pid}-abcd1234.tmp"  # being written right now
        alive.write_bytes(b"{")
        old = folder / ".alice.json.k2j4h5g6.tmp"  # an older version's name, no pid: by age
        old.write_bytes(b"{")
        os.utime(old, (time.time() - 3600,) * 2)
        fresh = folder / ".alice.json.z9y8x7w6.tmp"
        fresh.write_bytes(b"{")
        other = folder / f".bob.json.{_dead_pid()}-abcd1234.tmp"  # not alice's kind
        other.write_bytes(b"{")
        corpus_tmp = workspace_path / f".corpus.json.{_dead_pid()}-abcd1234.tmp"
        corpus_tmp.write_bytes(b"{")
        ws = Workspace.open(workspace_path)
        ws.annotations("alice").acquire()
        assert not dead.exists() and not old.exists()
        assert alive.exists() and fresh.exists() and other.exists()
        ws.import_paths([])
        assert not corpus_tmp.exists()
        ws.close()
    finally:
        live.kill()
        live.wait()


def test_temp_files_are_created_exclusively_and_carry_the_pid(tmp_path: Path, monkeypatch) -> None:
    from store.db.atomic import write_atomic

    target = tmp_path / "x.json"
    seen = []
    real = os.replace

    def spy(src, dst):
        seen.append(Path(src).name)
        return real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_atomic(target, b"{}")
    monkeypatch.undo()
    assert seen and seen[0].startswith(f".x.json.{os.getpid()}-") and seen[0].endswith(".tmp")


def test_export_never_follows_a_planted_symlink_and_cleans_its_partial_files(annotated_path: Path,
                                                                              tmp_path: Path, monkeypatch) -> None:
    from store.exchange import CODEPOINT, FORMATS, Format, export

    out = tmp_path / "out.jsonl"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    planted = tmp_path / ".out.jsonl.partial"
    planted.symlink_to(victim)
    os.utime(planted, (time.time() - 3600,) * 2, follow_symlinks=False)
    stale = tmp_path / f".out.jsonl.{_dead_pid()}-abcd1234.partial"
    stale.write_text("half an export", encoding="utf-8")
    run = _tahqiq("export", "--workspace", str(annotated_path), "-f", "jsonl", "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert victim.read_text(encoding="utf-8") == "precious"
    assert out.exists() and not out.is_symlink() and json.loads(out.read_text("utf-8").splitlines()[0])
    assert not os.path.lexists(planted) and not stale.exists()

    def broken(stream, handle, ctx):
        handle.write("{\"half\": ")
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(FORMATS, "jsonl", Format("jsonl", broken, CODEPOINT))
    ws = Workspace.open(annotated_path)
    before = out.read_bytes()
    with pytest.raises(OSError):
        export(ws, "jsonl", path=out)
    ws.close()
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.jsonl")] == []
