"""The team's shared index of tagged strings (store.assist.tagged_index): a session takes the team's tags from
it instead of adding up every counts file; it follows each teammate's fold, is never used stale or damaged, and
`tahqiq doctor` rebuilds one that is not of the counts files."""

from __future__ import annotations

import random
from pathlib import Path

from conftest import run_cli
from test_record_index import _same_suggestions, _saves

from store.assist import suggest
from store.assist.suggest import Suggester
from store.assist.tagged_index import INDEX_PATH, SharedMatcher
from store.workspace import Workspace


def _tag(path: Path, name: str, seed: int, count: int) -> None:
    ws = Workspace.open(path)
    try:
        _saves(ws, ws.annotations(name), random.Random(seed), count, lambda step: None)
    finally:
        ws.close()  # folds: the counts file of `name` is rewritten


def _check(path: Path) -> Suggester:
    """A new session's suggestions for alice: from the shared index, and the same as from every counts file."""
    ws = Workspace.open(path)
    try:
        ws.annotations("alice").acquire()
        shared = Suggester(ws, "alice")
        assert isinstance(shared.tagged, SharedMatcher)
        real, suggest.shared_index = suggest.shared_index, lambda *a, **k: None  # (added up in memory)
        try:
            in_memory = Suggester(ws, "alice")
        finally:
            suggest.shared_index = real
        assert not isinstance(in_memory.tagged, SharedMatcher)
        _same_suggestions(shared, in_memory, ws)
        return shared
    finally:
        ws.close()


def test_each_teammates_fold_is_seen_by_the_next_session(workspace_path: Path) -> None:
    _tag(workspace_path, "alice", 1, 40)
    _tag(workspace_path, "bob", 2, 60)
    _check(workspace_path)
    index = workspace_path / INDEX_PATH
    first = index.stat().st_ino
    _tag(workspace_path, "bob", 3, 60)  # bob's new tags, folded on closing
    _check(workspace_path)
    assert index.stat().st_ino != first, "the index of bob's old counts was used"
    again = index.stat().st_ino
    _check(workspace_path)
    assert index.stat().st_ino == again, "rebuilt though nothing changed"


def test_a_damaged_index_is_never_used_and_doctor_rebuilds_it(workspace_path: Path) -> None:
    _tag(workspace_path, "alice", 4, 40)
    _tag(workspace_path, "bob", 5, 60)
    _check(workspace_path)
    index = workspace_path / INDEX_PATH
    good = index.read_bytes()
    damaged = bytearray(good)
    damaged[len(good) // 3] ^= 0x20
    index.write_bytes(bytes(damaged))
    done = run_cli(["doctor", "--workspace", str(workspace_path)])
    assert f"repaired: {index}" in done.stdout, done.stdout
    assert index.read_bytes() == good
    again = run_cli(["doctor", "--workspace", str(workspace_path)])
    assert f"ok: {index}" in again.stdout, again.stdout
    index.write_bytes(bytes(damaged))
    _check(workspace_path)  # a session rebuilds it too
    assert index.read_bytes() == good


def test_a_newcomer_who_tagged_nothing_does_not_make_the_index_stale(workspace_path: Path) -> None:
    _tag(workspace_path, "alice", 6, 40)
    _tag(workspace_path, "bob", 7, 60)
    _check(workspace_path)
    index = workspace_path / INDEX_PATH
    built = index.stat().st_ino
    for name in ("carol", "dave"):
        ws = Workspace.open(workspace_path)
        try:
            ws.annotations(name).acquire()  # (writes their empty counts file)
            suggester = Suggester(ws, name)
            assert isinstance(suggester.tagged, SharedMatcher), name
        finally:
            ws.close()
    assert index.stat().st_ino == built, "a newcomer's empty counts made the index stale"
    _check(workspace_path)
    assert index.stat().st_ino == built


def test_the_index_is_built_in_a_process_of_its_own(workspace_path: Path, monkeypatch) -> None:
    """A session never adds up the team's keys itself (their memory would stay in its own): a child process
    builds the index while the session waits. If the child cannot run, the session adds up the counts in its
    memory as before, with the same suggestions."""
    from store.assist import tagged_index

    _tag(workspace_path, "alice", 1, 40)
    _tag(workspace_path, "bob", 2, 60)

    def not_here(*_args) -> None:
        raise AssertionError("the index was built in the session's own process")

    monkeypatch.setattr(tagged_index, "build", not_here)
    _check(workspace_path)  # built, and the same suggestions as counted in memory
    assert (workspace_path / INDEX_PATH).exists()
    (workspace_path / INDEX_PATH).unlink()
    monkeypatch.setattr(tagged_index.sys, "executable", str(workspace_path / "no-such-python"))
    ws = Workspace.open(workspace_path)
    try:
        ws.annotations("alice").acquire()
        assert not isinstance(Suggester(ws, "alice").tagged, SharedMatcher)  # (counted in memory instead)
    finally:
        ws.close()
    assert not (workspace_path / INDEX_PATH).exists()


def test_a_counts_file_written_without_a_journal_is_used_once_one_begins(workspace_path: Path) -> None:
    """A counts file written where the annotator had no journal (a workspace built by a tool, or rebuilt by
    doctor) says so; the annotator's first session creates one: with nothing changed since, their counts file
    still counts them, and the session takes the shared index instead of adding up the team in memory."""
    from store.annotation.entity_counts import counts_header
    from store.annotation.summary import rebuild_summary

    _tag(workspace_path, "alice", 1, 40)
    _tag(workspace_path, "bob", 2, 60)
    db = workspace_path / "annotations" / "bob.json"
    (workspace_path / "annotations" / "bob.journal").unlink()  # (empty after the fold on closing)
    rebuild_summary(db)
    assert counts_header(db)["journal"] == [None, 0]
    ws = Workspace.open(workspace_path)
    try:
        ws.annotations("bob").acquire()  # the journal begins
        assert isinstance(Suggester(ws, "bob").tagged, SharedMatcher)
    finally:
        ws.close()
