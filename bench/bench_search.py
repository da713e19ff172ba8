"""Search a synthetic corpus (default 100,000 articles of ~2,000 characters) beside `grep -c`.

Run: python -m bench.bench_search [--articles N]. Prints JSON; bench/run.py calls run().
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from store.search.index import SearchIndex, texts_from  # noqa: E402

RARE = "زنجبيلية"
"""A word planted in 10 articles only."""
COMMON = "الوطني"


def vocabulary() -> list[str]:
    words: list[str] = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        words += path.read_text(encoding="utf-8").split()
    return [w for w in words if RARE not in w]


def corpus(n: int, size: int = 2000) -> list[tuple[str, str, str]]:
    """(id, title, body) triples of seed words in random order; RARE planted in 10 of them."""
    rng = random.Random(7)
    vocab = vocabulary()
    planted = set(rng.sample(range(n), min(10, n)))
    out = []
    for i in range(n):
        words, length = [], 0
        while length < size:
            w = rng.choice(vocab)
            words.append(w)
            length += len(w) + 1
        if i in planted:
            words[len(words) // 2] = RARE
        out.append((f"a{i:06d}", " ".join(words[:8]), " ".join(words)))
    return out


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def run(articles: int = 100_000) -> dict:
    items = corpus(articles)
    figures: dict = {"articles": articles, "characters": sum(len(b) for _, _, b in items)}
    folder = Path(tempfile.mkdtemp(prefix="tahqiq-bench-search-"))
    try:
        plain = folder / "plain"
        plain.mkdir()
        for article_id, title, body in items:  # the same texts as plain files, for grep
            (plain / f"{article_id}.txt").write_text(title + "\n" + body, encoding="utf-8")
        index = SearchIndex(folder)
        ids, texts = texts_from(items)
        build, _ = _timed(lambda: index.sync(ids, texts))
        figures["index_build_seconds"] = round(build, 2)
        figures["index_mb"] = round(index.data_path.stat().st_size / 2**20, 1)
        for name, word in (("common", COMMON), ("rare", RARE)):
            tracemalloc.start()
            ours, hits = _timed(lambda w=word: len(SearchIndex(folder).counts(w)))
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            grep = shutil.which("grep") or "grep"
            base, count = _timed(lambda w=word, grep=grep: subprocess.run(
                [grep, "-rlc", "--include=*.txt", w, str(plain)], capture_output=True, text=True).stdout.count("\n"))
            figures[f"search_{name}"] = {"word": word, "articles_hit": hits, "seconds": round(ours, 3),
                                         "grep_seconds": round(base, 3), "grep_articles": count,
                                         "ratio_to_grep": round(ours / base, 2) if base else None,
                                         "peak_mb": round(peak / 2**20, 1)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=100_000)
    print(json.dumps(run(parser.parse_args().articles), ensure_ascii=False, indent=1))
