"""Reading an annotator's database an article at a time (store.db.record_index, JournalStore `group`): what a
writer reads by article, and saves, is what the whole files say, across folds and restarts; an index that is
stale, damaged or points at the wrong bytes is never trusted; suggestions built from the counts file and the
journal are those built from every record; `tahqiq doctor` rebuilds a lost or damaged index."""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import pytest
from conftest import run_cli
from test_summaries import _words

from store.annotation.record import sort_key, state_of
from store.annotation.summary import current_tables
from store.assist.suggest import Suggester
from store.db import journal
from store.db.record_index import RecordIndex, offsets_path, write_record_index
from store.db.storage import file_stamp
from store.workspace import Workspace


def truth(db: Path) -> dict[str, tuple[list[dict], str]]:
    """Article id -> (records in text order, state), from the files read whole by another reader."""
    tables = current_tables(db)[0]
    by_article: dict[str, list[dict]] = {}
    for _key, record in sorted(tables.get("annotations", {}).items(), key=lambda kv: int(kv[0])):  # (key order)
        by_article.setdefault(record["article_id"], []).append(record)
    states = {r["article_id"]: r["state"] for r in tables.get("progress", {}).values()}
    return {a: (sorted(by_article.get(a, []), key=sort_key), state_of(states.get(a), bool(by_article.get(a))))
            for a in set(by_article) | set(states)}


def _saves(ws: Workspace, notes, rng: random.Random, count: int, check) -> None:
    """`count` random saves, each on one article and choosing among that article's records (never all)."""
    spans = _words(ws)
    articles = sorted({a for a, _, _ in spans})
    removed = []
    for step in range(count):
        article = rng.choice(articles)
        mine = notes.for_article(article)
        action = rng.choice(["entity", "entity", "claim", "score", "state", "relabel", "remove", "restore"])
        try:
            if action == "entity":
                a, start, end = rng.choice([s for s in spans if s[0] == article])
                notes.add_entity(a, start, end, rng.choice(["PER", "ORG", "LOC"]))
            elif action == "claim":
                a, start, end = rng.choice([s for s in spans if s[0] == article])
                notes.add_claim(a, start, end)
            elif action == "score":
                notes.set_credibility(article, rng.choice([None, 1, 3, 5]), note="n")
            elif action == "state":
                notes.set_state(article, rng.choice(["not started", "in progress", "done"]))
            elif action == "relabel" and [r for r in mine if r["kind"] == "entity"]:
                pick = rng.choice([r for r in mine if r["kind"] == "entity"])
                notes.update(pick["id"], label=rng.choice(["PER", "ORG", "LOC"]))
            elif action == "remove" and mine:
                removed.append(notes.remove(rng.choice(mine)["id"]))
            elif action == "restore" and removed:
                notes.restore(removed.pop())
        except Exception as exc:  # noqa: BLE001 - a refused save (crossing spans, ...) is part of the game
            assert "already tagged" in str(exc) or "crosses" in str(exc) or "nests" in str(exc), exc
        check(step)


def _annotated(workspace_path: Path, seed: int = 3, count: int = 60) -> Path:
    """alice's database after `count` saves and a fold (so it has its record index)."""
    ws = Workspace.open(workspace_path)
    try:
        _saves(ws, ws.annotations("alice"), random.Random(seed), count, lambda step: None)
    finally:
        ws.close()
    db = workspace_path / "annotations" / "alice.json"
    assert RecordIndex.open(db) is not None
    return db


@pytest.fixture
def whole_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every whole read of a database (journal.read_database) from now on."""
    reads: list[Path] = []
    real = journal.read_database
    monkeypatch.setattr(journal, "read_database", lambda path, *a, **k: reads.append(path) or real(path, *a, **k))
    return reads


def _open_here(folder: Path) -> list[str]:
    """The stores this process holds open on `folder`'s files."""
    return [k for k in journal._OPEN if k.startswith(os.path.realpath(folder) + os.sep)]


def _same_as_files(ws: Workspace, notes, db: Path, step: object) -> None:
    want = truth(db)
    for article in [a.id for a in ws.articles()]:
        records, state = want.get(article, ([], "not started"))
        assert notes.for_article(article) == records, (step, article)
        assert notes.state(article) == state, (step, article)


def test_a_writer_reads_and_saves_article_by_article_as_the_whole_files_say(workspace_path: Path,
                                                                           whole_reads: list[Path]) -> None:
    db = _annotated(workspace_path)
    whole_reads.clear()
    for session in range(4):  # each a restart: every store of the process closed, the files read again
        assert not _open_here(workspace_path)
        ws = Workspace.open(workspace_path)
        crash = session % 2 == 0
        try:
            notes = ws.annotations("alice")
            notes.acquire()
            _same_as_files(ws, notes, db, (session, "opened"))
            _saves(ws, notes, random.Random(10 + session), 80,
                   lambda step, ws=ws, notes=notes: _same_as_files(ws, notes, db, step))
            assert whole_reads == [] and not notes._store._loaded, "read whole though every step was one article"
            assert notes._store._partial is not None
            if session == 1:  # a fold (every FOLD_BYTES of saves) reads it record by record, then by article
                notes._store.fold()
                assert notes._store._partial is not None and not notes._store._loaded
                _same_as_files(ws, notes, db, (session, "folded"))
            if crash:  # the process dies: no fold, the lock goes with it; the next one starts on the journal
                notes._store._release_lock()
                for key in _open_here(workspace_path):
                    del journal._OPEN[key]
        finally:
            if not crash:
                ws.close()  # folds (record by record, through the index), and writes a new index
        assert whole_reads == [], "a fold read the database whole"
        whole_reads.clear()
        index = RecordIndex.open(db)
        assert index is not None and index.stamp == file_stamp(db)
        index.close()


def _variants(db: Path) -> dict[str, bytes | None]:
    """Indexes that must not be trusted: damaged, pointing one byte off, of another database."""
    good = offsets_path(db).read_bytes()
    index = RecordIndex.open(db)
    assert index is not None
    places, tables, nxt = index.all_places(), index.tables, index.next
    index.close()
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x01
    shifted = db.with_name("shifted.json")  # (only its index is written, then moved over alice's)
    write_record_index(shifted, [(g, t, k, o + 1, n, c) for g, t, k, o, n, c in places], tables, nxt,
                       file_stamp(db))
    stale = json.loads(good.split(b"\n", 1)[0])
    off = offsets_path(shifted).read_bytes()
    offsets_path(shifted).unlink()
    return {"missing": None, "a flipped byte": bytes(flipped), "one byte off": off,
            "of another database": good.replace(json.dumps(stale["stamp"]).replace(" ", "").encode(),
                                                json.dumps([1, 2, 3]).replace(" ", "").encode(), 1)}


@pytest.mark.parametrize("how", ["missing", "a flipped byte", "one byte off", "of another database"])
def test_an_index_that_cannot_be_trusted_is_never_used(workspace_path: Path, whole_reads: list[Path], how: str,
                                                       tmp_path: Path) -> None:
    db = _annotated(workspace_path)
    want = truth(db)
    bad = _variants(db)[how]
    if bad is None:
        offsets_path(db).unlink()
    else:
        offsets_path(db).write_bytes(bad)
    whole_reads.clear()
    ws = Workspace.open(workspace_path)
    try:
        notes = ws.annotations("alice")
        for article, (records, _state) in want.items():
            assert notes.for_article(article) == records, article
        assert whole_reads == [db], "the records were not read whole"
    finally:
        ws.close()
    # `tahqiq doctor` rewrites it from the database (one that points off is "stale or damaged" too)
    if bad is not None or how == "missing":
        done = run_cli(["doctor", "--workspace", str(workspace_path)])
        assert f"repaired: {offsets_path(db)}" in done.stdout, done.stdout
        assert RecordIndex.open(db) is not None
        again = run_cli(["doctor", "--workspace", str(workspace_path)])
        assert f"ok: {offsets_path(db)}" in again.stdout, again.stdout
    whole_reads.clear()
    ws = Workspace.open(workspace_path)
    try:
        notes = ws.annotations("alice")
        notes.acquire()
        for article, (records, _state) in want.items():
            assert notes.for_article(article) == records, article
        assert whole_reads == [] and notes._store._partial is not None
    finally:
        ws.close()


def test_a_database_tinydb_wrote_is_read_whole_until_its_writer_folds_it(workspace_path: Path,
                                                                         whole_reads: list[Path]) -> None:
    db = _annotated(workspace_path)
    want = truth(db)
    db.write_text(json.dumps(json.loads(db.read_bytes())), encoding="utf-8")  # TinyDB's layout: spaces
    assert RecordIndex.open(db) is None
    done = run_cli(["doctor", "--workspace", str(workspace_path)])
    assert f"note: {offsets_path(db)}: the database is not laid out as tahqiq writes it" in done.stdout, done.stdout
    whole_reads.clear()
    ws = Workspace.open(workspace_path)
    try:
        notes = ws.annotations("alice")
        notes.acquire()  # folds it once, in its own layout, with an index
        assert RecordIndex.open(db) is not None
    finally:
        ws.close()
    whole_reads.clear()
    ws = Workspace.open(workspace_path)
    try:
        notes = ws.annotations("alice")
        for article, (records, _state) in want.items():
            assert notes.for_article(article) == records, article
        assert whole_reads == []
    finally:
        ws.close()


def _same_suggestions(one: Suggester, other: Suggester, ws: Workspace) -> None:
    """The same label for every string either counts, and the same suggestions in every article."""
    keys = set()
    for s in (one, other):
        tagged = s.tagged
        keys |= set(tagged._best) if hasattr(tagged, "_best") else {tuple(k.split("\x1f")) for k in tagged._delta}
    for key in keys:
        assert one.tagged.best(key) == other.tagged.best(key), key
    for article in ws.articles():
        assert one.tagged.find(article.body) == other.tagged.find(article.body), article.id


def test_suggestions_from_the_counts_file_and_the_journal_are_those_of_every_record(workspace_path: Path,
                                                                                     whole_reads: list[Path]) -> None:
    """A session that reads by article takes the team's tags from the shared index (store.assist.tagged_index:
    every annotator's counts file) and its annotator's journal changes since their fold (the database's version
    taken off); it then follows tags, relabels and removals of records it never read exactly as a session that
    read every record and added up every counts file itself."""
    from store.assist.tagged_index import SharedMatcher

    ws = Workspace.open(workspace_path)
    try:  # a teammate, whose counts file is read (their records never are)
        _saves(ws, ws.annotations("bob"), random.Random(6), 120, lambda step: None)
    finally:
        ws.close()
    db = _annotated(workspace_path, seed=5, count=120)
    ws = Workspace.open(workspace_path)
    try:
        notes = ws.annotations("alice")
        notes.acquire()
        rng = random.Random(11)
        _saves(ws, notes, rng, 40, lambda step: None)  # journal lines over the folded database
        whole_reads.clear()
        by_file = Suggester(ws, "alice")
        assert whole_reads == [] and by_file._unlisted is not None, "the suggestions read every record"
        assert isinstance(by_file.tagged, SharedMatcher) and (workspace_path / "suggestions" / "tagged.idx").exists()
        notes._store._ensure_loaded()
        by_records = Suggester(ws, "alice")
        assert by_records._unlisted is None
        _same_suggestions(by_file, by_records, ws)
        from store.annotation.history import Change

        entities = [r for r in notes.all() if r["kind"] == "entity"]
        for record in rng.sample(entities, min(12, len(entities))):  # relabel or remove, as the app would
            if rng.random() < 0.5:
                after = notes.update(record["id"], label="ORG" if record["label"] != "ORG" else "PER")
                change = Change(before=record, after=after)
            else:
                notes.remove(record["id"])
                change = Change(before=record, after=None)
            by_file.follow([change])
            by_records.follow([change])
            _same_suggestions(by_file, by_records, ws), record["id"]
    finally:
        ws.close()
    assert RecordIndex.open(db) is not None


def test_copied_workspace_is_read_whole_then_gets_its_index(workspace_path: Path, tmp_path: Path,
                                                            whole_reads: list[Path]) -> None:
    """A copy has new inodes: nothing derived is trusted until its writer has the lock once."""
    _annotated(workspace_path)
    copy = tmp_path / "copy"
    shutil.copytree(workspace_path, copy)
    db = copy / "annotations" / "alice.json"
    want = truth(db)
    assert RecordIndex.open(db) is None
    ws = Workspace.open(copy)
    try:
        ws.annotations("alice").acquire()
    finally:
        ws.close()
    whole_reads.clear()
    ws = Workspace.open(copy)
    try:
        notes = ws.annotations("alice")
        for article, (records, _state) in want.items():
            assert notes.for_article(article) == records
        assert whole_reads == []
    finally:
        ws.close()


def test_a_large_database_read_by_article_is_not_read_whole_to_fold_on_closing(workspace_path: Path,
                                                                              whole_reads: list[Path],
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Over WHOLE_READ_BYTES (here: any size), closing leaves the saves in the journal instead of reading the whole
    database to fold them; the next session reads them back by article, and counts its tags the same."""
    db = _annotated(workspace_path, seed=8, count=80)
    monkeypatch.setattr(journal, "WHOLE_READ_BYTES", 0)
    before = db.read_bytes()
    for session in range(3):
        whole_reads.clear()
        ws = Workspace.open(workspace_path)
        try:
            notes = ws.annotations("alice")
            notes.acquire()
            _saves(ws, notes, random.Random(20 + session), 30, lambda step: None)
            by_file = Suggester(ws, "alice")
            assert by_file._unlisted is not None
        finally:
            ws.close()
        assert whole_reads == [] and db.read_bytes() == before
        assert db.with_suffix(".journal").stat().st_size > 0
    want = truth(db)
    ws = Workspace.open(workspace_path)
    try:
        notes = ws.annotations("alice")
        for article, (records, _state) in want.items():
            assert notes.for_article(article) == records, article
        by_file = Suggester(ws, "alice")
        notes._store._ensure_loaded()
        _same_suggestions(by_file, Suggester(ws, "alice"), ws)
    finally:
        ws.close()


def _exports(folder: Path, out: Path) -> dict[str, bytes]:
    """Every format exported (every annotator, then only the done ones), as {name: bytes}."""
    from store.exchange import FORMATS, export

    found: dict[str, bytes] = {}
    ws = Workspace.open(folder)
    try:
        for name, spec in sorted(FORMATS.items()):
            for articles in (None, "state=done"):
                target = out / f"{name}-{articles}"
                export(ws, name, path=target / "out" if spec.to_dir else target, articles=articles)
                for path in sorted(p for p in target.rglob("*") if p.is_file()) if spec.to_dir else [target]:
                    found[str(path.relative_to(out))] = path.read_bytes()
    finally:
        ws.close()
    return found


def test_an_export_read_article_by_article_is_the_export_read_whole(workspace_path: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Every format, byte for byte, whether each annotator's database is read through its index (the journal
    replayed over each article: saves, removals, restores since the fold) or read whole."""
    from store.exchange import stream

    for name, seed in (("alice", 1), ("bob", 2)):
        ws = Workspace.open(workspace_path)
        try:
            notes = ws.annotations(name)
            _saves(ws, notes, random.Random(seed), 60, lambda step: None)
            notes._store.fold()
            _saves(ws, notes, random.Random(seed + 10), 60, lambda step: None)  # left in the journal
            notes._store._release_lock()
            for key in _open_here(workspace_path):
                del journal._OPEN[key]
        finally:
            pass
    assert all(RecordIndex.open(workspace_path / "annotations" / f"{n}.json") for n in ("alice", "bob"))
    whole: list[str] = []
    real = stream.read_annotator
    monkeypatch.setattr(stream, "read_annotator", lambda ws, name: whole.append(name) or real(ws, name))
    by_article = _exports(workspace_path, tmp_path / "by-article")
    assert whole == [], "an annotator was read whole"
    for name in ("alice", "bob"):
        offsets_path(workspace_path / "annotations" / f"{name}.json").unlink()
    read_whole = _exports(workspace_path, tmp_path / "whole")
    assert whole, "the index was still used"
    assert by_article.keys() == read_whole.keys() and len(by_article) > 10
    for name in by_article:
        assert by_article[name] == read_whole[name], name
