"""Everything derived lost at once (corpus.idx, the search index, every annotator's summaries and entity counts):
`tahqiq doctor` rebuilds it all from corpus.json, bodies.bin, the TinyDB files and the journals, and a new process
then shows the same library, search and suggestions as before, read from the rebuilt files, not the records."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, run_cli

from store.workspace import Workspace

WORD = re.compile(r"\w+")
PROBE = r"""
import json, sys
from pathlib import Path
from store.workspace import Workspace
from store.team.stats import article_rows
from store.assist.suggest import Suggester
from store.search.index import SearchIndex
from store.search.query import corpus_counts

ws = Workspace.open(Path(sys.argv[1]))
rows = article_rows(ws, "alice")
opened = sorted(ws._sets)
index = SearchIndex(ws.path)
hits = dict(corpus_counts(index, ws, "الأمن"))
suggester = Suggester(ws, "alice")
first = ws.catalog().ids[0]
print(json.dumps({
    "rows": [[r.id, r.state, r.entities, r.claims, r.credibility, r.credibility_mean, sorted(r.labels),
              sorted(r.annotators), sorted(r.done_by)] for r in rows],
    "opened_for_rows": opened,
    "hits": hits,
    "suggested": [[s.start, s.end, s.label] for s in suggester.for_article(first)],
    "tagged": len(suggester.tagged),
}, ensure_ascii=False, sort_keys=True))
"""


def probe(path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_doctor_rebuilds_every_derived_file_as_a_new_process_reads_them(workspace_path: Path) -> None:
    ws = Workspace.open(workspace_path)
    articles = ws.articles()
    for name, score in (("alice", 4), ("bob", 2), ("carol", 5)):
        notes = ws.annotations(name)
        for article in articles[:3]:
            spans = [m.span() for m in WORD.finditer(article.body)]
            notes.add_entity(article.id, *spans[2], "PER")
            notes.add_claim(article.id, spans[5][0], spans[7][1])
        notes.set_credibility(articles[0].id, score)
        notes.set_state(articles[1].id, "done")
    first_words = articles[0].body[slice(*next(WORD.finditer(articles[0].body)).span())]
    ws.close()
    before = probe(workspace_path)
    assert before["opened_for_rows"] == [] and before["hits"] and before["tagged"] >= 3
    assert before["rows"][0][5] == round((4 + 2 + 5) / 3, 2), first_words

    folder = workspace_path / "annotations"
    derived = [workspace_path / "corpus.idx", *folder.glob("*.summary"), *folder.glob("*.entities")]
    assert len(derived) == 7
    for path in derived:
        path.unlink()
    shutil.rmtree(workspace_path / "search")

    done = run_cli(["doctor", "--workspace", str(workspace_path)])
    assert done.returncode == 0, done.stdout + done.stderr
    repaired = [line for line in done.stdout.splitlines() if line.startswith("repaired:")]
    assert len(repaired) == 8, done.stdout  # corpus.idx, the search index, 3 summaries, 3 entity counts
    assert sorted(Path(p).name for p in derived) == sorted(p.name for p in [workspace_path / "corpus.idx",
                                                                           *folder.glob("*.summary"),
                                                                           *folder.glob("*.entities")])
    assert probe(workspace_path) == before
    again = run_cli(["doctor", "--workspace", str(workspace_path)])
    assert "repaired" not in again.stdout, again.stdout


def test_a_dry_run_writes_nothing_not_even_what_is_derived(workspace_path: Path) -> None:
    ws = Workspace.open(workspace_path)
    article = ws.articles()[0]
    ws.annotations("alice").add_entity(article.id, *next(WORD.finditer(article.body)).span(), "PER")
    ws.close()
    (workspace_path / "corpus.idx").unlink()
    (workspace_path / "annotations" / "alice.summary").unlink()
    shutil.rmtree(workspace_path / "search")

    def files() -> dict[str, bytes]:
        return {str(p.relative_to(workspace_path)): p.read_bytes() for p in sorted(workspace_path.rglob("*"))
                if p.is_file()}

    before = files()
    done = run_cli(["doctor", "--dry-run", "--workspace", str(workspace_path)])
    assert "would be" in done.stdout, done.stdout
    assert files() == before
