"""The corpus index corpus.idx (store.corpus.catalog): written by import, read instead of corpus.json while it
matches it, never trusted when stale or damaged, and made for workspaces written before it existed."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from conftest import import_file

from store.corpus.catalog import INDEX_FILE, CorpusIndex, index_problem, read_ahead, write_index
from store.db.lock import open_lock, try_lock
from store.db.storage import AtomicJSONStorage, file_stamp
from store.errors import CorruptFileError, StoreError
from store.workspace import Workspace

NEW = [{"id": f"n{i}", "title": f"خبر رقم {i}", "text": f"نص الخبر رقم {i} عن الوزارة", "source": "wire",
        "date": None if i % 2 else "2024-01-0{i}".format(i=i + 1)} for i in range(3)]


def jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def from_corpus_json(path: Path) -> dict:
    """What corpus.json lists, parsed here: (ids, titles, sources, dates) and each article's record."""
    rows = list(json.loads((path / "corpus.json").read_text("utf-8"))["articles"].values())
    return {"ids": [r["id"] for r in rows], "titles": [r.get("title", "") for r in rows],
            "sources": [r.get("source") for r in rows], "dates": [r.get("date") for r in rows],
            "records": {r["id"]: r for r in rows}}


def seen(ws: Workspace) -> dict:
    """What the workspace gives: its catalog, and every article by id (as records, texts included)."""
    c = ws.catalog()
    return {"catalog": (c.ids, c.titles, c.sources, c.dates),
            "articles": {i: ws.article(i).to_record() for i in c.ids},
            "all": [a.to_record() for a in ws.articles()]}


def expected(path: Path) -> dict:
    """`seen` for a workspace read the old way: corpus.json parsed whole (corpus.idx removed from a copy)."""
    copy = path.parent / (path.name + "-parsed")
    shutil.copytree(path, copy)
    (copy / INDEX_FILE).unlink(missing_ok=True)
    ws = Workspace.open(copy, read_only=True)  # (read only: it writes no index, and reads corpus.json)
    try:
        assert ws._reader.indexed() is None
        return seen(ws)
    finally:
        ws.close()
        shutil.rmtree(copy)


@pytest.fixture
def two_imports(workspace_path: Path, tmp_path: Path) -> Path:
    ws = Workspace.open(workspace_path)
    assert import_file(ws, tmp_path / "new.jsonl", jsonl(NEW)).imported == ["n0", "n1", "n2"]
    ws.close()
    return workspace_path


def test_import_writes_an_index_read_instead_of_corpus_json(two_imports: Path, monkeypatch) -> None:
    """After import, opening the workspace, its catalog and one article read corpus.idx, not corpus.json."""
    want = expected(two_imports)
    assert index_problem(two_imports / INDEX_FILE, file_stamp(two_imports / "corpus.json")) is None
    listed = from_corpus_json(two_imports)
    monkeypatch.setattr(AtomicJSONStorage, "read", lambda self: pytest.fail("corpus.json was parsed"))
    ws = Workspace.open(two_imports)
    try:
        c = ws.catalog()
        assert (c.ids, c.titles, c.sources, c.dates) == tuple(listed[k] for k in ("ids", "titles", "sources", "dates"))
        assert c.ids[-3:] == ["n0", "n1", "n2"] and c.dates[-3:] == ["2024-01-01", None, "2024-01-03"]
        article = ws.article("n1")
        assert type(article).__name__ == "StoredArticle" and article.body == "نص الخبر رقم 1 عن الوزارة"
        assert seen(ws) == want
        with pytest.raises(StoreError, match="no article with id 'nope'"):
            ws.article("nope")
        assert not ws.is_empty
    finally:
        ws.close()


def test_an_import_by_another_workspace_is_seen_and_indexed(workspace_path: Path, tmp_path: Path) -> None:
    """A workspace open before another instance imports sees the new articles (the index it held is stale)."""
    reader, writer = Workspace.open(workspace_path), Workspace.open(workspace_path)
    try:
        before = list(reader.catalog().ids)
        held = reader._reader.indexed()
        assert held is not None
        import_file(writer, tmp_path / "new.jsonl", jsonl(NEW))
        assert held.stamp != file_stamp(workspace_path / "corpus.json")  # what the reader held is stale now
        assert reader.catalog().ids == before + ["n0", "n1", "n2"]
        assert reader.article("n2").title == "خبر رقم 2"
        assert reader._reader.indexed() is not None and reader._reader._loaded is None  # the writer's new index
    finally:
        reader.close()
        writer.close()


def test_a_stale_index_is_not_used_and_is_rewritten(workspace_path: Path, tmp_path: Path) -> None:
    """An index built from an older corpus.json (put back by hand, a failed write) is never read: corpus.json is,
    and the index is written again for it by whoever can take the corpus lock."""
    old = (workspace_path / INDEX_FILE).read_bytes()
    ws = Workspace.open(workspace_path)
    import_file(ws, tmp_path / "new.jsonl", jsonl(NEW))
    ws.close()
    (workspace_path / INDEX_FILE).write_bytes(old)
    assert index_problem(workspace_path / INDEX_FILE, file_stamp(workspace_path / "corpus.json")).startswith("stale")
    ws = Workspace.open(workspace_path)
    try:
        assert ws.catalog().ids[-3:] == ["n0", "n1", "n2"] and ws.article("n0").title == "خبر رقم 0"
    finally:
        ws.close()
    assert index_problem(workspace_path / INDEX_FILE, file_stamp(workspace_path / "corpus.json")) is None


def _sections(path: Path) -> dict[str, int]:
    """A byte inside each part of corpus.idx: its header and each section."""
    index = CorpusIndex.open(path)
    assert index is not None
    try:
        inside = {name: start + length // 2 for name, (start, length, _) in index._sections.items()}
        return {"header": 30, "header_json": 45, **inside}
    finally:
        index.close()


@pytest.mark.parametrize("part", ["header", "header_json", "ids", "columns", "titles", "records", "offsets",
                                  "truncated", "empty"])
def test_a_damaged_index_is_never_trusted(two_imports: Path, part: str) -> None:
    """A flipped byte anywhere in corpus.idx, or the file cut short: the workspace reads corpus.json (same
    catalog, articles and texts) and writes the index again."""
    want = expected(two_imports)
    path = two_imports / INDEX_FILE
    data = bytearray(path.read_bytes())
    if part == "truncated":
        data = data[: len(data) - 40]
    elif part == "empty":
        data = bytearray()
    else:
        data[_sections(path)[part]] ^= 0x01
    path.write_bytes(bytes(data))
    stamp = file_stamp(two_imports / "corpus.json")
    assert index_problem(path, stamp) is not None
    ws = Workspace.open(two_imports)
    try:
        assert seen(ws) == want
    finally:
        ws.close()
    assert index_problem(path, stamp) is None  # rewritten (the lock was free)


def test_an_index_of_the_older_format_is_read_around_and_rewritten(two_imports: Path) -> None:
    """A corpus.idx of version 1 (its titles inside `columns`, as JSON: a workspace of an older tahqiq) is not read
    as this version's; doctor says which it is, and the first open reads corpus.json and writes version 2."""
    want = expected(two_imports)
    path = two_imports / INDEX_FILE
    data = path.read_bytes()
    assert data.startswith(b"tahqiq-corpus-index 2 ")
    path.write_bytes(b"tahqiq-corpus-index 1 " + data[len(b"tahqiq-corpus-index 2 "):])
    stamp = file_stamp(two_imports / "corpus.json")
    assert index_problem(path, stamp) == "in the format of an older tahqiq"
    ws = Workspace.open(two_imports)
    try:
        assert seen(ws) == want
    finally:
        ws.close()
    assert index_problem(path, stamp) is None and path.read_bytes().startswith(b"tahqiq-corpus-index 2 ")


def test_a_large_corpus_is_indexed_by_a_process_of_its_own(two_imports: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """corpus.idx gone, or of an older version (a moved workspace, an upgrade): the reader of a large corpus
    (APART_BYTES, 0 here) has `python -m store.corpus.reader` write it, and reads that; corpus.json is never parsed
    in the reader itself. When that process cannot run, the reader parses corpus.json and writes the index, as
    before."""
    from store.corpus import reader

    monkeypatch.setattr(reader, "APART_BYTES", 0)
    want = expected(two_imports)
    path, stamp = two_imports / INDEX_FILE, file_stamp(two_imports / "corpus.json")
    data = path.read_bytes()
    for older in (None, b"tahqiq-corpus-index 1 " + data[len(b"tahqiq-corpus-index 2 "):]):
        path.unlink()
        if older is not None:
            path.write_bytes(older)
        ws = Workspace.open(two_imports)
        try:
            assert seen(ws) == want and ws._reader._loaded is None  # (the index only: no corpus.json here)
        finally:
            ws.close()
        assert index_problem(path, stamp) is None
    path.unlink()
    monkeypatch.setattr(sys, "executable", str(two_imports / "no-such-python"))
    ws = Workspace.open(two_imports)
    try:
        assert seen(ws) == want and ws._reader._loaded is not None  # (parsed here)
    finally:
        ws.close()
    assert index_problem(path, stamp) is None


def test_a_fresh_index_does_not_hide_a_damaged_corpus(two_imports: Path, tmp_path: Path) -> None:
    """corpus.json put back to an older copy lists fewer articles than bodies.bin holds: refused as before, even
    with an index built for that very corpus.json (bodies.bin is checked against the index's counts)."""
    older = tmp_path / "older.json"
    ws = Workspace.open(tmp_path / "other")
    ws.close()
    shutil.copy(two_imports / "corpus.json", older)
    rows = list(json.loads(older.read_text("utf-8"))["articles"].values())[:-3]
    (two_imports / "corpus.json").write_text(json.dumps({"articles": {str(i): r for i, r in enumerate(rows, 1)}},
                                                        ensure_ascii=False), encoding="utf-8")
    write_index(two_imports / INDEX_FILE, file_stamp(two_imports / "corpus.json"), rows)
    with pytest.raises(CorruptFileError, match="lists 5 article.* holds 8"):
        Workspace.open(two_imports)
    (two_imports / "corpus.json").write_bytes(b'{"articles": {"1": ')  # damaged: not JSON (the index is stale)
    with pytest.raises(CorruptFileError, match="not a valid database file"):
        Workspace.open(two_imports)


def test_a_workspace_without_an_index_gets_one_on_open(two_imports: Path) -> None:
    """A workspace written before corpus.idx existed works as it is; the first open that can take the corpus lock
    without waiting writes the index. Opened read only, or while an import holds the lock, nothing is written."""
    want = expected(two_imports)
    path, stamp = two_imports / INDEX_FILE, file_stamp(two_imports / "corpus.json")
    path.unlink()
    ws = Workspace.open(two_imports, read_only=True)
    assert seen(ws) == want and not path.exists()
    ws.close()
    fd = open_lock(two_imports / "corpus.lock")
    try:
        assert try_lock(fd)  # (another open file description: as another process's import would hold it)
        ws = Workspace.open(two_imports)
        assert seen(ws) == want and not path.exists()
        ws.close()
    finally:
        os.close(fd)
    ws = Workspace.open(two_imports)
    ws.close()
    assert index_problem(path, stamp) is None


def test_a_catalog_read_once_is_taken_again_while_its_file_is_the_same(two_imports: Path, tmp_path: Path) -> None:
    """`tahqiq serve`'s starter reads the catalog before it forks the sessions, which take it as read
    (store.corpus.catalog._READ); an index rewritten since is read anew, and doctor's check reads the file itself."""
    path = two_imports / INDEX_FILE

    def catalog():
        index = CorpusIndex.open(path)
        assert index is not None
        try:
            return index.catalog()
        finally:
            index.close()

    read_ahead(two_imports)
    first = catalog()
    assert catalog() is first and len(first.ids) == 8
    ws = Workspace.open(two_imports)
    try:
        assert import_file(ws, tmp_path / "more.jsonl", jsonl([{**NEW[0], "id": "m0"}])).imported == ["m0"]
    finally:
        ws.close()
    again = catalog()
    assert again is not first and again.ids[-1] == "m0"
    st = path.stat()  # a byte flipped in place, the file's size and time kept: the catalog taken is the one read
    data = bytearray(path.read_bytes())
    data[_sections(path)["columns"]] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert catalog() is again
    index = CorpusIndex.open(path)
    try:
        assert "columns" in (index.problem() or "")  # what `tahqiq doctor` asks is read from the file
    finally:
        index.close()
