"""What the user sees when the disk or a file fails: saves kept in memory until the disk takes them, damaged
files opened read-only (and left as they are), a second login refused, and `tahqiq doctor` repairing."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli
from spans import word_span

from store import CorruptFileError, StoreError, Workspace
from tui.app import make_app
from tui.screens.reader import ReaderScreen

pytestmark = pytest.mark.usefixtures("quiet_waits")  # Pilot waits for the app, not the clock (conftest.py)

ARTICLE = "52f015e52f40b84e"
ROOT = Path(__file__).resolve().parent.parent


def _disk_full(monkeypatch) -> None:
    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(os, "write", full)


def _damage_journal(workspace_path: Path, saves: int = 3) -> Path:
    """alice with `saves` saves in her journal, then one bit flipped in line 2 (the database is not folded)."""
    ws = Workspace.open(workspace_path)
    notes = ws.annotations("alice")
    for i in range(saves):
        notes.add_claim(ARTICLE, *word_span(ws.article(ARTICLE).body, i))
    notes._store._j_off = 0  # noqa: SLF001 - close without folding, so the saves stay in the journal
    ws.close()
    journal = workspace_path / "annotations" / "alice.journal"
    data = bytearray(journal.read_bytes())
    data[data.index(b"\n") + 20] ^= 0x01
    journal.write_bytes(bytes(data))
    return journal


def test_a_save_the_disk_refuses_is_kept_in_memory_and_written_later(workspace_path: Path, monkeypatch) -> None:
    ws = Workspace.open(workspace_path)
    ws.keep_unsaved = True
    notes = ws.annotations("alice")
    journal = workspace_path / "annotations" / "alice.journal"
    first = notes.add_entity(ARTICLE, 0, 3, "ORG")
    before = journal.read_bytes()
    _disk_full(monkeypatch)
    kept = notes.add_claim(ARTICLE, *word_span(ws.article(ARTICLE).body, 3))  # no exception: the work goes on
    assert notes.unsaved == 1 and "No space left on device" in notes.save_error
    assert {r["id"] for r in notes.all()} == {first["id"], kept["id"]}  # shown as made
    assert ws.flush() is not None and notes.unsaved == 1  # still full
    monkeypatch.undo()
    assert journal.read_bytes() == before  # nothing half-written meanwhile
    assert ws.flush() is None and notes.unsaved == 0 and notes.save_error is None
    ws.close()
    again = Workspace.open(workspace_path)
    assert {r["id"] for r in again.annotations("alice").all()} == {first["id"], kept["id"]}
    again.close()


def test_an_export_while_the_disk_refuses_saves_holds_the_work_kept_in_memory(workspace_path: Path,
                                                                              monkeypatch) -> None:
    import io
    import json

    from store.exchange import export

    ws = Workspace.open(workspace_path)
    ws.keep_unsaved = True
    notes = ws.annotations("alice")
    saved = notes.add_entity(ARTICLE, 0, 3, "ORG")
    _disk_full(monkeypatch)
    kept = notes.add_claim(ARTICLE, *word_span(ws.article(ARTICLE).body, 3))
    assert notes.unsaved == 1
    out = io.StringIO()
    export(ws, "jsonl", out=out, annotators=["alice"])
    monkeypatch.undo()
    ws.close()
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    exported = {a["id"] for r in records for a in r["entities"] + r["claims"]}
    assert {saved["id"], kept["id"]} <= exported, out.getvalue()[:500]


def test_a_damaged_journal_opens_read_only_as_far_as_it_is_whole(workspace_path: Path) -> None:
    journal = _damage_journal(workspace_path)
    damaged = journal.read_bytes()
    with pytest.raises(CorruptFileError):
        Workspace.open(workspace_path).annotations("alice")
    ro = Workspace.open(workspace_path, read_only=True)
    notes = ro.annotations("alice")
    assert len(notes.all()) == 2  # lines 1 and 3
    assert len(notes.damage) == 1 and "line 2" in notes.damage[0] and str(journal) in notes.damage[0]
    with pytest.raises(StoreError, match="read-only"):
        notes.add_entity(ARTICLE, 0, 3, "ORG")
    ro.close()
    assert journal.read_bytes() == damaged


def test_another_annotators_damaged_file_is_shown_not_fatal(workspace_path: Path) -> None:
    _damage_journal(workspace_path)
    ws = Workspace.open(workspace_path)
    assert len(ws.annotations("alice", check=False).all()) == 2  # only looking (library counts)
    assert "line 2" in ws.damaged["alice"][0]
    ws.annotations("bob").add_entity(ARTICLE, 0, 3, "ORG")  # everyone else works as usual
    ws.close()


async def test_the_app_keeps_tagging_on_a_full_disk_and_saves_when_it_can(workspace_path: Path,
                                                                          monkeypatch) -> None:
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(120, 30)) as pilot:
        app.push_screen(ReaderScreen(ARTICLE))
        await pilot.pause()
        _disk_full(monkeypatch)
        await pilot.press("p")
        await pilot.pause()
        notes = app.workspace.annotations("alice")
        assert [r["label"] for r in notes.for_article(ARTICLE)] == ["PER"] and notes.unsaved == 1
        assert any("No space left" in n.message for n in app._notifications)  # noqa: SLF001
        await pilot.press("ctrl+q")  # refused once: the change is not on disk
        await pilot.pause()
        assert app.is_running
        assert any("press ctrl+q again" in n.message for n in app._notifications)  # noqa: SLF001
        monkeypatch.undo()
        app.check_saved()  # what the 2-second timer does
        assert notes.unsaved == 0
        await pilot.press("ctrl+q")
    app.workspace.close()
    again = Workspace.open(workspace_path)
    assert [r["label"] for r in again.annotations("alice").for_article(ARTICLE)] == ["PER"]
    again.close()


def _doctor(*args: str) -> subprocess.CompletedProcess:
    """`tahqiq doctor ARGS` in this process."""
    return run_cli(["doctor", *args], cwd=ROOT)


def _tahqiq(*args: str, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    """`tahqiq ARGS` as a new process: the app's start, which must not be run in this one."""
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          stdin=stdin, timeout=60)


def test_the_app_names_the_damaged_file_and_doctor_repairs_it(workspace_path: Path) -> None:
    journal = _damage_journal(workspace_path)
    damaged = journal.read_bytes()
    run = _tahqiq("--workspace", str(workspace_path), "--annotator", "alice")
    assert run.returncode == 1
    first, hint = run.stderr.strip().splitlines()
    assert str(journal) in first and "line 2" in first and "checksum" in first
    assert "--read-only" in hint and "tahqiq doctor" in hint
    assert journal.read_bytes() == damaged

    check = _doctor("--workspace", str(workspace_path), "--dry-run")
    assert check.returncode == 1 and "line(s) 2" in check.stdout and journal.read_bytes() == damaged
    fix = _doctor("--workspace", str(workspace_path))
    assert fix.returncode == 0, fix.stdout + fix.stderr
    backups = list(journal.parent.glob("alice.journal.bak-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == damaged  # the damaged file is kept
    ws = Workspace.open(workspace_path)
    assert len(ws.annotations("alice").all()) == 2
    ws.close()
    assert _doctor("--workspace", str(workspace_path)).returncode == 0


def test_doctor_lists_annotations_whose_text_no_longer_matches(workspace_path: Path) -> None:
    ws = Workspace.open(workspace_path)
    notes = ws.annotations("alice")
    row = notes.add_entity(ARTICLE, 0, 3, "ORG")
    notes.replace({**row, "text": "غير"})  # as if the stored text and the body had drifted apart
    ws.close()
    run = _doctor("--workspace", str(workspace_path))
    assert run.returncode == 1
    assert "1 annotation(s) no longer match" in run.stdout and f"article {ARTICLE}, 0-3" in run.stdout
    again = Workspace.open(workspace_path)
    assert again.annotations("alice").get(row["id"])["start"] == 0  # listed, never shifted
    again.close()


def test_a_second_login_as_the_same_annotator_is_refused_at_start(workspace_path: Path) -> None:
    ws = Workspace.open(workspace_path)
    ws.annotations("alice").acquire()
    try:
        run = _tahqiq("--workspace", str(workspace_path), "--annotator", "alice")
    finally:
        ws.close()
    assert run.returncode == 1
    assert run.stderr.strip() == f"tahqiq: error: annotator alice is already open in process {os.getpid()} on " \
                                 f"{os.uname().nodename}"
