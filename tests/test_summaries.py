"""Per-article summaries (store.annotation.summary): what a reader gets from the summary file and the journal,
without the records, is what the records say, after any sequence of saves and folds; a file that cannot be
trusted is never used; the library reads teammates' summaries, not their records; `tahqiq doctor` rewrites
a lost or damaged one, as a new process then reads."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, run_cli

from store.annotation.entity_counts import entities_path, read_entity_counts
from store.annotation.summary import SummaryReader, current_tables, summarize, summary_path
from store.db.journal_format import encode_line, recover_tables
from store.team.stats import article_rows
from store.workspace import Workspace

WORD = re.compile(r"\w+")


def from_records(db_path: Path) -> tuple[dict, tuple]:
    """The summaries the records of a database and its whole journal give, and the stamp of what was read."""
    tables, stamp = current_tables(db_path)
    return summarize(tables), stamp


def _words(ws: Workspace) -> list[tuple[str, int, int]]:
    spans = []
    for article in ws.articles():
        spans += [(article.id, m.start(), m.end()) for m in WORD.finditer(article.body)][:40]
    return spans


def _random_saves(ws: Workspace, name: str, rng: random.Random, count: int, check) -> None:
    """`count` random saves by `name` (tag, claim, score, state, relabel, remove, restore), `check()` after each."""
    notes = ws.annotations(name)
    spans = _words(ws)
    articles = [a.id for a in ws.articles()]
    removed = []
    for step in range(count):
        action = rng.choice(["entity", "entity", "claim", "score", "state", "relabel", "remove", "restore", "fold"])
        mine = notes.all()
        try:
            if action == "entity":
                article, start, end = rng.choice(spans)
                notes.add_entity(article, start, end, rng.choice(["PER", "ORG", "LOC"]))
            elif action == "claim":
                article, start, end = rng.choice(spans)
                notes.add_claim(article, start, end)
            elif action == "score":
                notes.set_credibility(rng.choice(articles), rng.choice([None, 1, 3, 5]), note="n")
            elif action == "state":
                notes.set_state(rng.choice(articles), rng.choice(["not started", "in progress", "done"]))
            elif action == "relabel" and mine:
                pick = rng.choice([r for r in mine if r["kind"] == "entity"] or mine)
                if pick["kind"] == "entity":
                    notes.update(pick["id"], label=rng.choice(["PER", "ORG", "LOC"]))
            elif action == "remove" and mine:
                removed.append(notes.remove(rng.choice(mine)["id"]))
            elif action == "restore" and removed:
                notes.restore(removed.pop())
            elif action == "fold":
                notes._store.fold()
        except Exception as exc:  # noqa: BLE001 - a refused save (crossing spans, ...) is part of the game
            assert "already tagged" in str(exc) or "crosses" in str(exc) or "nests" in str(exc), exc
        check(step)


def test_the_summaries_read_without_records_are_what_the_records_say(workspace_path: Path) -> None:
    db = workspace_path / "annotations" / "alice.json"
    ws = Workspace.open(workspace_path)
    ws.annotations("alice").acquire()
    follower = SummaryReader(db)  # one reader that follows along, reading only new journal lines
    seen = {"folds": 0, "trusted": 0}

    def check(step: int) -> None:
        truth = from_records(db)[0]
        assert ws.annotations("alice").summaries() == truth, step
        fresh = SummaryReader(db).read()  # as a new process reads it
        assert fresh == truth, step
        assert follower.read() == truth, step
        seen["trusted"] += 1

    try:
        _random_saves(ws, "alice", random.Random(7), 120, check)
        ws.annotations("alice")._store.fold()
        check(-1)
        assert json.loads(summary_path(db).read_bytes())["stamp"][2] == 0  # folded: the file covers everything
    finally:
        ws.close()
    assert SummaryReader(db).read() == from_records(db)[0] and seen["trusted"] == 121


def reading_records(monkeypatch) -> list[str]:
    """The annotators whose records are read whole from now on to make their summaries (their names, in order)."""
    import store.annotation.summary as summary

    read: list[str] = []
    real = summary._rewrite_apart

    def recorded(db_path: Path) -> bool:
        read.append(Path(db_path).stem)
        return real(db_path)

    monkeypatch.setattr(summary, "_rewrite_apart", recorded)
    return read


def test_a_summary_that_cannot_be_trusted_is_never_used(workspace_path: Path, monkeypatch) -> None:
    db = workspace_path / "annotations" / "alice.json"
    ws = Workspace.open(workspace_path)
    notes = ws.annotations("alice")
    article = ws.articles()[0]
    start, end = next(WORD.finditer(article.body)).span()
    notes.add_entity(article.id, start, end, "PER")
    ws.close()  # folds: alice.json and alice.summary
    truth = from_records(db)[0]
    assert SummaryReader(db).read() == truth and truth[article.id].entities == 1
    good = summary_path(db).read_bytes()

    # A save written without summaries (by a version before them): the file cannot say what it changed.
    record = {"id": "legacy1", "article_id": article.id, "kind": "claim", "start": start, "end": end,
              "text": article.body[start:end], "label": "CLAIM", "attributes": {}, "created": "", "updated": ""}
    db.with_suffix(".journal").write_bytes(encode_line([["p", "annotations", "99", record]]))
    assert SummaryReader(db).read() is None
    ws = Workspace.open(workspace_path)
    read = reading_records(monkeypatch)
    assert ws.summaries("alice")[article.id].claims == 1  # from the records instead
    assert read == ["alice"] and SummaryReader(db).read() == ws.summaries("alice")  # (and written anew)
    ws.close()

    # Damaged, or of another version of the database: not trusted.
    ws = Workspace.open(workspace_path)
    ws.annotations("alice").acquire()  # the writer rewrites a stale file on taking the lock
    ws.close()
    assert SummaryReader(db).read() == from_records(db)[0]
    fresh = summary_path(db).read_bytes()
    as_list = json.loads(fresh)
    as_list["articles"] = list(as_list["articles"].items())  # valid JSON, the wrong shape
    for damaged in (fresh[:-9], fresh.replace(b'"version":1', b'"version":9'), b"", good,
                    json.dumps(as_list).encode()):
        summary_path(db).write_bytes(damaged)
        assert SummaryReader(db).read() is None, damaged[:60]
    summary_path(db).unlink()
    assert SummaryReader(db).read() is None


def _annotate(path: Path, name: str, picks: list[tuple[int, str]], score: int, state: str) -> None:
    ws = Workspace.open(path)
    notes = ws.annotations(name)
    articles = ws.articles()
    for index, label in picks:
        article = articles[index]
        start, end = list(WORD.finditer(article.body))[len(name)].span()
        notes.add_entity(article.id, start, end, label)
    notes.set_credibility(articles[0].id, score)
    notes.set_state(articles[1].id, state)
    ws.close()


def test_the_library_reads_teammates_summaries_not_their_records(workspace_path: Path, monkeypatch) -> None:
    _annotate(workspace_path, "alice", [(0, "PER"), (2, "ORG")], 4, "done")
    _annotate(workspace_path, "bob", [(0, "LOC"), (3, "PER")], 2, "done")
    ws = Workspace.open(workspace_path)
    try:
        rows = article_rows(ws, "alice")
        assert not ws._sets, "opened records: " + ", ".join(ws._sets)
    finally:
        ws.close()
    for name in ("alice", "bob"):
        summary_path(workspace_path / "annotations" / f"{name}.json").unlink()
    ws = Workspace.open(workspace_path)
    read = reading_records(monkeypatch)
    try:
        from_records_rows = article_rows(ws, "alice")
        assert sorted(read) == ["alice", "bob"] and not ws._sets  # read once, not kept
    finally:
        ws.close()
    assert rows == from_records_rows
    first, second = rows[0], rows[1]
    assert (first.entities, first.credibility, first.credibility_mean, first.annotators) == (1, 4, 3, {"alice", "bob"})
    assert second.state == "done" and second.done_by == {"alice", "bob"}
    # one set object per distinct set, not one per row (at 100,000 rows, ~25 MB)
    assert first.annotators is second.annotators and second.done_by is first.annotators


ROWS_PROBE = """
import json, sys
from store.team.stats import article_rows
from store.workspace import Workspace
ws = Workspace.open(sys.argv[1])
read = []
ws.on_read_whole = read.append
rows = article_rows(ws, "alice")
opened = sorted(read + list(ws._sets))
print(json.dumps({"opened": opened, "rows": [[r.id, r.state, r.entities, r.credibility, r.credibility_mean,
                                               sorted(r.annotators), sorted(r.done_by)] for r in rows]}))
ws.close()
"""
"""Run in a new process: the library's rows of a workspace, and whose records were read to make them."""


def test_a_copied_workspace_is_read_from_the_records_once_then_from_the_summaries(workspace_path: Path,
                                                                                   tmp_path: Path) -> None:
    """A workspace copied or restored (cp -a, rsync, a backup) has new inodes, so every derived file in it is
    stale. The first session to read a teammate's figures reads their records and writes their summary and entity
    counts anew; the next session reads those, not the records (before: every session read every record)."""
    _annotate(workspace_path, "alice", [(0, "PER"), (2, "ORG")], 4, "done")
    _annotate(workspace_path, "bob", [(0, "LOC"), (3, "PER")], 2, "done")
    copy = tmp_path / "copy"
    shutil.copytree(workspace_path, copy)  # (times kept, inodes new)

    def probe(path: Path) -> dict:
        out = subprocess.run([sys.executable, "-c", ROWS_PROBE, str(path)], capture_output=True, text=True, cwd=ROOT)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    original = probe(workspace_path)
    assert original["opened"] == []
    first, second = probe(copy), probe(copy)
    assert first["opened"] == ["alice", "bob"]  # stale: read from the records...
    assert second["opened"] == []  # ...once
    assert first["rows"] == second["rows"] == original["rows"]
    for name in ("alice", "bob"):
        db, copied = workspace_path / "annotations" / f"{name}.json", copy / "annotations" / f"{name}.json"
        assert SummaryReader(copied).read() == SummaryReader(db).read() != {}
        assert read_entity_counts(copied) == read_entity_counts(db) != {}


AT_ONCE_PROBE = """
import json, sys, time
from pathlib import Path
import store.annotation.summary as summary
from store.team.stats import article_rows
from store.workspace import Workspace
slow = summary._rewrite_apart
def slowly(db):  # reading a large teammate's records takes seconds: the other sessions are started meanwhile
    time.sleep(1.0)
    return slow(db)
summary._rewrite_apart = slowly
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.01)
ws = Workspace.open(sys.argv[1])
read = []
ws.on_read_whole = read.append
rows = article_rows(ws, "alice")
print(json.dumps({"opened": sorted(read + list(ws._sets)), "rows": len(rows)}))
ws.close()
"""


def test_sessions_opened_at_once_on_a_copied_workspace_read_each_teammate_once(workspace_path: Path,
                                                                              tmp_path: Path) -> None:
    """Three sessions start together on a copied workspace: one of them reads each teammate's records and
    rewrites their summary; the others wait for it and read the summary (before: each read every record)."""
    _annotate(workspace_path, "alice", [(0, "PER"), (2, "ORG")], 4, "done")
    _annotate(workspace_path, "bob", [(0, "LOC"), (3, "PER")], 2, "done")
    copy, go = tmp_path / "copy", tmp_path / "go"
    shutil.copytree(workspace_path, copy)
    sessions = [subprocess.Popen([sys.executable, "-c", AT_ONCE_PROBE, str(copy), str(go)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, cwd=ROOT) for _ in range(3)]
    go.touch()
    said = []
    for session in sessions:
        out, err = session.communicate(timeout=60)
        assert session.returncode == 0, err
        said.append(json.loads(out))
    opened = sorted(name for s in said for name in s["opened"])
    assert opened == ["alice", "bob"], said  # each teammate's records read by one session only
    assert {s["rows"] for s in said} == {5}


def test_reading_the_figures_of_an_annotator_without_a_database_writes_nothing(workspace_path: Path) -> None:
    """No reader trusts a summary without its database: one written for an annotator who has saved nothing yet
    would be written again at every read, and the library, which watches the folder, would read the team again
    at every poll (seen as a flaky test)."""
    _annotate(workspace_path, "bob", [(0, "LOC")], 2, "done")
    folder = workspace_path / "annotations"
    def files() -> list[tuple[str, int]]:  # (a lock file says who holds what: not written data)
        return sorted((p.name, p.stat().st_mtime_ns) for p in folder.iterdir() if not p.name.endswith(".lock"))

    before = files()
    ws = Workspace.open(workspace_path)
    try:
        for _ in range(2):
            assert ws.summaries("alice") == {} and not ws.entity_counts("alice")
            article_rows(ws, "alice")
    finally:
        ws.close()
    assert files() == before


def test_the_app_says_why_its_first_start_on_a_copied_workspace_is_slow(workspace_path: Path, tmp_path: Path) -> None:
    """Before its screen opens, `tahqiq` on a moved or restored workspace reads the annotator's own records whole
    (seconds at 100,000 articles): it says so, once, and never when the summary fits (teammates' figures are read
    once the library is drawn: no line is written over the screen)."""
    from pty_app import PtyApp

    _annotate(workspace_path, "alice", [(0, "PER")], 4, "done")
    _annotate(workspace_path, "bob", [(0, "LOC")], 2, "done")
    copy = tmp_path / "copy"
    shutil.copytree(workspace_path, copy)

    def start(path: Path) -> str:
        with PtyApp(["--workspace", str(path), "--annotator", "alice"], 30, 120) as app:
            assert app.read_until("done: me".encode(), 20), bytes(app.out[-800:])  # the library is drawn
            app.write(b"\x11")
            app.read_to_end()
        return bytes(app.out).decode("utf-8", "replace")

    first = start(copy)
    assert first.count("tahqiq: reading alice's annotations whole, once") == 1, first[:600]
    assert "bob's annotations" not in first and "tahqiq doctor" in first
    assert "annotations whole" not in start(copy)
    assert "annotations whole" not in start(workspace_path)


def test_a_stale_summary_is_rewritten_where_its_database_cannot_be_locked(workspace_path: Path, tmp_path: Path,
                                                                           monkeypatch) -> None:
    """NFS emulates flock with locks that need a file open for writing: the wait for another session's rewrite is
    then skipped, and the summaries are still read and rewritten (not an error in the library)."""
    import errno

    import store.db.lock as lock

    _annotate(workspace_path, "bob", [(0, "LOC")], 2, "done")
    copy = tmp_path / "copy"
    shutil.copytree(workspace_path, copy)

    def refused(fd: int, operation: int) -> None:
        raise OSError(errno.EBADF, "Bad file descriptor")

    monkeypatch.setattr(lock.fcntl, "flock", refused)
    ws = Workspace.open(copy)
    try:
        assert ws.summaries("bob") == SummaryReader(workspace_path / "annotations" / "bob.json").read() != {}
    finally:
        ws.close()
    assert SummaryReader(copy / "annotations" / "bob.json").read() is not None


def test_a_stale_summary_is_rewritten_by_a_process_of_its_own(workspace_path: Path, tmp_path: Path) -> None:
    """The records behind a stale summary are read by a child process (their memory and interpreter are not the
    session's); a damaged database is left as it is, for the caller to report."""
    from store.annotation.summary import _rewrite_apart

    _annotate(workspace_path, "bob", [(0, "LOC"), (3, "PER")], 2, "done")
    copy = tmp_path / "copy"
    shutil.copytree(workspace_path, copy)
    db = copy / "annotations" / "bob.json"
    assert SummaryReader(db).read() is None and read_entity_counts(db) is None
    assert _rewrite_apart(db)
    assert SummaryReader(db).read() == from_records(db)[0] != {}
    assert read_entity_counts(db) == read_entity_counts(workspace_path / "annotations" / "bob.json")
    damaged = json.loads(db.read_bytes())
    damaged["annotations"]["1"] = {"kind": "entity"}
    db.write_text(json.dumps(damaged), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in db.parent.iterdir()}
    assert not _rewrite_apart(db)
    assert {p.name: p.read_bytes() for p in db.parent.iterdir()} == before


def test_doctor_rewrites_a_lost_or_damaged_summary_as_a_new_process_reads(workspace_path: Path) -> None:
    _annotate(workspace_path, "alice", [(0, "PER"), (2, "ORG")], 4, "done")
    db = workspace_path / "annotations" / "alice.json"
    good = summary_path(db).read_bytes()
    wrong = json.loads(good)
    wrong["articles"] = {k: [v[0], 9, 9, 9, v[4], v[5]] for k, v in wrong["articles"].items()}  # stamp still right
    counts = entities_path(db).read_bytes()
    for damage in ("lost", "cut", "wrong"):
        if damage == "lost":
            summary_path(db).unlink()
            entities_path(db).unlink()
        elif damage == "cut":
            summary_path(db).write_bytes(good[: len(good) // 2])
            entities_path(db).write_bytes(counts[:-5])
        else:
            summary_path(db).write_bytes(json.dumps(wrong).encode())
        result = run_cli(["doctor", "--workspace", str(workspace_path)])
        assert result.returncode == 0, result.stdout + result.stderr
        assert "alice.summary" in result.stdout and "rewritten from the records" in result.stdout, result.stdout
        if damage != "wrong":
            assert f"{entities_path(db)}: {'missing' if damage == 'lost' else 'stale or damaged'}" in result.stdout
        probe = ("import sys; from pathlib import Path; from store.annotation.summary import SummaryReader, "
                 "current_tables, summarize; from store.annotation.entity_counts import read_entity_counts, "
                 "count_entities, fold_counts; db = Path(sys.argv[1]); r = SummaryReader(db).read(); "
                 "c = read_entity_counts(db); t = current_tables(db)[0]['annotations'].values(); "
                 "print(r is not None and r == summarize(current_tables(db)[0]) "
                 "and c == fold_counts(count_entities(t)) and len(c) == 2)")
        out = subprocess.run([sys.executable, "-c", probe, str(db)], capture_output=True, text=True, cwd=ROOT)
        assert out.stdout.strip() == "True", (damage, out.stdout, out.stderr)
    again = run_cli(["doctor", "--workspace", str(workspace_path)])
    assert "alice.summary" in again.stdout and "as the records say" in again.stdout


def test_summary_operations_never_become_records_when_a_database_is_recovered(tmp_path: Path) -> None:
    db = tmp_path / "alice.json"
    record = {"id": "a", "article_id": "x", "kind": "claim", "start": 0, "end": 1, "text": "a", "label": "CLAIM",
              "attributes": {}, "created": "", "updated": ""}
    (tmp_path / "alice.json.prev").write_text(json.dumps({"annotations": {}}), encoding="utf-8")
    (tmp_path / "alice.journal.prev").write_bytes(
        encode_line([["p", "annotations", "1", record], ["s", "summary", "x", [None, 1, 0, 1, None, []]]]))
    db.write_bytes(b'{"annotations": {')  # cut short
    tables, _ = recover_tables(db)
    assert set(tables) == {"annotations"} and list(tables["annotations"]) == ["1"]
    assert summarize(tables)["x"].claims == 1


def test_after_a_crash_the_store_replays_records_and_leaves_summaries_to_their_readers(workspace_path: Path,
                                                                                     tmp_path: Path) -> None:
    ws = Workspace.open(workspace_path)
    notes = ws.annotations("alice")
    article = ws.articles()[0]
    start, end = next(WORD.finditer(article.body)).span()
    notes.add_entity(article.id, start, end, "PER")
    notes.set_credibility(article.id, 3)
    crashed = tmp_path / "crashed"
    shutil.copytree(workspace_path, crashed)  # the files as a crash leaves them: saves in the journal only
    ws.close()
    journal = (crashed / "annotations" / "alice.journal").read_bytes()
    assert journal.count(b'"summary"') == 2
    again = Workspace.open(crashed)
    try:
        records = again.annotations("alice").all()
        assert sorted(r["kind"] for r in records) == ["credibility", "entity"]
        db = crashed / "annotations" / "alice.json"
        assert SummaryReader(db).read() is None  # copied: other files (inodes) than the summary was written for
        assert again.annotations("alice").summaries() == from_records(db)[0]
    finally:
        again.close()


def test_suggestions_count_a_teammates_tags_without_their_records(workspace_path: Path) -> None:
    from store.assist.suggest import Suggester

    _annotate(workspace_path, "bob", [(0, "LOC"), (3, "PER")], 2, "done")
    db = workspace_path / "annotations" / "bob.json"
    ws = Workspace.open(workspace_path)
    try:
        ws.annotations("alice")
        suggester = Suggester(ws, "alice")
        assert set(ws._sets) == {"alice"}, "opened records: " + ", ".join(ws._sets)
        tagged = suggester.tagged
    finally:
        ws.close()
    counts = read_entity_counts(db)
    assert counts is not None and sum(counts.values()) == 2
    entities_path(db).unlink()  # cannot be trusted: the records are read instead, to the same suggestions
    ws = Workspace.open(workspace_path)
    try:
        ws.annotations("alice")
        again = Suggester(ws, "alice").tagged
        assert "bob" in ws._sets
        for article in ws.articles():
            assert again.find(article.body) == tagged.find(article.body), article.id
        assert again.best(("علي",)) == tagged.best(("علي",)) == "PER" and again.best(("هذا",)) == "LOC"
    finally:
        ws.close()


def test_entity_counts_folded_otherwise_or_of_another_database_are_not_trusted(workspace_path: Path) -> None:
    _annotate(workspace_path, "bob", [(0, "LOC"), (3, "PER")], 2, "done")
    db = workspace_path / "annotations" / "bob.json"
    good = json.loads(entities_path(db).read_bytes())
    assert read_entity_counts(db) is not None
    for changed in ({**good, "fold": good["fold"] + 1}, {**good, "stamp": [0, 0, 0]},
                    {**good, "counts": [[*row[:2], -1, row[3]] for row in good["counts"]]}):
        entities_path(db).write_bytes(json.dumps(changed).encode())
        assert read_entity_counts(db) is None


def test_entity_counts_are_written_a_part_a_line_and_read_a_line_at_a_time(tmp_path: Path, monkeypatch) -> None:
    """`alice.entities` is one JSON document written ROWS_PER_LINE rows a line, so that a fold's thread and the
    suggestions' build parse it a line at a time (parsed whole, it held the interpreter ~0.1 s at 100,000 articles
    and a save waited that long); the same JSON as before (a file of the old one-line layout still reads), and a
    file cut short is not trusted."""
    import store.annotation.entity_counts as ec
    from store.db.storage import file_stamp

    monkeypatch.setattr(ec, "ROWS_PER_LINE", 3)
    db = tmp_path / "alice.json"
    db.write_text("{}", encoding="utf-8")
    records = {str(n): {"kind": "entity", "text": f"نص {n} ,\n\"", "label": "PER" if n % 3 else "LOC"}
               for n in range(10)}
    ec.write_entity_counts(db, {"annotations": records}, (file_stamp(db), 1, 0))
    raw = entities_path(db).read_bytes()
    whole = json.loads(raw)
    assert raw.count(b"\n") == 5 and whole["size"] == len(whole["counts"]) == 10  # header, 4 lines of rows, end
    pauses: list[int] = []
    assert ec._load(entities_path(db), lambda: pauses.append(1)) == whole and len(pauses) == 4
    counts = read_entity_counts(db)
    assert counts is not None and sum(counts.values()) == 10
    entities_path(db).write_bytes(json.dumps(whole, ensure_ascii=False).encode())  # one line, as written before
    assert read_entity_counts(db) == counts
    entities_path(db).write_bytes(raw[:-40] + b"\n]}")  # a line cut short
    assert read_entity_counts(db) is None


def test_a_writer_reads_its_database_when_first_needed_if_it_is_the_last_folds(workspace_path: Path,
                                                                                monkeypatch) -> None:
    """The app takes the lock and shows the library (summaries) without reading the annotator's database; an
    article's lookup and a save on it read that article's records alone (store.db.record_index), and so does
    the fold on closing (record by record, through the index); the next session is as always."""
    from store.db import journal

    _annotate(workspace_path, "alice", [(0, "PER"), (2, "ORG")], 4, "done")
    reads: list[Path] = []
    real = journal.read_database
    monkeypatch.setattr(journal, "read_database", lambda path, *a, **k: reads.append(path) or real(path, *a, **k))
    ws = Workspace.open(workspace_path)
    try:
        notes = ws.annotations("alice")
        notes.acquire()
        rows = article_rows(ws, "alice", team=False)
        assert reads == [] and sum(r.entities for r in rows) == 2
        article = ws.articles()[0]
        assert [r["label"] for r in notes.for_article(article.id) if r["kind"] == "entity"] == ["PER"]
        start, end = list(WORD.finditer(article.body))[9].span()
        notes.add_entity(article.id, start, end, "LOC")
        assert reads == []
    finally:
        ws.close()
    assert reads == []
    again = Workspace.open(workspace_path)
    try:
        assert sorted(r["label"] for r in again.annotations("alice").for_article(article.id)
                      if r["kind"] == "entity") == ["LOC", "PER"]
    finally:
        again.close()
    # A database that is not the last fold's (rewritten since) is read, and checked, at once.
    db = workspace_path / "annotations" / "alice.json"
    db.write_bytes(db.read_bytes() + b" ")
    reads.clear()
    ws = Workspace.open(workspace_path)
    try:
        ws.annotations("alice")
        assert reads == [db]
    finally:
        ws.close()


def test_the_library_rows_follow_saves_recomputing_only_the_rows_that_changed(workspace_path: Path) -> None:
    from store.team.stats import LibraryRows

    _annotate(workspace_path, "bob", [(0, "LOC")], 2, "done")
    mine, theirs = Workspace.open(workspace_path), Workspace.open(workspace_path)
    try:
        kept = LibraryRows(mine, "alice")
        first = kept.rows()
        before, kept_first = list(first), dict(first.figures)
        articles = theirs.articles()
        bob = theirs.annotations("bob")
        rng = random.Random(3)
        for step in range(12):
            article = articles[step % 4]
            spans = [m.span() for m in WORD.finditer(article.body)]
            if step % 3 == 2:
                bob.set_credibility(article.id, rng.choice([1, 5]))
            else:
                try:
                    bob.add_entity(article.id, *spans[rng.randrange(30, 60)], rng.choice(["PER", "ORG"]))
                except Exception:  # noqa: BLE001 - the same word twice: refused, as in the app
                    pass
            now = kept.rows()
            assert now == article_rows(mine, "alice"), step  # what reading everything gives
        changed = {now[n].id for n, f in now.figures.items() if kept_first.get(n) is not f}
        assert changed <= {a.id for a in articles[:4]} and changed  # the others' figures kept, not made again
        assert list(first) == before and first.figures == kept_first  # the rows given first never changed
    finally:
        mine.close()
        theirs.close()
