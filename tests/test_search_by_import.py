"""The search index kept up to date by import (the first search builds nothing), checked against its checksums,
and rebuilt by `tahqiq doctor` with corpus.idx when either is missing, stale or damaged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import import_file, run_cli

from store.corpus.catalog import INDEX_FILE, CorpusIndex
from store.search.index import SearchIndex, texts_from
from store.search.query import corpus_counts, find
from store.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent
NEW = [{"id": f"n{i}", "title": f"خبر {i}", "text": f"أعلنت الوزارة اليوم الخبر رقم {i}", "source": "wire"}
       for i in range(4)]
WORD = "الوزارة"


class Watched(SearchIndex):
    """A search index that remembers how many articles its sync added (as bench/tasks.py measures it)."""

    added: int | None = None

    def sync(self, ids, texts) -> int:
        self.added = super().sync(ids, texts)
        return self.added


def imported(path: Path, tmp_path: Path) -> Path:
    ws = Workspace.open(path)
    import_file(ws, tmp_path / "new.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in NEW))
    ws.close()
    return path


def truth(ws: Workspace, word: str) -> dict[str, int]:
    """Occurrences per article found by reading every title and body (no index)."""
    out = {}
    for a in ws.articles():
        n = len(find(a.title, word)) + len(find(a.body, word))
        if n:
            out[a.id] = n
    return out


def test_after_import_the_first_search_adds_nothing(workspace_path: Path, tmp_path: Path, monkeypatch) -> None:
    """Import (the seeds, then a file) appended every article to the index: the first search adds 0, reads
    only the catalog's ids (never every article) and finds what reading every text finds."""
    imported(workspace_path, tmp_path)
    ws = Workspace.open(workspace_path)
    want = truth(ws, WORD)
    ws.close()
    assert {"n0", "n3"} <= set(want)
    ws = Workspace.open(workspace_path)
    try:
        monkeypatch.setattr(ws, "articles", lambda: pytest.fail("the search read every article"))
        index = Watched(ws.path)
        assert corpus_counts(index, ws, WORD) == want
        assert index.added == 0
    finally:
        ws.close()


def test_an_index_not_a_prefix_of_the_corpus_is_rebuilt(tmp_path: Path) -> None:
    ids, texts = texts_from([("b", "", "نص ب"), ("a", "", "نص أ والوزارة")])
    index = SearchIndex(tmp_path)
    index.sync(ids, texts)
    assert SearchIndex(tmp_path).sync(["a", "b"], texts) == 2  # another order: built again
    assert SearchIndex(tmp_path).counts("الوزارة") == {"a": 1}


def test_hits_are_found_in_one_pass_and_counted_when_asked(tmp_path: Path) -> None:
    """Which articles match is known at once, in corpus order; each count is the article's own occurrences in
    its title and body, counted from its bytes; an article whose bytes were rebuilt since counts as 1."""
    ids, texts = texts_from([("a", "الوزارة", "قالت الوِزارة إن الوزارة"), ("b", "", "لا شيء"),
                             ("c", "", "وزارة"), ("d", "", "الوزاره في الوزارة والوزارة الوزارة")])
    index = SearchIndex(tmp_path)
    index.sync(ids, texts)
    hits = index.counts("الوزارة")
    assert list(hits) == ["a", "d"] and len(hits) == 2 and "b" not in hits and "c" not in hits
    assert dict(hits) == {"a": 3, "d": 4}  # (ه and ة fold alike: the index's forgiving rules)
    later = index.counts("الوزارة")
    index.rebuild(["d", "a", "b", "c"], texts)  # another process rebuilt folded.bin in another order
    assert dict(later) == {"a": 1, "d": 1}
    with pytest.raises(KeyError):
        hits["b"]


def test_a_damaged_article_in_folded_bin_is_not_trusted(tmp_path: Path) -> None:
    """A flipped byte in the third article's folded text: the two before it are kept, the rest indexed again."""
    ids, texts = texts_from([(f"a{i}", "", f"نص رقم {i} الوزارة") for i in range(5)])
    SearchIndex(tmp_path).sync(ids, texts)
    index = SearchIndex(tmp_path)
    data = bytearray(index.data_path.read_bytes())
    data[index.ends[1] + 3] ^= 0x01
    index.data_path.write_bytes(bytes(data))
    again = SearchIndex(tmp_path)
    assert again.ids == ["a0", "a1"]
    assert again.sync(ids, texts) == 3 and set(again.counts("الوزارة")) == set(ids)
    assert SearchIndex(tmp_path).problem(ids) is None


def _damage(path: Path, how: str) -> None:
    if how == "delete":
        path.unlink()
    elif how == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        data = bytearray(path.read_bytes())
        at = len(data) * 2 // 3
        if path.name == INDEX_FILE:  # inside the columns section (the titles)
            index = CorpusIndex.open(path)
            start, length, _ = index._sections["columns"]
            index.close()
            at = start + length // 3
        data[at] ^= 0x01
        path.write_bytes(bytes(data))


PROBE = """
import json, sys
from store.search.index import SearchIndex
from store.search.query import corpus_counts
from store.workspace import Workspace

class Watched(SearchIndex):
    added = None
    def sync(self, ids, texts):
        self.added = super().sync(ids, texts)
        return self.added

ws = Workspace.open(sys.argv[1])
used = ws._reader.indexed() is not None
c = ws.catalog()
index = Watched(ws.path)
out = {"catalog": [c.ids, list(c.titles), c.sources, c.dates],
       "articles": {i: ws.article(i).to_record() for i in c.ids},
       "search": dict(corpus_counts(index, ws, sys.argv[2])), "index_used": used, "search_added": index.added}
ws.close()
print(json.dumps(out, ensure_ascii=False))
"""


def probe(path: Path) -> dict:
    """What a new process gets from the workspace (catalog, articles, a search) and whether it read the indexes."""
    done = subprocess.run([sys.executable, "-c", PROBE, str(path), WORD], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("how", ["delete", "truncate", "flip"])
@pytest.mark.parametrize("name", [INDEX_FILE, "search/folded.bin", "search/ids.json"])
def test_doctor_rebuilds_a_damaged_index(workspace_path: Path, tmp_path: Path, name: str, how: str) -> None:
    """Each derived file deleted, cut short or with a flipped byte: `tahqiq doctor` rebuilds it without asking
    (a repair), and a new process then reads the same catalog, articles and search results as before, from the
    indexes (no corpus.json parse, nothing added by the first search)."""
    path = imported(workspace_path, tmp_path)
    before = probe(path)
    assert before["index_used"] and before["search_added"] == 0 and before["search"]
    _damage(path / name, how)
    done = run_cli(["doctor", "--workspace", str(path)])
    assert done.returncode == 0, done.stdout + done.stderr
    where = str(path / (INDEX_FILE if name == INDEX_FILE else "search"))
    repaired = [line for line in done.stdout.splitlines() if line.startswith(f"repaired: {where}:")]
    assert len(repaired) == 1, done.stdout
    again = run_cli(["doctor", "--workspace", str(path)])
    assert f"ok: {where}: 9 article(s), up to date" in again.stdout
    assert "repaired" not in again.stdout
    assert probe(path) == before
