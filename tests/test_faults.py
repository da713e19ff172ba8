"""Faults: kill -9 at random instants (saves, folds, imports, exports), a full disk, a read-only folder.

After every kill the workspace opens, `tahqiq doctor` finds no problem left, and every save (import,
export) that returned before the kill is there. The whole module runs in well under a minute.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from spans import word_span

from store import StoreError, Workspace, doctor
from store.exchange import export

ARTICLE = "52f015e52f40b84e"
ROOT = Path(__file__).resolve().parent.parent


def _run_and_kill(script: str, args: list[str], rng: random.Random, at_least: int = 1,
                  window: tuple[float, float] = (0.05, 0.6)) -> list[str]:
    """Run `script`, kill -9 it at a random instant after it printed `at_least` lines; every line it printed."""
    proc = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    lines: list[str] = []
    done = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            if line.endswith("\n"):  # a line the kill cut short was never fully reported
                lines.append(line.strip())
        done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 20
    while len(lines) < at_least and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    time.sleep(rng.uniform(*window))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done.wait(5)
    return [line for line in lines if line]


def _healthy(path: Path) -> None:
    findings = doctor.check(path)
    problems = [str(f) for f in findings if f.level == "problem"]
    assert not problems, problems


SAVER = """
import random, sys
from store import Workspace
from store.db import journal
journal.FOLD_BYTES = 2500            # fold every dozen saves: kills land in folds too
ws = Workspace.open(sys.argv[1])
notes = ws.annotations("crash")
rng = random.Random(int(sys.argv[3]))
import re
words = [m.span() for m in re.finditer(r"\\w+", ws.article(sys.argv[2]).body)]
mine = [r["id"] for r in notes.all()]
print("start", flush=True)
while True:
    op = rng.random()
    if op < 0.6 or not mine:
        rid = notes.add_claim(sys.argv[2], *rng.choice(words))["id"]
        mine.append(rid)
        print("add", rid, flush=True)
    elif op < 0.8:
        rid = rng.choice(mine)
        print("upd?", rid, flush=True)
        notes.update(rid, attributes={"note": "x"})
        print("upd", rid, flush=True)
    else:
        rid = mine.pop(rng.randrange(len(mine)))
        print("rm?", rid, flush=True)
        notes.remove(rid)
        print("rm", rid, flush=True)
    if rng.random() < 0.05:
        notes._store.fold()           # and explicit folds, in the foreground
"""


def test_kill_9_during_saves_and_folds_never_loses_a_returned_save(workspace_path: Path) -> None:
    rng = random.Random(9)
    present: set[str] = set()
    absent: set[str] = set()
    updated: set[str] = set()
    for round_ in range(12):
        lines = _run_and_kill(SAVER, [str(workspace_path), ARTICLE, str(round_)], rng, at_least=2)
        unsure: set[str] = set()
        for line in lines[1:]:
            kind, rid = line.split()
            if kind == "add":
                present.add(rid)
            elif kind == "rm?":
                unsure.add(rid)
            elif kind == "rm":
                unsure.discard(rid)
                present.discard(rid)
                absent.add(rid)
            elif kind == "upd":
                updated.add(rid)
        ws = Workspace.open(workspace_path)
        rows = {r["id"]: r for r in ws.annotations("crash").all()}
        ws.close()
        assert present - unsure <= set(rows), f"round {round_}: lost {len(present - unsure - set(rows))} saves"
        assert not (absent & set(rows)), f"round {round_}: a removal came back"
        assert all(rows[r]["attributes"] == {"note": "x"} for r in updated if r in rows)
        present = (present - unsure) | (unsure & set(rows))
        _healthy(workspace_path)
    assert len(present) > 20


IMPORTER = """
import sys
from pathlib import Path
from store import Workspace
from store.corpus import intake
intake.IMPORT_BATCH = 40
ws = Workspace.open(sys.argv[1])
for path in sorted(Path(sys.argv[2]).glob("*.jsonl")):
    report = ws.import_paths([path])
    print(path.stem, len(report.imported), flush=True)
"""


def test_kill_9_during_imports_keeps_every_returned_import(tmp_path: Path) -> None:
    rng = random.Random(8)
    ws_path = tmp_path / "ws"
    Workspace.open(ws_path).close()
    texts: dict[str, str] = {}
    returned: set[str] = set()
    for round_ in range(6):
        src = tmp_path / f"src{round_}"
        src.mkdir()
        for f in range(6):
            lines = []
            for i in range(150):
                aid = f"r{round_}f{f}a{i}"
                texts[aid] = f"نص المقال {aid} " * rng.randint(5, 60)
                lines.append(json.dumps({"id": aid, "text": texts[aid], "title": aid}, ensure_ascii=False))
            (src / f"{f}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        done = _run_and_kill(IMPORTER, [str(ws_path), str(src)], rng, at_least=1, window=(0.0, 0.4))
        returned |= {f"r{round_}f{line.split()[0]}a{i}" for line in done for i in range(150)}
        ws = Workspace.open(ws_path)
        have = {a.id: a for a in ws.articles()}
        assert returned <= set(have), f"round {round_}: lost {len(returned - set(have))} imported articles"
        for aid, article in have.items():  # every article that is there is whole
            assert article.body == texts[aid]
        assert dict(ws.iter_bodies()) == {aid: texts[aid] for aid in have}
        ws.close()
        _healthy(ws_path)


EXPORTER = """
import sys
from store import Workspace
from store.exchange import export
ws = Workspace.open(sys.argv[1])
i = 0
while True:
    export(ws, sys.argv[3], path=sys.argv[2])
    print(i, flush=True)
    i += 1
"""


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_kill_9_during_exports_leaves_the_old_file_or_the_new_one(
        workspace_path: Path, tmp_path: Path, fmt: str) -> None:
    ws = Workspace.open(workspace_path)
    notes = ws.annotations("alice")
    for i in range(300):
        notes.add_claim(ARTICLE, *word_span(ws.article(ARTICLE).body, i), note="ملاحظة " * 20)
    ws.close()
    target = tmp_path / f"out.{fmt}"
    reference = tmp_path / f"reference.{fmt}"
    with _open(workspace_path) as ws2:
        export(ws2, fmt, path=reference)
    rng = random.Random(7)
    for _ in range(5):
        _run_and_kill(EXPORTER, [str(workspace_path), str(target), fmt], rng, at_least=0, window=(0.3, 1.0))
        if target.exists():
            assert target.read_bytes() == reference.read_bytes()
        _healthy(workspace_path)


class _open:  # noqa: N801 - a tiny context manager for a workspace
    def __init__(self, path: Path) -> None:
        self.ws = Workspace.open(path)

    def __enter__(self) -> Workspace:
        return self.ws

    def __exit__(self, *exc: object) -> None:
        self.ws.close()


# ----- a full disk, a failing fsync, a read-only folder ------------------------------------------------

def _fail(err: int):
    def raiser(*args, **kwargs):
        raise OSError(err, os.strerror(err))
    return raiser


@pytest.mark.parametrize("what", ["write", "fdatasync", "short-write"])
def test_disk_full_during_a_save_is_one_clear_error_and_nothing_half_written(
        workspace_path: Path, monkeypatch, what: str) -> None:
    ws = Workspace.open(workspace_path)
    notes = ws.annotations("alice")
    kept = notes.add_entity(ARTICLE, 0, 3, "ORG")
    jl = workspace_path / "annotations" / "alice.journal"
    before = jl.read_bytes()
    real_write = os.write
    if what == "short-write":
        calls = []

        def short(fd, data):  # half the line lands, then the disk is full
            if calls:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            calls.append(1)
            return real_write(fd, bytes(data)[: len(data) // 2])
        monkeypatch.setattr(os, "write", short)
    else:
        monkeypatch.setattr(os, what, _fail(errno.ENOSPC))
    with pytest.raises(StoreError) as caught:
        notes.add_claim(ARTICLE, *word_span(ws.article(ARTICLE).body, 2))
    monkeypatch.undo()
    message = str(caught.value)
    assert "No space left on device" in message and str(jl) in message and "\n" not in message
    assert jl.read_bytes() == before  # nothing half-written
    assert [r["id"] for r in notes.all()] == [kept["id"]]  # nor applied in memory
    notes.add_claim(ARTICLE, *word_span(ws.article(ARTICLE).body, 2))  # the disk has room again: saving works
    ws.close()
    again = Workspace.open(workspace_path)
    assert len(again.annotations("alice").all()) == 2
    again.close()
    _healthy(workspace_path)


def test_disk_full_while_folding_keeps_every_save_in_the_journal(workspace_path: Path, monkeypatch) -> None:
    ws = Workspace.open(workspace_path)
    notes = ws.annotations("alice")
    for i in range(10):
        notes.add_claim(ARTICLE, *word_span(ws.article(ARTICLE).body, i))
    db = workspace_path / "annotations" / "alice.json"
    before = db.read_bytes()
    monkeypatch.setattr(os, "fsync", _fail(errno.ENOSPC))
    with pytest.raises(StoreError, match="No space left on device"):
        notes._store.fold()  # noqa: SLF001
    ws.close()  # folds again on close, fails quietly: the journal still has everything
    monkeypatch.undo()
    assert db.read_bytes() == before
    assert not list(db.parent.glob(".*.tmp"))
    again = Workspace.open(workspace_path)
    assert len(again.annotations("alice").all()) == 10
    again.close()


def test_disk_full_during_an_import_changes_nothing(workspace: Workspace, tmp_path: Path, monkeypatch) -> None:
    src = tmp_path / "a.jsonl"
    src.write_text(json.dumps({"id": "full1", "text": "نص " * 100}, ensure_ascii=False) + "\n", encoding="utf-8")
    corpus = workspace.corpus_path.read_bytes()
    monkeypatch.setattr(os, "fsync", _fail(errno.ENOSPC))
    with pytest.raises(StoreError, match="No space left on device"):
        workspace.import_paths([src])
    monkeypatch.undo()
    assert workspace.corpus_path.read_bytes() == corpus
    assert "full1" not in {a.id for a in workspace.articles()}
    assert workspace.import_paths([src]).imported == ["full1"]
    assert workspace.article("full1").body == "نص " * 100


def test_a_read_only_folder_is_a_clear_error(workspace_path: Path, monkeypatch) -> None:
    """Read-only: simulated with EROFS from every open-for-writing under the workspace (root ignores
    permission bits), and with real permission bits when not running as root."""
    ws = Workspace.open(workspace_path)
    notes = ws.annotations("alice")
    assert notes.all() == []
    real_open = os.open

    def ro_open(path, flags, *args, **kwargs):
        if str(path).startswith(str(workspace_path)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)
    monkeypatch.setattr(os, "open", ro_open)
    with pytest.raises(StoreError) as caught:
        notes.add_entity(ARTICLE, 0, 3, "ORG")
    assert "Read-only file system" in str(caught.value) and "\n" not in str(caught.value)
    assert ws.article(ARTICLE).body  # reading still works
    monkeypatch.undo()
    ws.close()
    if os.geteuid() != 0:
        folder = workspace_path / "annotations"
        folder.chmod(0o555)
        try:
            ro = Workspace.open(workspace_path)
            with pytest.raises(StoreError, match="Permission denied"):
                ro.annotations("carol").add_entity(ARTICLE, 0, 3, "ORG")
        finally:
            folder.chmod(0o755)
