"""The annotation journal: cheap saves, folding, one writer per annotator, readers that keep up."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from spans import word_span
from tinydb import TinyDB

from store import CorruptFileError, StoreError, Workspace
from store.corpus.bodies import BODIES_FILE
from store.db import journal

ARTICLE = "52f015e52f40b84e"
ROOT = Path(__file__).resolve().parent.parent


def _files(ws: Workspace, name: str) -> tuple[Path, Path]:
    db = ws.path / "annotations" / f"{name}.json"
    return db, db.with_suffix(".journal")


def test_a_save_appends_to_the_journal_and_leaves_the_database_and_corpus_alone(workspace: Workspace) -> None:
    notes = workspace.annotations("alice")
    notes.add_entity(ARTICLE, 0, 3, "ORG")  # first save: takes the lock, creates the journal
    db, jl = _files(workspace, "alice")
    before_db, before_corpus, before_bodies = db.stat(), workspace.corpus_path.stat(), workspace.bodies_path.stat()
    size = jl.stat().st_size
    notes.add_claim(ARTICLE, *word_span(workspace.article(ARTICLE).body, 4))
    notes.set_credibility(ARTICLE, 2)
    assert jl.stat().st_size > size
    for path, old in ((db, before_db), (workspace.corpus_path, before_corpus), (workspace.bodies_path, before_bodies)):
        new = path.stat()
        assert (new.st_ino, new.st_mtime_ns, new.st_size) == (old.st_ino, old.st_mtime_ns, old.st_size), path
    line = jl.read_bytes().splitlines()[-1]
    assert json.loads(line[9:])[0][0] == "p"  # CRC, space, a list of operations


def test_close_folds_into_a_plain_tinydb_file(workspace_path: Path) -> None:
    ws = Workspace.open(workspace_path)
    notes = ws.annotations("alice")
    ids = [notes.add_claim(ARTICLE, *word_span(ws.article(ARTICLE).body, i))["id"] for i in range(20)]
    notes.remove(ids[3])
    notes.set_state(ARTICLE, "done")
    expected = notes.all()
    ws.close()
    db, jl = _files(ws, "alice")
    assert jl.read_bytes() == b""
    with TinyDB(db) as plain:  # TinyDB's own JSONStorage reads what we folded
        assert [dict(d) for d in plain.table("annotations").all()] == expected
        assert plain.table("progress").all()[0]["state"] == "done"
    again = Workspace.open(workspace_path)
    assert again.annotations("alice").all() == expected and again.annotations("alice").state(ARTICLE) == "done"
    again.close()


def test_background_fold_past_the_threshold_keeps_every_save(workspace_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(journal, "FOLD_BYTES", 3000)
    ws = Workspace.open(workspace_path)
    notes = ws.annotations("alice")
    ids = [notes.add_claim(ARTICLE, *word_span(ws.article(ARTICLE).body, i), note=str(i))["id"] for i in range(200)]
    store = notes._store  # noqa: SLF001
    if store._fold_thread is not None:  # noqa: SLF001
        store._fold_thread.join()  # noqa: SLF001
    db, jl = _files(ws, "alice")
    assert jl.stat().st_size < 200 * 200  # folded at least once
    assert len(json.loads(db.read_text())["annotations"]) > 0
    assert [r["id"] for r in notes.all()] == ids
    # a fresh reader (as another process would) sees the same
    journal._OPEN.clear()  # noqa: SLF001 - forget the shared store to force a read from disk
    reread = journal.JournalStore(db, "alice", {"annotations": ("id", "article_id")})
    assert [r["id"] for r in reread.tables["annotations"].values()] == ids
    journal._OPEN[os.path.realpath(db)] = store  # noqa: SLF001
    ws.close()


def test_a_background_fold_runs_without_garbage_collections(workspace_path: Path, monkeypatch) -> None:
    """A fold makes hundreds of thousands of short-lived objects; the full collections they set off walked every
    record the process holds while a save waited (100-120 ms at 200,000 annotations): none runs during a fold."""
    import gc
    import threading

    monkeypatch.setattr(journal, "FOLD_BYTES", 3000)
    collected: list[str] = []

    def seen(phase: str, info: dict) -> None:
        if phase == "start":
            frame, folding = sys._getframe(1), False  # noqa: SLF001 - is `JournalStore._fold` running in this thread?
            while frame is not None and not folding:
                folding, frame = frame.f_code is journal.JournalStore._fold.__code__, frame.f_back  # noqa: SLF001
            collected.append(f"{threading.current_thread().name}{' folding' if folding else ''}")

    thresholds = gc.get_threshold()
    gc.set_threshold(5, 1, 1)  # (a collection every few allocations, in whichever thread makes them)
    gc.callbacks.append(seen)
    try:
        ws = Workspace.open(workspace_path)
        notes = ws.annotations("alice")
        for i in range(100):
            notes.add_claim(ARTICLE, *word_span(ws.article(ARTICLE).body, i), note=str(i))
        store = notes._store  # noqa: SLF001
        folds = 0
        while store._fold_thread is not None and folds < 3:  # noqa: SLF001
            store._fold_thread.join()  # noqa: SLF001
            folds += 1
            if folds < 3:
                notes.add_claim(ARTICLE, *word_span(ws.article(ARTICLE).body, 100 + folds), note="more")
        ws.close()
    finally:
        gc.callbacks.remove(seen)
        gc.set_threshold(*thresholds)
    assert folds and "MainThread" in collected  # (collections did run, between the folds)
    assert not [name for name in collected if name.endswith(" folding")]


def test_a_background_fold_switches_threads_often_while_it_runs(workspace_path: Path, monkeypatch) -> None:
    """A save that gave up the interpreter for its write waits at most FOLD_SWITCH_INTERVAL to get it back from a
    background fold (Python's 5 ms otherwise); the interval is Python's again after the fold."""
    monkeypatch.setattr(journal, "FOLD_BYTES", 3000)
    fold, seen = journal.JournalStore.fold, []

    def watched(self, *args, **kwargs):
        seen.append(sys.getswitchinterval())
        return fold(self, *args, **kwargs)

    monkeypatch.setattr(journal.JournalStore, "fold", watched)
    before = sys.getswitchinterval()
    ws = Workspace.open(workspace_path)
    notes = ws.annotations("alice")
    for i in range(60):
        notes.add_claim(ARTICLE, *word_span(ws.article(ARTICLE).body, i), note=str(i))
    store = notes._store  # noqa: SLF001
    if store._fold_thread is not None:  # noqa: SLF001
        store._fold_thread.join()  # noqa: SLF001
    assert seen and seen[0] == journal.FOLD_SWITCH_INTERVAL < before
    assert sys.getswitchinterval() == before
    ws.close()


HOLDER = """
import sys, time
from store import Workspace
ws = Workspace.open(sys.argv[1])
ws.annotations("alice").acquire()
print("ready", flush=True)
time.sleep(60)
"""


def test_a_second_process_is_refused_and_a_killed_one_leaves_no_stale_lock(workspace_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(workspace_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        ws = Workspace.open(workspace_path)
        notes = ws.annotations("alice")  # reading is fine
        assert notes.all() == []
        expected = f"annotator alice is already open in process {proc.pid} on {socket.gethostname()}"
        with pytest.raises(StoreError, match=expected):
            notes.add_entity(ARTICLE, 0, 3, "ORG")
        with pytest.raises(StoreError, match=expected):
            notes.acquire()
        ws.annotations("bob").add_entity(ARTICLE, 0, 3, "ORG")  # other annotators are not affected
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        notes.add_entity(ARTICLE, 0, 3, "ORG")  # the lock died with the process
        assert len(notes.all()) == 1
        ws.close()
    finally:
        proc.kill()
        proc.wait()


def test_the_same_annotator_twice_in_one_process_shares_one_writer(workspace_path: Path) -> None:
    a, b = Workspace.open(workspace_path), Workspace.open(workspace_path)
    first = a.annotations("alice").add_entity(ARTICLE, 0, 3, "ORG")
    second = b.annotations("alice").add_claim(ARTICLE, *word_span(b.article(ARTICLE).body, 3))
    assert {r["id"] for r in a.annotations("alice").all()} == {first["id"], second["id"]}
    a.close()
    # still writable after the other closed
    b.annotations("alice").add_claim(ARTICLE, *word_span(b.article(ARTICLE).body, 6))
    b.close()
    c = Workspace.open(workspace_path)
    assert len(c.annotations("alice").all()) == 3
    c.close()


WRITER = """
import sys, time
from store import Workspace
from store.db import journal
journal.FOLD_BYTES = int(sys.argv[3])
ws = Workspace.open(sys.argv[1])
notes = ws.annotations("bob")
import re
WORDS = [m.span() for m in re.finditer(r"\\w+", ws.article(sys.argv[2]).body)]
for i in range(int(sys.argv[4])):
    notes.add_claim(sys.argv[2], *WORDS[i % 50], note=str(i))
    print(i, flush=True)
    time.sleep(0.002)
ws.close()
"""


@pytest.mark.parametrize("fold_bytes", [10**9, 2000])
def test_a_reader_in_another_process_sees_saves_within_seconds(workspace_path: Path, fold_bytes: int) -> None:
    ws = Workspace.open(workspace_path)
    bob = ws.annotations("bob")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(workspace_path), ARTICLE, str(fold_bytes), "150"],
                            stdout=subprocess.PIPE, text=True)
    seen_max = 0
    for line in proc.stdout:
        done = int(line)
        rows = bob.all()
        notes = [int(r["attributes"]["note"]) for r in rows]
        assert notes == list(range(len(notes))), "a reader never sees a gap or a reordering"
        # Save `done` returned (fsynced) before its line was printed: a reader that looks now sees it. (No upper
        # bound: the writer goes on saving while this reader catches up with the pipe.)
        assert len(rows) >= done + 1, f"save {done} returned, but a reader sees {len(rows)} saves"
        seen_max = max(seen_max, len(rows))
    proc.wait()
    deadline = time.monotonic() + 5
    while len(bob.all()) < 150 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(bob.all()) == 150 and seen_max > 0
    ws.close()


def test_a_torn_last_line_is_ignored_and_cut_off_by_the_next_writer(workspace_path: Path) -> None:
    ws = Workspace.open(workspace_path)
    notes = ws.annotations("alice")
    kept = notes.add_entity(ARTICLE, 0, 3, "ORG")
    db, jl = _files(ws, "alice")
    journal._OPEN.clear()  # noqa: SLF001 - as if the process died: nothing folded
    notes._store._release_lock()  # noqa: SLF001
    good = jl.read_bytes()
    with open(jl, "ab") as handle:
        handle.write(b'1234abcd [["p","annotations","9",{"id":"torn')  # a save cut short
    again = Workspace.open(workspace_path)
    assert [r["id"] for r in again.annotations("alice").all()] == [kept["id"]]
    # the writer cuts the torn bytes first
    again.annotations("alice").add_claim(ARTICLE, *word_span(again.article(ARTICLE).body, 1))
    assert jl.read_bytes().startswith(good) and jl.read_bytes().count(b"\n") == 2
    assert db.with_suffix(".journal.torn").read_bytes().startswith(b"1234abcd")
    again.close()
    final = Workspace.open(workspace_path)
    assert len(final.annotations("alice").all()) == 2
    final.close()


def test_a_damaged_journal_line_is_a_one_line_error_and_the_file_is_kept(workspace_path: Path) -> None:
    ws = Workspace.open(workspace_path)
    notes = ws.annotations("alice")
    for i in range(3):
        notes.add_claim(ARTICLE, *word_span(ws.article(ARTICLE).body, i))
    _, jl = _files(ws, "alice")
    journal._OPEN.clear()  # noqa: SLF001
    notes._store._release_lock()  # noqa: SLF001
    data = bytearray(jl.read_bytes())
    data[data.index(b"\n") + 20] ^= 0x01  # flip a bit in line 2
    jl.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError) as caught:
        Workspace.open(workspace_path).annotations("alice")
    message = str(caught.value)
    assert "\n" not in message and str(jl) in message and "line 2" in message and "checksum" in message
    assert jl.read_bytes() == bytes(data)


def test_a_damaged_database_is_a_one_line_error_and_the_file_is_kept(workspace_path: Path) -> None:
    db = workspace_path / "annotations" / "alice.json"
    db.parent.mkdir(exist_ok=True)
    db.write_bytes(b'{"annotations": {"1": {"id": ')
    with pytest.raises(CorruptFileError) as caught:
        Workspace.open(workspace_path).annotations("alice")
    assert "\n" not in str(caught.value) and str(db) in str(caught.value)
    assert db.read_bytes() == b'{"annotations": {"1": {"id": '


def test_iter_bodies_streams_every_body_in_import_order(workspace: Workspace, tmp_path: Path) -> None:
    src = tmp_path / "more.jsonl"
    src.write_text("".join(json.dumps({"id": f"x{i}", "text": f"نص {i} " * (i + 1)}, ensure_ascii=False) + "\n"
                           for i in range(30)), encoding="utf-8")
    workspace.import_paths([src])
    streamed = list(workspace.iter_bodies())
    assert streamed == [(a.id, a.body) for a in workspace.articles()]
    assert [i for i, _ in streamed][-30:] == [f"x{i}" for i in range(30)]
    assert (workspace.path / BODIES_FILE).exists()
    meta = json.loads(workspace.corpus_path.read_text())["articles"]
    assert all("body" not in r and "raw" not in r for r in meta.values())  # texts stay out of the database


def test_a_corpus_written_before_the_text_store_still_opens(tmp_path: Path) -> None:
    """Old workspaces keep body and raw inline in corpus.json: read as they are, new imports go to bodies.bin."""
    folder = tmp_path / "old"
    folder.mkdir()
    record = {"id": "old1", "body": "نص قديم", "title": "قديم", "title_derived": False, "source": None, "date": None,
              "byline": None, "url": None, "raw": "نص قديم", "origin": "x", "extra": {}}
    (folder / "corpus.json").write_text(json.dumps({"articles": {"1": record}}, ensure_ascii=False), encoding="utf-8")
    ws = Workspace.open(folder)
    assert ws.article("old1").body == "نص قديم"
    src = tmp_path / "new.jsonl"
    src.write_text(json.dumps({"id": "new1", "text": "نص جديد"}, ensure_ascii=False) + "\n", encoding="utf-8")
    ws.import_paths([src])
    assert list(ws.iter_bodies()) == [("old1", "نص قديم"), ("new1", "نص جديد")]
    ws.annotations("a").add_entity("old1", 0, 2, "PER")
    ws.close()


def test_files_are_created_with_the_umask_for_a_shared_group_folder(tmp_path: Path) -> None:
    script = """
import os, sys
os.umask(0o002)
from store import Workspace
ws = Workspace.open(sys.argv[1])
ws.import_seeds()
ws.annotations("alice").add_entity(ws.articles()[0].id, 0, 3, "ORG")
ws.close()
"""
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "ws")], check=True, cwd=ROOT)
    made = [p for p in (tmp_path / "ws").rglob("*") if p.is_file()]
    names = {p.name for p in made}
    assert {"corpus.json", "bodies.bin", "alice.json", "alice.journal", "alice.lock", "labels.toml"} <= names
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in made} == {p.name: "0o664" for p in made}
