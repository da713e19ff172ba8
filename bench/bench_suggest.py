"""Suggestions for one article with 50,000 tagged strings, beside laying out the same article.

Run: python -m bench.bench_suggest [--strings N]. Prints JSON; bench/run.py calls run().
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from store.assist.suggest import PhraseMatcher  # noqa: E402
from store.corpus.article import parse_page  # noqa: E402
from tui.bidi import layout  # noqa: E402


def _best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run(strings: int = 50_000) -> dict:
    seeds = sorted((ROOT / "seeds").glob("*.txt"))
    bodies = [parse_page(p.read_text(encoding="utf-8"), p.stem).body for p in seeds]
    body = max(bodies, key=len)
    vocab = [w for b in bodies for w in b.split()]
    rng = random.Random(3)
    matcher = PhraseMatcher()
    build = time.perf_counter()
    labels = ["PER", "ORG", "LOC", "MISC"]
    while len(matcher) < strings:  # phrases from the text, then random word pairs and triples
        n = rng.choice((1, 2, 2, 3))
        if len(matcher) < strings // 10:
            start = rng.randrange(len(vocab) - n)
            words = vocab[start:start + n]
        else:
            words = rng.sample(vocab, n)
        matcher.add(" ".join(words), rng.choice(labels))
    build = time.perf_counter() - build
    suggest = _best(lambda: matcher.find(body))
    full_layout = _best(lambda: len(layout(body, 100)))
    first_screen = _best(lambda: layout(body, 100).line(29))
    return {"tagged_strings": len(matcher), "article_characters": len(body),
            "suggestions_found": len(matcher.find(body)), "matcher_build_seconds": round(build, 3),
            "suggest_seconds": round(suggest, 4), "layout_full_seconds": round(full_layout, 4),
            "layout_first_screen_seconds": round(first_screen, 4),
            "suggest_to_full_layout_ratio": round(suggest / full_layout, 2)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--strings", type=int, default=50_000)
    print(json.dumps(run(parser.parse_args().strings), indent=1))
