"""Inter-annotator agreement over a workspace: the report and its text.

The coefficients (Krippendorff's alpha, Cohen's and Fleiss' kappa, span F1) are plain functions over plain
data in store.team.coefficients; `report(workspace)` applies them to the articles that more than one
annotator did, and `format_report(report)` prints the result for a terminal (the `*_rows` and `*_HEADER`
are shared with the TUI screen). Every figure comes with the count of items it rests on. A coefficient that
is undefined on the data (no pairable values, or no variation at all, so the expected disagreement is zero)
is None, never a made-up 0 or 1.

Definitions used by `report`:

- Annotators: everyone with an annotation file, except imported predictions (`predictions.*`) and the
  `gold` set, unless they are asked for by name.
- Credibility: the items are the articles with a score from at least two of the annotators.
  Krippendorff's alpha (ordinal and interval) over all of them, missing values allowed; Cohen's kappa
  (unweighted and quadratic-weighted, on the 1-5 scale) for every pair of annotators on the articles
  both scored; Fleiss' kappa when three or more annotators scored, on the articles all of them scored.
- Entities and claims: for every pair (A, B), on the articles both touched (state other than
  "not started"), A's spans are compared with B's: precision = matched / n(A), recall = matched / n(B),
  F1 = 2 * matched / (n(A) + n(B)). Exact: same start, end (and label, for entities). Overlap: the spans
  intersect (and have the same label); pairs are matched one to one, greedily, best overlap first, so an
  exact match is always kept. Entities are reported per label of the schema and overall; claims carry
  no label.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import combinations
from typing import Any

from store.annotation.record import Kind, state_of
from store.annotators import is_human
from store.errors import StoreError
from store.team.coefficients import cohen_kappa, fleiss_kappa, krippendorff_alpha, match_group, pairable, scores

CREDIBILITY_SCALE = (1, 2, 3, 4, 5)


# ----- the workspace report -----------------------------------------------------------------------

def default_annotators(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """(people compared by default, names left out: predictions and the gold set)."""
    chosen, excluded = [], []
    for name in sorted(names):
        (chosen if is_human(name) else excluded).append(name)
    return chosen, excluded


def _read(workspace: Any, name: str) -> dict[str, Any]:
    """One annotator's work, read once: scores, spans and the articles they touched."""
    notes = workspace.annotations(name, check=False)
    recorded = notes.states()
    scores_: dict[str, int] = {}
    entities: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    claims: dict[str, list[tuple[int, int]]] = defaultdict(list)
    annotated: set[str] = set()
    entity, claim, credibility = Kind.ENTITY, Kind.CLAIM, Kind.CREDIBILITY  # (looked up once: every record is read)
    for row in notes.records():
        article = row["article_id"]
        annotated.add(article)
        if row["kind"] == credibility:
            if row["attributes"].get("score") is not None:  # indicators or a note without a score
                scores_[article] = row["attributes"]["score"]
        elif row["kind"] == entity:
            entities[article].append((row["start"], row["end"], row["label"]))
        elif row["kind"] == claim:
            claims[article].append((row["start"], row["end"]))
    touched = {a for a in annotated | recorded.keys() if state_of(recorded.get(a), a in annotated) != "not started"}
    return {"scores": scores_, "entities": entities, "claims": claims, "touched": touched}


def _credibility(names: list[str], work: dict[str, dict[str, Any]], known: set[str]) -> dict[str, Any]:
    scored = [n for n in names if work[n]["scores"]]
    by_article: dict[str, dict[str, int]] = defaultdict(dict)
    for name in scored:
        for article, score in work[name]["scores"].items():
            if article in known:
                by_article[article][name] = score
    units = {a: s for a, s in by_article.items() if len(s) >= 2}
    items, values = pairable(units)
    result: dict[str, Any] = {
        "items": items, "values": values, "annotators": sorted({n for s in units.values() for n in s}),
        "alpha": {level: krippendorff_alpha(units, level) for level in ("ordinal", "interval")},
        "pairs": [], "fleiss": None,
    }
    # The 1-5 scale, plus anything else imported files may have brought (never refused here).
    scale = sorted(set(CREDIBILITY_SCALE) | {v for s in units.values() for v in s.values()})
    for a, b in combinations(scored, 2):
        shared = [s for s in units.values() if a in s and b in s]
        if not shared:
            continue
        ra, rb = [s[a] for s in shared], [s[b] for s in shared]
        result["pairs"].append({
            "a": a, "b": b, "items": len(shared),
            "agreement": sum(x == y for x, y in zip(ra, rb)) / len(shared),
            "kappa": cohen_kappa(ra, rb, categories=scale),
            "kappa_quadratic": cohen_kappa(ra, rb, weights="quadratic", categories=scale),
        })
    if len(scored) >= 3:
        everyone = [s for s in units.values() if all(n in s for n in scored)]
        table = [[sum(s[n] == c for n in scored) for c in scale] for s in everyone]
        result["fleiss"] = {"annotators": scored, "items": len(everyone), "kappa": fleiss_kappa(table)}
    return result


def _spans(names: list[str], work: dict[str, dict[str, Any]], kind: str, labels: list[str],
           known: set[str]) -> list[dict[str, Any]]:
    """Per pair of annotators, on the articles both touched: exact and overlap scores (per label for
    entities). Spans are grouped by (article, label) once and each group is matched once."""
    pairs = []
    for a, b in combinations(names, 2):
        shared = sorted(work[a]["touched"] & work[b]["touched"] & known)
        if not shared:
            continue
        keys = labels if kind == "entities" else [None]
        tally = {key: [0, 0, 0, 0] for key in keys}  # n_a, n_b, exact, overlap
        for article in shared:
            by_key: dict[Any, tuple[list, list]] = defaultdict(lambda: ([], []))
            for side, name in ((0, a), (1, b)):
                for span in work[name][kind].get(article, ()):
                    by_key[span[2] if kind == "entities" else None][side].append((span[0], span[1]))
            for key, (sa, sb) in by_key.items():
                t = tally[key]
                t[0] += len(sa)
                t[1] += len(sb)
                if sa and sb:
                    exact, over = match_group(sa, sb)
                    t[2] += exact
                    t[3] += over
        entry: dict[str, Any] = {"a": a, "b": b, "articles": len(shared)}
        n_a, n_b = sum(t[0] for t in tally.values()), sum(t[1] for t in tally.values())
        for mode, column in (("exact", 2), ("overlap", 3)):
            overall = scores(sum(t[column] for t in tally.values()), n_a, n_b)
            if kind == "claims":
                entry[mode] = overall
            else:
                entry[mode] = {"overall": overall,
                               "per_label": {key: scores(t[column], t[0], t[1]) for key, t in tally.items()}}
        pairs.append(entry)
    return pairs


def report(workspace: Any, annotators: Sequence[str] | None = None) -> dict[str, Any]:
    """Agreement on the workspace's multiply-annotated articles, as a JSON-ready dict (see the module doc).

    `annotators`: whom to compare (any names, predictions and gold included); default: every annotator but
    `predictions.*` and `gold`. Raises StoreError for a name with no annotation file, or fewer than two names.
    """
    present = workspace.annotators()
    if annotators is None:
        names, excluded = default_annotators(present)
    else:
        names = sorted(dict.fromkeys(annotators))
        unknown = [n for n in names if n not in present]
        if unknown:
            raise StoreError(f"no annotations by {', '.join(unknown)} in this workspace "
                             f"(annotators: {', '.join(present) or 'none'})")
        if len(names) < 2:
            raise StoreError("agreement compares at least two annotators: name two or more")
        excluded = [n for n in present if n not in names]
    work = {name: _read(workspace, name) for name in names}
    known = {a.id for a in workspace.articles()}
    labels = list(workspace.schema.entities)
    extra = sorted({s[2] for w in work.values() for spans in w["entities"].values() for s in spans} - set(labels))
    labels += extra  # labels.toml refuses to drop a label in use, so this is normally empty
    return {
        "annotators": names,
        "excluded": excluded,
        "credibility": _credibility(names, work, known),
        "entities": {"labels": labels, "pairs": _spans(names, work, "entities", labels, known)},
        "claims": {"pairs": _spans(names, work, "claims", [], known)},
    }


# ----- text ---------------------------------------------------------------------------------------

def fmt(value: float | None, digits: int = 3) -> str:
    """A coefficient for display: 3 decimals, or "n/a" when it is undefined."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[str]], left: int) -> list[str]:
    """Columns padded to their widest cell: the first `left` (names) to the left, figures to the right."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "  ".join(str(c).ljust(w) if i < left else str(c).rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return [line(header), line(["-" * w for w in widths]), *map(line, rows)]


def credibility_rows(rep: dict[str, Any]) -> list[list[str]]:
    """(metric, annotators, value, n) rows for the credibility table (shared with the TUI screen)."""
    cred = rep["credibility"]
    who = ", ".join(cred["annotators"]) or "-"
    rows = [[f"Krippendorff's alpha ({level})", who, fmt(value), str(cred["items"])]
            for level, value in cred["alpha"].items()]
    for p in cred["pairs"]:
        pair = f"{p['a']} / {p['b']}"
        rows.append(["Cohen's kappa", pair, fmt(p["kappa"]), str(p["items"])])
        rows.append(["Cohen's kappa (quadratic)", pair, fmt(p["kappa_quadratic"]), str(p["items"])])
        rows.append(["exact agreement", pair, fmt(p["agreement"]), str(p["items"])])
    fleiss = cred["fleiss"]
    if fleiss is not None:
        rows.append(["Fleiss' kappa (rated by all)", ", ".join(fleiss["annotators"]), fmt(fleiss["kappa"]),
                     str(fleiss["items"])])
    return rows


def entity_rows(rep: dict[str, Any]) -> list[list[str]]:
    """(pair, label, exact P/R/F1, overlap P/R/F1, n spans A, n spans B, articles) rows."""
    rows = []
    for p in rep["entities"]["pairs"]:
        for label in [*rep["entities"]["labels"], None]:
            ex = p["exact"]["per_label"][label] if label else p["exact"]["overall"]
            ov = p["overlap"]["per_label"][label] if label else p["overlap"]["overall"]
            rows.append([f"{p['a']} / {p['b']}", label or "all", fmt(ex["precision"]), fmt(ex["recall"]),
                         fmt(ex["f1"]), fmt(ov["precision"]), fmt(ov["recall"]), fmt(ov["f1"]),
                         str(ex["n_a"]), str(ex["n_b"]), str(p["articles"])])
    return rows


def claim_rows(rep: dict[str, Any]) -> list[list[str]]:
    """(pair, exact P/R/F1, overlap P/R/F1, n spans A, n spans B, articles) rows."""
    return [[f"{p['a']} / {p['b']}", fmt(p["exact"]["precision"]), fmt(p["exact"]["recall"]), fmt(p["exact"]["f1"]),
             fmt(p["overlap"]["precision"]), fmt(p["overlap"]["recall"]), fmt(p["overlap"]["f1"]),
             str(p["exact"]["n_a"]), str(p["exact"]["n_b"]), str(p["articles"])]
            for p in rep["claims"]["pairs"]]


CREDIBILITY_HEADER = ["metric", "annotators", "value", "n"]
ENTITY_HEADER = ["pair A / B", "label", "P", "R", "F1", "P~", "R~", "F1~", "n A", "n B", "articles"]
CLAIM_HEADER = ["pair A / B", "P", "R", "F1", "P~", "R~", "F1~", "n A", "n B", "articles"]


def format_report(rep: dict[str, Any]) -> str:
    """The report as plain-text tables for a terminal."""
    out = [f"annotators: {', '.join(rep['annotators']) or 'none'}"]
    if rep["excluded"]:
        out.append(f"not compared: {', '.join(rep['excluded'])} (name them with --annotator to include them)")
    cred = rep["credibility"]
    out += ["", "Credibility (1-5) - n: articles"]
    if cred["items"] or cred["pairs"]:
        out += _table(CREDIBILITY_HEADER, credibility_rows(rep), 2)
        fleiss = cred["fleiss"]
        if fleiss is not None and fleiss["items"] < cred["items"]:
            out.append(f"Fleiss' kappa uses the {fleiss['items']} of {cred['items']} articles that all "
                       f"{len(fleiss['annotators'])} annotators scored")
    else:
        out.append("no article has a credibility score from two or more annotators")
    out += ["", "Entities - P, R: A against B; ~: overlap (same label, spans intersect, one to one); "
                "n: spans; articles: touched by both"]
    nobody = ["no article touched by two annotators"]
    out += _table(ENTITY_HEADER, entity_rows(rep), 2) if rep["entities"]["pairs"] else nobody
    out += ["", "Claims - same columns, spans only"]
    out += _table(CLAIM_HEADER, claim_rows(rep), 1) if rep["claims"]["pairs"] else nobody
    return "\n".join(out)
