"""The agreement report on a synthetic workspace (default 2,000 articles x 3 annotators), beside a plain
Python pass over the same records.

The workspace is written directly as the JSON files store/ reads (corpus through the batch importer,
`annotations/<name>.json` as TinyDB tables), because building ~70,000 annotations through
`AnnotationSet.add_entity` rewrites the annotator's file on every save. Each annotator copies a hidden
"truth" with noise: entities dropped, boundaries moved, labels swapped, spurious ones added; claims the
same; credibility = truth +-1 or 2 now and then.

Run: python -m bench.bench_agreement [--articles N] [--annotators K]. Prints JSON; bench/run.py calls run().
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from store import Workspace  # noqa: E402
from store.team.agreement import report  # noqa: E402
from store.team.coefficients import krippendorff_alpha, span_f1  # noqa: E402

LABELS = ["PER", "ORG", "LOC", "MISC"]
STAMP = "2025-01-01T00:00:00+00:00"


def _best(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _vocabulary() -> list[str]:
    words: list[str] = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        words += path.read_text(encoding="utf-8").split()
    return words


def _noisy(rng: random.Random, start: int, end: int, body_len: int) -> tuple[int, int]:
    """A boundary moved by 1-3 characters on one side, still a non-empty span inside the body."""
    if rng.random() < 0.5:
        start = max(0, min(end - 1, start + rng.choice((-3, -2, -1, 1, 2, 3))))
    else:
        end = min(body_len, max(start + 1, end + rng.choice((-3, -2, -1, 1, 2, 3))))
    return start, end


def build(path: Path, articles: int, annotators: int, seed: int = 5) -> dict[str, int]:
    """Write the synthetic workspace at `path`; returns record counts."""
    rng = random.Random(seed)
    vocab = _vocabulary()
    path.mkdir(parents=True, exist_ok=True)
    jsonl = path.parent / f"{path.name}-articles.jsonl"
    bodies = {}
    with jsonl.open("w", encoding="utf-8") as out:
        for i in range(articles):
            body = " ".join(rng.choice(vocab) for _ in range(280))  # ~1,600 characters
            aid = f"bench{i:06d}"
            bodies[aid] = body
            out.write(json.dumps({"id": aid, "title": f"article {i}", "text": body}, ensure_ascii=False) + "\n")
    ws = Workspace.open(path)
    report_ = ws.import_paths([jsonl])
    ws.close()
    jsonl.unlink()
    assert len(report_.imported) == articles, report_.summary()
    truth = {}
    for aid, body in bodies.items():
        # 10 entities, one per 1/10th of the body, so moving a boundary by 3 never makes two cross.
        step = len(body) // 10
        ents = [(k * step + 5, k * step + 5 + rng.randint(4, 20), rng.choice(LABELS)) for k in range(10)]
        claims = [(k * (len(body) // 3) + 2, k * (len(body) // 3) + 2 + rng.randint(40, 150)) for k in range(3)]
        truth[aid] = (rng.randint(1, 5), ents, claims)
    counts = {}
    for a in range(annotators):
        name = f"annotator{a + 1}"
        rows, progress = {}, {}

        def add(aid: str, kind: str, start, end, label, attributes, rows=rows, name=name) -> None:
            text = bodies[aid][start:end] if start is not None else None
            rows[str(len(rows) + 1)] = {
                "id": f"{name[:2]}{len(rows):010x}", "annotator": name, "created": STAMP, "updated": STAMP,
                "article_id": aid, "kind": kind, "start": start, "end": end, "text": text, "label": label,
                "attributes": attributes}

        for aid, (score, ents, claims) in truth.items():
            body_len = len(bodies[aid])
            noise = rng.random()
            given = score if noise < 0.6 else score + rng.choice((-1, 1) if noise < 0.9 else (-2, 2))
            add(aid, "credibility", None, None, "CREDIBILITY",
                {"score": min(5, max(1, given)), "indicators": [], "note": None})
            for start, end, label in ents:
                r = rng.random()
                if r < 0.1:
                    continue  # missed
                if r < 0.25:
                    start, end = _noisy(rng, start, end, body_len)
                if rng.random() < 0.05:
                    label = rng.choice([x for x in LABELS if x != label])
                add(aid, "entity", start, end, label, {})
            if rng.random() < 0.3:  # a spurious entity in the gap after the first one
                add(aid, "entity", ents[0][1] + 3, ents[0][1] + 7, rng.choice(LABELS), {})
            for start, end in claims:
                r = rng.random()
                if r < 0.15:
                    continue
                if r < 0.5:
                    start, end = _noisy(rng, start, end, body_len)
                add(aid, "claim", start, end, "CLAIM", {"verdict": "unverified"})
            progress[str(len(progress) + 1)] = {"article_id": aid, "state": "done", "updated": STAMP}
        data = {"annotations": rows, "progress": progress}
        (path / "annotations" / f"{name}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        counts[name] = len(rows)
    return counts


def baseline(path: Path) -> dict:
    """A plain pass over the same records: parse the files, group by article, count exact agreements."""
    files = sorted((path / "annotations").glob("*.json"))
    data = {f.stem: json.loads(f.read_bytes()) for f in files}
    scores: dict[str, dict[str, int]] = defaultdict(dict)
    spans: dict[str, set] = defaultdict(set)
    for name, tables in data.items():
        for row in tables["annotations"].values():
            if row["kind"] == "credibility":
                scores[row["article_id"]][name] = row["attributes"]["score"]
            else:
                spans[name].add((row["article_id"], row["kind"], row["start"], row["end"], row["label"]))
    same = {f"{a}/{b}": sum(s.get(a) == s.get(b) for s in scores.values()) for a, b in combinations(data, 2)}
    shared = {f"{a}/{b}": len(spans[a] & spans[b]) for a, b in combinations(data, 2)}
    return {"same_score": same, "same_span": shared}


def run(articles: int = 2_000, annotators: int = 3) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="tahqiq-bench-agreement-"))
    try:
        path = folder / "ws"
        start = time.perf_counter()
        counts = build(path, articles, annotators)
        build_seconds = time.perf_counter() - start

        def full() -> dict:
            ws = Workspace.open(path)  # a fresh open each time: no warm caches
            try:
                return report(ws)
            finally:
                ws.close()

        report_seconds, rep = _best(full)
        baseline_seconds, base = _best(lambda: baseline(path))
        # The pure functions alone, on data already in memory.
        ws = Workspace.open(path)
        names = ws.annotators()
        rows = {n: ws.annotations(n, check=False).all() for n in names}
        ws.close()
        units: dict[str, list] = defaultdict(lambda: [None] * len(names))
        ents: dict[str, list] = {n: [] for n in names}
        for i, n in enumerate(names):
            for r in rows[n]:
                if r["kind"] == "credibility":
                    units[r["article_id"]][i] = r["attributes"]["score"]
                elif r["kind"] == "entity":
                    ents[n].append((r["start"], r["end"], r["article_id"], r["label"]))
        alpha_seconds, _ = _best(lambda: krippendorff_alpha(units, "ordinal"))
        overlap_seconds, _ = _best(lambda: span_f1(ents[names[0]], ents[names[1]], overlap=True))
        pair = rep["entities"]["pairs"][0]
        cred = rep["credibility"]
        return {
            "articles": articles, "annotators": annotators, "annotation_records": sum(counts.values()),
            "build_seconds": round(build_seconds, 2),
            "report_seconds": round(report_seconds, 3),
            "baseline_plain_pass_seconds": round(baseline_seconds, 3),
            "report_to_baseline_ratio": round(report_seconds / baseline_seconds, 1),
            "alpha_ordinal_only_seconds": round(alpha_seconds, 4),
            "entity_overlap_f1_one_pair_only_seconds": round(overlap_seconds, 4),
            "credibility_items": cred["items"],
            "alpha_ordinal": round(cred["alpha"]["ordinal"], 3), "alpha_interval": round(cred["alpha"]["interval"], 3),
            "fleiss_kappa": round(cred["fleiss"]["kappa"], 3) if cred["fleiss"] else None,
            "entity_f1_exact_first_pair": round(pair["exact"]["overall"]["f1"], 3),
            "entity_f1_overlap_first_pair": round(pair["overlap"]["overall"]["f1"], 3),
            "baseline_exact_spans_first_pair": next(iter(base["same_span"].values())),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2_000)
    parser.add_argument("--annotators", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(run(args.articles, args.annotators), indent=1))
