"""The Python API scripts and the TUI share: validation on the way in, persistence, crash safety."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from store import StoreError, ValidationError, Workspace

ARTICLE = "52f015e52f40b84e"


def _around(notes, word: str, before: int, after: int) -> tuple[int, int]:
    """The span of the first `word` in the article, widened by `before`/`after` characters."""
    body = notes._article(ARTICLE).body
    start = body.index(word)
    return start - before, start + len(word) + after


def test_entity_claim_credibility_roundtrip(workspace_path: Path) -> None:
    ws = Workspace.open(workspace_path)
    body = ws.article(ARTICLE).body
    start = body.index("بوبكر سبيك")
    notes = ws.annotations("alice")
    entity = notes.add_entity(ARTICLE, start, start + len("بوبكر سبيك"), "PER")
    claim_end = body.index(" ", 40)
    claim = notes.add_claim(ARTICLE, 0, claim_end, type="statistic", check_worthiness="check-worthy")
    notes.set_credibility(ARTICLE, 4, note="مصدر رسمي", indicators=["named sources"])
    notes.set_credibility(ARTICLE, 3)
    ws.close()

    again = Workspace.open(workspace_path).annotations("alice")
    rows = again.for_article(ARTICLE)
    assert [r["kind"] for r in rows] == ["credibility", "claim", "entity"]
    assert rows[0]["attributes"] == {"score": 3, "indicators": [], "note": None}
    assert rows[2]["text"] == "بوبكر سبيك" and rows[2]["label"] == "PER"
    assert rows[1]["attributes"] == {"type": "statistic", "check_worthiness": "check-worthy"}  # no verdict chosen
    again.remove(entity["id"])
    assert [r["id"] for r in again.for_article(ARTICLE) if r["kind"] != "credibility"] == [claim["id"]]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: s.add_entity(ARTICLE, 10, 10, "PER"), "span 10-10 is outside"),
        (lambda s: s.add_entity(ARTICLE, -1, 3, "PER"), "span -1-3"),
        (lambda s: s.add_entity(ARTICLE, 0, 10**6, "PER"), "body has 2693 characters"),
        (lambda s: s.add_entity(ARTICLE, 0, 3, "PERS"), "unknown entity label 'PERS'"),
        (lambda s: s.add_entity(ARTICLE, 0.5, 3, "PER"), "offsets must be integers"),
        (lambda s: s.add_claim(ARTICLE, 0, 3, verdict="maybe"), "claim attribute verdict"),
        (lambda s: s.add_entity(ARTICLE, *_around(s, "بوبكر", 0, 1), "LOC"), "ends with white space"),
        (lambda s: s.add_entity(ARTICLE, *_around(s, "بوبكر", 1, 0), "LOC"), "begins or ends with white space"),
        (lambda s: s.add_entity(ARTICLE, *_around(s, " ", 0, 0), "LOC"), "begins or ends with white space"),
        (lambda s: s.add_entity(ARTICLE, *_around(s, "“", 0, 0), "MISC"), "holds no letter or digit"),
        (lambda s: s.set_credibility(ARTICLE, None), "nothing to save"),
        (lambda s: s.set_credibility(ARTICLE, 0), "score must be 1-5"),
        (lambda s: s.set_credibility(ARTICLE, 6), "score must be 1-5"),
        (lambda s: s.set_credibility(ARTICLE, 3, indicators=["vibes"]), "unknown credibility indicator"),
        (lambda s: s.remove("nope"), "no annotation with id 'nope'"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_saved(workspace: Workspace, call, message) -> None:
    notes = workspace.annotations("bob")
    with pytest.raises(ValidationError, match=message):
        call(notes)
    assert notes.all() == []


def test_unknown_article_and_bad_annotator(workspace: Workspace) -> None:
    with pytest.raises(StoreError, match="no article with id 'zzz'"):
        workspace.annotations("bob").add_entity("zzz", 0, 1, "PER")
    with pytest.raises(StoreError, match="annotator name '../etc'"):
        workspace.annotations("../etc")


def test_saving_an_annotation_never_rewrites_the_corpus(workspace: Workspace) -> None:
    stat = workspace.corpus_path.stat()
    workspace.annotations("alice").add_entity(ARTICLE, 0, 3, "ORG")
    after = workspace.corpus_path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)


SAVER = """
import sys
from store import Workspace
ws = Workspace.open(sys.argv[1])
notes = ws.annotations("crash")
body = ws.article(sys.argv[2]).body
spans = [(m.start(), m.end()) for m in __import__("re").finditer(r"\\w+", body)]
i = 0
while True:
    start, end = spans[i % len(spans)]
    record = notes.add_claim(sys.argv[2], start, end, note=str(i))
    print(record["id"], flush=True)
    i += 1
"""


@pytest.mark.parametrize("seed", range(6))
def test_kill_9_during_saves_keeps_every_returned_save(workspace_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    proc = subprocess.Popen([sys.executable, "-c", SAVER, str(workspace_path), ARTICLE],
                            stdout=subprocess.PIPE, text=True)
    returned: list[str] = []
    deadline = time.monotonic() + rng.uniform(0.3, 1.5)
    assert proc.stdout is not None
    while time.monotonic() < deadline or len(returned) < 3:
        returned.append(proc.stdout.readline().strip())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    returned += [line.strip() for line in proc.stdout if line.strip()]  # lines already written
    saved = {r["id"] for r in Workspace.open(workspace_path).annotations("crash").all()}
    assert len(returned) >= 3
    assert set(returned) <= saved, f"lost {len(set(returned) - saved)} of {len(returned)} saves"
