"""Build the synthetic workspace bench/run.py measures: N articles of ~2,000 characters and M annotations
over K annotators, written as the very files store/ reads.

Articles go through the real importer (one generated JSONL file). Annotations are written straight to each
annotator's folded TinyDB file (`annotations/<name>.json`, no journal): a million `add_entity` calls would
take hours, and the file is byte-for-byte what a fold writes; beside it, what a fold writes beside it (the
summaries and entity counts of store.annotation.summary, the record index of store.db.record_index). Every
text is a pure function of its article number, so annotations can be generated without holding the corpus
in memory.

Each annotator copies a hidden "truth" per article with noise (as bench_agreement does) and covers a run of
consecutive articles; neighbouring annotators share a quarter of theirs, so agreement has pairs to compare.
"""
from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from bench.bench_agreement import LABELS, STAMP, _noisy
from bench.bench_search import COMMON, RARE, vocabulary
from store import Workspace
from store.annotation.record import GROUP_FIELD
from store.annotation.summary import rebuild_summary
from store.db.record_index import rebuild_record_index
from store.db.storage import dumps

WORDS_PER_ARTICLE = 322
"""~2,000 characters with the seed vocabulary (5.2 letters a word, plus the space)."""
PARAGRAPH_WORDS = 64
SLOTS = 10
"""Entities per article in the truth: one near the start of each tenth of the body."""
FREE_AT = 110
"""Offset into each tenth of a body that no synthetic entity reaches: where the save benchmark tags."""
OVERLAP = 0.25
"""Share of an annotator's articles that the next annotator also does."""
SOURCES = [f"wire-{k:02d}" for k in range(12)]
"""Source names; "wire-" is what the open benchmark waits for on the screen."""
PER_ARTICLE = 1 + 0.9 * SLOTS + 0.3 + 3 * 0.85
"""Expected annotations per annotated article: credibility, entities kept, a spurious one, claims kept."""


def article_id(i: int) -> str:
    """The id of article number i."""
    return f"a{i:06d}"


def planted(n: int) -> set[int]:
    """The 10 article numbers that carry the rare word."""
    return set(random.Random(7).sample(range(n), min(10, n)))


class Corpus:
    """The synthetic corpus: article i's title and body, regenerated on demand from i alone."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.vocab = vocabulary()
        self.rare = planted(n)

    def body(self, i: int) -> str:
        """~2,000 characters of seed words in paragraphs; the rare word in the middle of planted ones."""
        words = random.Random(i * 1_000_003 + 11).choices(self.vocab, k=WORDS_PER_ARTICLE)
        if i in self.rare:
            words[len(words) // 2] = RARE
        paras = [" ".join(words[k:k + PARAGRAPH_WORDS]) for k in range(0, len(words), PARAGRAPH_WORDS)]
        return "\n".join(paras)

    def record(self, i: int) -> dict:
        """The JSONL record the importer reads for article i."""
        body = self.body(i)
        return {"id": article_id(i), "title": " ".join(body.split()[:8]), "text": body,
                "source": SOURCES[i % len(SOURCES)], "date": (date(2020, 1, 1) + timedelta(days=i % 1500)).isoformat()}

    def write_jsonl(self, path: Path) -> None:
        """All articles as one JSONL file (also the input of the grep baseline)."""
        with path.open("w", encoding="utf-8") as out:
            for i in range(self.n):
                out.write(json.dumps(self.record(i), ensure_ascii=False) + "\n")


def truth(i: int, body: str) -> tuple[int, list[tuple[int, int, str]], list[tuple[int, int]]]:
    """The hidden reference of article i: a score, word-aligned entities (one per tenth), three claims."""
    rng = random.Random(i * 7919 + 3)
    step = len(body) // SLOTS
    ents = []
    for k in range(SLOTS):
        start = body.find(" ", k * step + 5) + 1
        end = start
        for _ in range(rng.randint(1, 3)):
            nxt = body.find(" ", end + 1)
            if nxt == -1 or nxt - start > 40:
                break
            end = nxt
        end = max(end, start + 3)
        ents.append((start, end, rng.choice(LABELS)))
    third = len(body) // 3
    claims = [(k * third + 2, k * third + 2 + rng.randint(40, 150)) for k in range(3)]
    return rng.randint(1, 5), ents, claims


def copy_of_truth(rng: random.Random, i: int, body: str) -> Iterator[tuple[str, int | None, int | None, str, dict]]:
    """One annotator's noisy copy of article i: (kind, start, end, label, attributes)."""
    score, ents, claims = truth(i, body)
    noise = rng.random()
    given = score if noise < 0.6 else score + rng.choice((-1, 1) if noise < 0.9 else (-2, 2))
    yield "credibility", None, None, "CREDIBILITY", {"score": min(5, max(1, given)), "indicators": [], "note": None}
    for start, end, label in ents:
        r = rng.random()
        if r < 0.1:
            continue  # missed
        if r < 0.25:
            start, end = _noisy(rng, start, end, len(body))
        if rng.random() < 0.05:
            label = rng.choice([x for x in LABELS if x != label])
        yield "entity", start, end, label, {}
    if rng.random() < 0.3:  # a spurious entity just after the first one
        yield "entity", ents[0][1] + 3, ents[0][1] + 7, rng.choice(LABELS), {}
    for start, end in claims:
        r = rng.random()
        if r < 0.15:
            continue
        if r < 0.5:
            start, end = _noisy(rng, start, end, len(body))
        yield "claim", start, end, "CLAIM", {"verdict": "unverified"}


def coverage(n: int, per_annotator: int, annotators: int) -> list[int]:
    """First article of each annotator's run, so that neighbours overlap by OVERLAP and all fit in n."""
    articles = per_annotator / PER_ARTICLE * 1.05
    if articles > n:
        raise SystemExit(f"{per_annotator} annotations per annotator need ~{articles:.0f} articles; "
                         f"use --articles {int(articles) + 1} or more")
    step = articles * (1 - OVERLAP)
    if annotators > 1 and step * (annotators - 1) + articles > n:
        step = (n - articles) / (annotators - 1)
    return [int(a * step) for a in range(annotators)]


def write_annotator(folder: Path, corpus: Corpus, a: int, first: int, target: int) -> list[str]:
    """Write annotator a's folded database (`target` annotations from article `first` on); its articles."""
    name = f"annotator{a + 1}"
    rng = random.Random(1000 + a)
    done: list[str] = []
    key = 0
    with (folder / f"{name}.json").open("wb") as out:
        out.write(b'{"annotations":{')
        i = first
        while key < target:
            body, aid = corpus.body(i), article_id(i)
            for kind, start, end, label, attributes in copy_of_truth(rng, i, body):
                key += 1
                row = {"id": f"{a:02x}{key:010x}", "annotator": name, "created": STAMP, "updated": STAMP,
                       "article_id": aid, "kind": kind, "start": start, "end": end,
                       "text": body[start:end] if start is not None else None, "label": label,
                       "attributes": attributes}
                out.write(b"%s\"%d\":%s" % (b"," if key > 1 else b"", key, dumps(row)))
                if key == target:
                    break
            done.append(aid)
            i = (i + 1) % corpus.n
            if len(done) > corpus.n:
                raise SystemExit(f"{name}: {target} annotations do not fit in {corpus.n} articles")
        out.write(b'},"progress":{')
        for k, aid in enumerate(done, 1):
            state = "in progress" if k % 10 == 0 else "done"
            row = {"article_id": aid, "state": state, "updated": STAMP}
            out.write(b"%s\"%d\":%s" % (b"," if k > 1 else b"", k, dumps(row)))
        out.write(b"}}")
    return done


def build(path: Path, jsonl: Path, articles: int, annotations: int, annotators: int) -> dict:
    """Write the whole workspace at `path` (and the articles' JSONL at `jsonl`); returns what was made."""
    corpus = Corpus(articles)
    per = annotations // annotators
    firsts = coverage(articles, per, annotators)
    corpus.write_jsonl(jsonl)
    ws = Workspace.open(path)
    report = ws.import_paths([jsonl])
    ws.close()
    if len(report.imported) != articles:
        raise SystemExit(f"import: {report.summary()}")
    folder = path / "annotations"
    covered = {f"annotator{a + 1}": write_annotator(folder, corpus, a, first, per)
               for a, first in enumerate(firsts)}
    for name in covered:  # what the app's fold leaves beside each database (store.annotation.summary, the index)
        rebuild_summary(folder / f"{name}.json")
        if not rebuild_record_index(folder / f"{name}.json", GROUP_FIELD):
            raise SystemExit(f"{name}.json is not laid out as a fold writes it")
    return {"annotators": list(covered), "annotations_per_annotator": per, "covered": covered,
            "rare_articles": sorted(article_id(i) for i in corpus.rare), "common_word": COMMON, "rare_word": RARE}
