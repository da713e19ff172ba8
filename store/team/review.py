"""Side-by-side comparison of annotators on one article, majority merge, and the `gold` set a reviewer builds."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from store.annotation.record import Kind, now, sort_key
from store.annotators import GOLD, is_human
from store.workspace import Workspace


@dataclass
class Item:
    """One span (entity or claim) as the annotators tagged it: who gave which label."""

    kind: str
    start: int
    end: int
    text: str
    labels: dict[str, str] = field(default_factory=dict)  # annotator -> label

    def agreed(self, annotators: list[str]) -> bool:
        """Everyone tagged this span, with the same label."""
        return len(self.labels) == len(annotators) and len(set(self.labels.values())) == 1


@dataclass
class Comparison:
    """Every annotator's work on one article, aligned by span."""

    article_id: str
    annotators: list[str]
    credibility: dict[str, int]
    items: list[Item]


def reviewers_view(workspace: Workspace, article_id: str, annotators: list[str] | None = None) -> Comparison:
    """Compare the annotators who worked on an article (not predictions, not gold) span by span."""
    if annotators is None:
        annotators = [n for n in workspace.annotators()
                      if is_human(n) and workspace.annotations(n, check=False).state(article_id) != "not started"]
    credibility: dict[str, int] = {}
    items: dict[tuple[str, int, int], Item] = {}
    for name in annotators:
        for row in workspace.annotations(name, check=False).for_article(article_id):
            if row["kind"] == Kind.CREDIBILITY:
                if row["attributes"].get("score") is not None:
                    credibility[name] = row["attributes"]["score"]
                continue
            key = (row["kind"], row["start"], row["end"])
            item = items.setdefault(key, Item(row["kind"], row["start"], row["end"], row["text"]))
            item.labels[name] = row["label"]
    return Comparison(article_id, annotators, credibility,
                      sorted(items.values(), key=lambda i: (i.start, i.end, i.kind)))


def majority(comparison: Comparison) -> tuple[int | None, list[Item], list[str]]:
    """(credibility, items with their majority label, ties): what more than half of the annotators chose."""
    ties: list[str] = []
    score = None
    if comparison.credibility:
        counts = Counter(comparison.credibility.values()).most_common()
        best = [s for s, c in counts if c == counts[0][1]]
        score = min(best)
        if len(best) > 1:
            ties.append(f"{comparison.article_id}: credibility tie between {sorted(best)}, kept {score}")
    chosen = []
    need = len(comparison.annotators) / 2
    for item in comparison.items:
        if len(item.labels) <= need:
            continue
        counts = Counter(item.labels.values()).most_common()
        best = sorted(label for label, c in counts if c == counts[0][1])
        if len(best) > 1:
            ties.append(f"{comparison.article_id}: {item.start}-{item.end} label tie between {best}, kept {best[0]}")
        chosen.append(Item(item.kind, item.start, item.end, item.text, {"majority": best[0]}))
    return score, chosen, ties


def set_gold(workspace: Workspace, article_id: str, reviewer: str, score: int | None,
             items: list[tuple[str, int, int, str]], attributes: dict[tuple[int, int], dict[str, Any]] | None = None
             ) -> None:
    """Replace the gold annotations of an article with `items` ((kind, start, end, label)) and `score`.

    Every gold record carries who decided (`decided_by`); its created time says when.
    """
    gold = workspace.annotations(GOLD)
    for row in gold.for_article(article_id):
        gold.remove(row["id"])
    for kind, start, end, label in items:
        if kind == Kind.ENTITY:
            record = gold.add_entity(article_id, start, end, label)
            gold.update(record["id"], attributes={"decided_by": reviewer})
        else:
            extra = (attributes or {}).get((start, end), {})
            gold.add_claim(article_id, start, end, **{k: v for k, v in extra.items() if k != "decided_by"},
                           decided_by=reviewer)
    if score is not None:
        record = gold.set_credibility(article_id, score)
        gold.update(record["id"], attributes={**record["attributes"], "decided_by": reviewer})
    gold.set_state(article_id, "done")


def take_version(workspace: Workspace, article_id: str, source: str, reviewer: str) -> None:
    """Make one annotator's version of an article the gold one."""
    rows = workspace.annotations(source, check=False).for_article(article_id)
    score = next((r["attributes"].get("score") for r in rows if r["kind"] == Kind.CREDIBILITY), None)
    items = [(r["kind"], r["start"], r["end"], r["label"]) for r in rows if r["kind"] != Kind.CREDIBILITY]
    attributes = {(r["start"], r["end"]): r["attributes"] for r in rows if r["kind"] == Kind.CLAIM}
    set_gold(workspace, article_id, reviewer, score, items, attributes)


def merged_rows(workspace: Workspace, article_id: str) -> tuple[list[dict[str, Any]], str, list[str]]:
    """The majority version of an article as annotation records (annotator "merge"), its state, and ties."""
    comparison = reviewers_view(workspace, article_id)
    if not comparison.annotators:
        return [], "not started", []
    score, items, ties = majority(comparison)
    stamp = now()
    rows: list[dict[str, Any]] = []
    base = {"annotator": "merge", "article_id": article_id, "created": stamp, "updated": stamp}
    if score is not None:
        rows.append({**base, "id": f"merge-{article_id}-cred", "kind": Kind.CREDIBILITY, "start": None, "end": None,
                     "text": None, "label": "CREDIBILITY",
                     "attributes": {"score": score, "indicators": [], "note": None,
                                    "from": sorted(comparison.credibility)}})
    for item in items:
        rows.append({**base, "id": f"merge-{article_id}-{item.start}-{item.end}-{item.kind}", "kind": item.kind,
                     "start": item.start, "end": item.end, "text": item.text,
                     "label": item.labels["majority"] if item.kind == Kind.ENTITY else "CLAIM",
                     "attributes": {"voters": len(comparison.annotators)}})
    rows.sort(key=sort_key)
    states = {workspace.annotations(n, check=False).state(article_id) for n in comparison.annotators}
    return rows, "done" if states == {"done"} else "in progress", ties
