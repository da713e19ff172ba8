"""An export's passes are shared with a helper process (store.exchange.helper): it spools some of the articles
through the annotators' record indexes while the exporting process spools the others, and, for a format of records
in a frame (our json and jsonl), makes the last articles' records while the exporting process makes the first
ones'. Every format's output, and every refusal, must be byte for byte what the export alone gives from the whole
files; an annotator either process cannot spool through the index (no index, a damaged record, the helper gone) is
spooled whole by the exporting process instead, and records the helper did not make are made by the exporting
process."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from test_export_fixtures import make_annotated
from test_export_scan import _hostile, _same_as_whole

from store import Workspace
from store.annotation.record import GROUP_FIELD
from store.db.record_index import rebuild_record_index
from store.exchange import export, framed, helper


@pytest.fixture
def helped(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], list[str]]]:
    """Every export here starts a helper, whatever the machine and the sizes, which spools the articles at odd
    positions; the list gets, per helper, the annotators it was given and those it handed back, and, per helper
    asked for the last records, ("rest", the count it made, or None when it failed)."""
    monkeypatch.setattr(helper, "CORES", 2)
    monkeypatch.setattr(helper, "HELPER_BYTES", 0)
    seen: list[tuple] = []
    start, results, rest = helper.Helper.start.__func__, helper.Helper.results, helper.Helper.rest

    def started(cls: type[helper.Helper], jobs: list, *args: object, **kwargs: object) -> helper.Helper | None:
        made = start(cls, jobs, *args, **kwargs)
        if made is not None:
            made.given = [name for name, _db in jobs]
        return made

    def recorded(self: helper.Helper) -> list:
        got = results(self)
        seen.append((self.given, [name for name, spool in zip(self.given, got) if spool is None]))
        return got

    def rested(self: helper.Helper) -> tuple | None:
        got = rest(self)
        seen.append(("rest", None if got is None else got[0].count))
        return got

    monkeypatch.setattr(helper.Helper, "start", classmethod(started))
    monkeypatch.setattr(helper.Helper, "results", recorded)
    monkeypatch.setattr(helper.Helper, "rest", rested)
    return seen


def _journal_changes(path: Path) -> None:
    """Saves left in alice's and bob's journals over their folded databases (puts, a removal, states)."""
    ws = Workspace.open(path)
    try:
        ids = [a.id for a in ws.articles()]
        alice, bob = ws.annotations("alice"), ws.annotations("bob")
        alice.update(alice.all()[0]["id"], label="PER")
        alice.set_state(ids[-1], "done")
        bob.remove(bob.all()[0]["id"])
        bob.add_entity(ids[0], 0, ws.article(ids[0]).body.index(" "), "LOC")
        bob.set_state(ids[1], "in progress")
    finally:
        ws.close()


def test_helped_exports_are_the_whole_files_exports(workspace_path: Path, tmp_path: Path, helped: list) -> None:
    path = make_annotated(workspace_path, tmp_path)
    _journal_changes(path)
    for name in ("alice", "bob"):
        assert rebuild_record_index(path / "annotations" / f"{name}.json", GROUP_FIELD)
    _same_as_whole(path, tmp_path / "all")
    assert (["alice", "bob"], []) in helped, helped  # (through the indexes)
    assert (["alice", "bob"], ["alice", "bob"]) in helped, helped  # (no index: both handed back)
    made = [count for kind, count in helped if kind == "rest"]
    assert len(made) == 2 and all(made), helped  # (json and jsonl: the helper made the last records of each)
    helped.clear()
    _same_as_whole(path, tmp_path / "some", articles="state=done|not-started")
    _same_as_whole(path, tmp_path / "reversed", annotators=["bob", "alice"])
    assert (["alice", "bob"], []) in helped and (["bob", "alice"], []) in helped, helped


@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("parity", [0, 1])
def test_a_damaged_record_is_told_whichever_process_finds_it(workspace_path: Path, tmp_path: Path, helped: list,
                                                             parity: int, skip: bool) -> None:
    """A record the check refuses, behind an index that fits it, on an article at an even position (this
    process finds it) or an odd one (the helper does, and hands bob back): bob is read whole, which says what is
    wrong, exactly as without a helper."""
    path = make_annotated(workspace_path, tmp_path)
    ws = Workspace.open(path)
    ids = [a.id for a in ws.articles()]
    ws.close()
    db = path / "annotations" / "bob.json"
    raw = db.read_bytes()
    record = next(r for r in json.loads(raw)["annotations"].values() if ids.index(r["article_id"]) % 2 == parity
                  and r["kind"] == "entity")
    at = raw.index(b'"start":', raw.index(b'"id":' + json.dumps(record["id"]).encode())) + len(b'"start":')
    db.write_bytes(raw[:at] + b"-" + raw[at:])
    assert rebuild_record_index(db, GROUP_FIELD)
    got = _same_as_whole(path, tmp_path / "out", skip_damaged=skip)
    assert (["alice", "bob"], ["bob"] if parity else []) in helped, helped
    for fmt, output in got.items():
        assert (b"fields 'start'/'end'" in output) and (skip or output.startswith(b"refused")), fmt


def test_a_helper_that_fails_hands_everything_back(workspace_path: Path, tmp_path: Path, helped: list,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A helper that ends in failure after spooling every annotator: this process spools them whole, or, where the
    helper was to make the last records too (its spools were handed over first), makes those records itself."""
    path = make_annotated(workspace_path, tmp_path)
    failing = tmp_path / "failing-python"
    failing.write_text(f'#!/bin/sh\n"{sys.executable}" "$@"\nexit 1\n', encoding="utf-8")
    failing.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(failing))
    _same_as_whole(path, tmp_path / "out")
    rests = [count for kind, count in helped if kind == "rest"]
    spooled = [(given, left) for given, left in helped if given != "rest"]
    assert rests == [None, None], helped  # (json and jsonl: made here)
    assert sum(left == [] for _given, left in spooled) == 2, helped  # (their spools, handed over before it failed)
    assert all(given == left == ["alice", "bob"] for given, left in spooled if left), helped


def test_the_helpers_records_reach_a_text_stream_whole(tmp_path: Path, helped: list,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Exported to a text stream, the helper's records are read back in chunks that cut characters in two (a chunk
    of 7 bytes here): the stream gets the same text as the file."""
    monkeypatch.setattr(framed, "_CHUNK", 7)
    path = _hostile(tmp_path / "ws")
    got = _same_as_whole(path, tmp_path / "out")
    ws = Workspace.open(path)
    try:
        for fmt in ("jsonl", "json"):
            text = io.StringIO()
            export(ws, fmt, out=text)
            assert text.getvalue() == got[fmt].decode(), fmt
    finally:
        ws.close()
    assert [kind for kind, count in helped if kind == "rest" and count] == ["rest"] * 4, helped


def test_the_two_shares_are_the_articles() -> None:
    ids = [f"a{n}" for n in range(1001)]
    theirs, mine = helper.share(ids, helper=True), helper.share(ids, helper=False)
    assert not theirs.keys() & mine.keys() and theirs | mine == {i: n for n, i in enumerate(ids)}
    assert len(theirs) == 500 and [n for n in theirs.values() if n < 10] == [1, 3, 5, 7, 9]
