"""Time tui.bidi layout against python-bidi's get_display over the same text; prints JSON.

Run: python -m bench.bench_layout   or   python bench/bench_layout.py
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bidi import get_display  # noqa: E402

from tui.bidi import layout  # noqa: E402

WIDTH = 100
PAGE = 30


def seed_dir() -> Path:
    for d in (ROOT / "seeds", ROOT.parent / "shared" / "seeds"):
        if d.is_dir() and any(d.glob("*.txt")):
            return d
    raise SystemExit("no seeds/ directory with *.txt found")


def synthetic(size: int = 200_000) -> str:
    """An article of mixed Arabic paragraphs (numbers, Latin, brackets, harakat) of `size` chars."""
    para = ("قال المتحدث الرسمي باسم الوزارة إن عام 2009 شهد تحولا كبيرا (في السياسة) "
            "وأضاف أن وسم #GES2014 على “تويتر” كان الأكثر تداولا. عَلَى الرغم من ذلك، "
            "قالت Reuters إن 54% من المساحة ما زالت «محتلة». ")
    paras, n = [], 0
    while n < size:
        p = para * (1 + len(paras) % 4)
        paras.append(p)
        n += len(p) + 1
    return "\n".join(paras)[:size]


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bidi_baseline(text: str) -> float:
    paras = text.split("\n")
    return best(lambda: [get_display(p) for p in paras])


def main() -> dict:
    seeds = {p.name: p.read_text(encoding="utf-8") for p in seed_dir().glob("*.txt")}
    seed_name = max(seeds, key=lambda name: len(seeds[name]))
    longest = seeds[seed_name]
    big = synthetic()
    results = {"width": WIDTH}

    def add(name, fn, text):
        ours = best(fn)
        base = bidi_baseline(text)
        results[name] = {"chars": len(text), "seconds": round(ours, 5),
                         "get_display_seconds": round(base, 5), "ratio": round(ours / base, 2)}

    add("seed_full_layout", lambda: len(layout(longest, WIDTH)), longest)
    add("synthetic_full_layout", lambda: len(layout(big, WIDTH)), big)

    first_screen = None

    def first():
        nonlocal first_screen
        lay = layout(big, WIDTH)
        for r in range(PAGE):
            lay.line(r)
        first_screen = lay

    first()
    shown = big[:first_screen.line(PAGE - 1).end]
    add("synthetic_first_screen", first, shown)

    def scroll():
        lay = layout(big, WIDTH)
        lay.line(PAGE - 1)
        t = time.perf_counter()
        for r in range(PAGE, 2 * PAGE):
            lay.line(r)
        return time.perf_counter() - t

    ours = min(scroll() for _ in range(3))
    lay = layout(big, WIDTH)
    lay.line(2 * PAGE - 1)
    page_text = big[lay.line(PAGE).start:lay.line(2 * PAGE - 1).end]
    base = bidi_baseline(page_text)
    results["synthetic_scroll_one_page"] = {"chars": len(page_text), "seconds": round(ours, 5),
                                            "get_display_seconds": round(base, 5),
                                            "ratio": round(ours / base, 2)}
    results["seed_file"] = seed_name
    return results


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
