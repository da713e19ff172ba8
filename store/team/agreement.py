"""Inter-annotator agreement: Krippendorff's alpha, Cohen's and Fleiss' kappa, and span F1.

The coefficients are plain functions over plain data (no dependencies beyond the standard library);
`report(workspace)` applies them to the articles that more than one annotator did, and
`format_report(report)` prints the result for a terminal. Every figure comes with the count of items
it rests on. A coefficient that is undefined on the data (no pairable values, or no variation at all,
so the expected disagreement is zero) is None, never a made-up 0 or 1.

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

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from itertools import combinations
from typing import Any

from store.assist.suggest import PREDICTIONS_PREFIX
from store.errors import StoreError
from store.team.review import GOLD

LEVELS = ("nominal", "ordinal", "interval", "ratio")
CREDIBILITY_SCALE = (1, 2, 3, 4, 5)


# ----- Krippendorff's alpha -----------------------------------------------------------------------

def _unit_values(units: Iterable[Any] | Mapping[Any, Any]) -> Iterable[list[Any]]:
    """The non-missing values of each unit, whatever shape `units` comes in."""
    rows = units.values() if isinstance(units, Mapping) else units
    for row in rows:
        values = row.values() if isinstance(row, Mapping) else row
        yield [v for v in values if v is not None]


def coincidences(units: Iterable[Any] | Mapping[Any, Any]) -> dict[tuple[Any, Any], float]:
    """Krippendorff's coincidence matrix o[c, k] over the pairable values (units with >= 2 values)."""
    o: dict[tuple[Any, Any], float] = defaultdict(float)
    for values in _unit_values(units):
        m = len(values)
        if m < 2:
            continue
        counts = Counter(values)
        for c, nc in counts.items():
            for k, nk in counts.items():
                pairs = nc * (nc - 1) if c == k else nc * nk
                if pairs:
                    o[c, k] += pairs / (m - 1)
    return dict(o)


def _delta(level: str, marginals: dict[Any, float]) -> Callable[[Any, Any], float]:
    """The squared difference function of a level of measurement (Krippendorff 2011, section E)."""
    if level == "nominal":
        return lambda c, k: 0.0 if c == k else 1.0
    if level == "interval":
        return lambda c, k: float(c - k) ** 2
    if level == "ratio":
        return lambda c, k: 0.0 if c == k else ((c - k) / (c + k)) ** 2
    if level == "ordinal":
        ranks = sorted(marginals)
        cumulative: dict[Any, float] = {}
        total = 0.0
        for value in ranks:  # cumulative[v] = sum of n_g for g < v
            cumulative[value] = total
            total += marginals[value]

        def ordinal(c: Any, k: Any) -> float:
            if c == k:
                return 0.0
            lo, hi = (c, k) if c < k else (k, c)
            between = cumulative[hi] + marginals[hi] - cumulative[lo]  # sum of n_g for lo <= g <= hi
            return (between - (marginals[lo] + marginals[hi]) / 2) ** 2

        return ordinal
    raise ValueError(f"level must be one of {LEVELS}, got {level!r}")


def krippendorff_alpha(units: Iterable[Any] | Mapping[Any, Any], level: str = "interval") -> float | None:
    """Krippendorff's alpha of reliability data.

    `units` is one entry per unit (item): a list of the values the coders gave it, None where a coder gave
    none, or a dict coder -> value; or a dict unit -> either of those. Units with fewer than two values are
    not pairable and are ignored. `level` is nominal, ordinal, interval or ratio (values must be numbers for
    interval and ratio, and orderable for ordinal). Returns None when alpha is undefined: no pairable
    values, or all pairable values equal (no expected disagreement).
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    o = coincidences(units)
    marginals: dict[Any, float] = defaultdict(float)
    for (c, _k), count in o.items():
        marginals[c] += count
    n = sum(marginals.values())
    if n < 2 or len(marginals) < 2:
        return None
    delta = _delta(level, marginals)
    observed = sum(count * delta(c, k) for (c, k), count in o.items())
    values = list(marginals)
    expected = sum(marginals[c] * marginals[k] * delta(c, k) for c in values for k in values)
    if expected == 0:
        return None
    return 1.0 - (n - 1) * observed / expected


def pairable(units: Iterable[Any] | Mapping[Any, Any]) -> tuple[int, int]:
    """(units with at least two values, values in those units): what an alpha rests on."""
    sizes = [len(v) for v in _unit_values(units)]
    return sum(s >= 2 for s in sizes), sum(s for s in sizes if s >= 2)


# ----- Cohen's and Fleiss' kappa ------------------------------------------------------------------

WEIGHTS = (None, "linear", "quadratic")


def cohen_kappa(a: Sequence[Hashable | None], b: Sequence[Hashable | None], weights: str | None = None,
                categories: Sequence[Hashable] | None = None) -> float | None:
    """Cohen's kappa of two raters' labels for the same items (a[i] and b[i] rate item i).

    Items where either rating is None are left out. `weights`: None (unweighted), "linear" or "quadratic"
    (disagreement |i - j| or (i - j)**2 between the positions of the two categories in `categories`, which
    defaults to the sorted categories either rater used, as R's irr::kappa2 and scikit-learn do; give the
    full scale, e.g. 1-5, to weigh by it). Returns None when undefined: no items, or agreement by chance
    is certain (both raters always used the same single category).
    """
    if len(a) != len(b):
        raise ValueError(f"cohen_kappa: the raters rated different numbers of items ({len(a)} and {len(b)})")
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {WEIGHTS}, got {weights!r}")
    pairs = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
    if not pairs:
        return None
    cats = list(categories) if categories is not None else sorted({v for p in pairs for v in p})
    index = {c: i for i, c in enumerate(cats)}
    missing = {v for p in pairs for v in p if v not in index}
    if missing:
        raise ValueError(f"cohen_kappa: ratings {sorted(missing, key=repr)} are not among the categories {cats}")

    def w(i: int, j: int) -> float:
        if weights is None:
            return 0.0 if i == j else 1.0
        return float(abs(i - j)) if weights == "linear" else float((i - j) ** 2)

    n = len(pairs)
    observed = Counter((index[x], index[y]) for x, y in pairs)
    row = Counter(index[x] for x, _ in pairs)
    col = Counter(index[y] for _, y in pairs)
    disagree_observed = sum(count * w(i, j) for (i, j), count in observed.items()) / n
    disagree_expected = sum(row[i] * col[j] * w(i, j) for i in row for j in col) / (n * n)
    if disagree_expected == 0:
        return None
    return 1.0 - disagree_observed / disagree_expected


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> float | None:
    """Fleiss' kappa from a subjects x categories matrix: counts[i][j] = raters who put subject i in
    category j. Every row must sum to the same number of raters (at least 2). Returns None when undefined
    (no subjects, or every rating is the same category)."""
    rows = [list(r) for r in counts]
    if not rows:
        return None
    raters = sum(rows[0])
    if raters < 2:
        raise ValueError(f"fleiss_kappa: each subject needs at least 2 ratings, row 0 has {raters}")
    for i, r in enumerate(rows):
        if sum(r) != raters:
            raise ValueError(f"fleiss_kappa: row {i} has {sum(r)} ratings, row 0 has {raters}: "
                             "every subject must be rated the same number of times")
        if len(r) != len(rows[0]):
            raise ValueError(f"fleiss_kappa: row {i} has {len(r)} categories, row 0 has {len(rows[0])}")
    n_subjects = len(rows)
    p_bar = sum((sum(x * x for x in r) - raters) / (raters * (raters - 1)) for r in rows) / n_subjects
    totals = [sum(r[j] for r in rows) for j in range(len(rows[0]))]
    p_e = sum((t / (n_subjects * raters)) ** 2 for t in totals)
    if p_e >= 1.0:
        return None
    return (p_bar - p_e) / (1.0 - p_e)


# ----- span F1 ------------------------------------------------------------------------------------

Span = tuple
"""(start, end, *key): a span of [start, end); spans match only when their keys (label, article...) are equal."""


def _match_group(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> tuple[int, int]:
    """(exact, overlap) one-to-one matches between a's and b's spans (same key already).

    Exact pairs are taken first (they have the best possible overlap, so greedy-by-overlap would take them
    first anyway); the rest are paired greedily by intersection over union, then intersection length."""
    set_a, set_b = set(a), set(b)
    if len(set_a) == len(a) and len(set_b) == len(b):  # the usual case: no duplicate spans
        common = set_a & set_b
        exact = len(common)
        rest_a = [s for s in a if s not in common]
        rest_b = [s for s in b if s not in common]
    else:
        shared = Counter(a) & Counter(b)
        exact = sum(shared.values())
        rest_a = list((Counter(a) - shared).elements())
        rest_b = list((Counter(b) - shared).elements())
    if not rest_a or not rest_b:
        return exact, exact
    candidates = []
    for i, (s1, e1) in enumerate(rest_a):
        for j, (s2, e2) in enumerate(rest_b):
            inter = min(e1, e2) - max(s1, s2)
            if inter > 0:
                candidates.append((-inter / (max(e1, e2) - min(s1, s2)), -inter, i, j))
    candidates.sort()
    used_a: set[int] = set()
    used_b: set[int] = set()
    for _, _, i, j in candidates:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
    return exact, exact + len(used_a)


def _groups(a_spans: Iterable[Span], b_spans: Iterable[Span]) -> dict[tuple, tuple[list, list]]:
    groups: dict[tuple, tuple[list, list]] = defaultdict(lambda: ([], []))
    for side, spans in ((0, a_spans), (1, b_spans)):
        for span in spans:
            groups[tuple(span[2:])][side].append((span[0], span[1]))
    return groups


def match_count(a_spans: Iterable[Span], b_spans: Iterable[Span], overlap: bool = False) -> int:
    """Spans of a matched one to one with spans of b (see span_f1)."""
    return sum(_match_group(a, b)[overlap] for a, b in _groups(a_spans, b_spans).values() if a and b)


def scores(matched: int, n_a: int, n_b: int) -> dict[str, Any]:
    """precision (of a against b), recall and F1, with the counts they rest on; None where 0/0."""
    return {"matched": matched, "n_a": n_a, "n_b": n_b,
            "precision": matched / n_a if n_a else None,
            "recall": matched / n_b if n_b else None,
            "f1": 2 * matched / (n_a + n_b) if n_a + n_b else None}


def span_f1(a_spans: Iterable[Span], b_spans: Iterable[Span], overlap: bool = False) -> dict[str, Any]:
    """Precision, recall and F1 of annotator A's spans against B's.

    Spans are tuples (start, end) or (start, end, *key), end exclusive; only spans with equal keys (e.g. the
    label, or (article id, label)) can match. Exact: same start and end. overlap=True: the spans intersect;
    each span matches at most one span of the other side, pairs taken greedily by overlap (intersection
    over union, then length), so every exact pair is kept and overlap F1 >= exact F1.
    Returns {"matched", "n_a", "n_b", "precision", "recall", "f1"}.
    """
    a_list, b_list = list(a_spans), list(b_spans)
    return scores(match_count(a_list, b_list, overlap), len(a_list), len(b_list))


# ----- the workspace report -----------------------------------------------------------------------

def default_annotators(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """(people compared by default, names left out: predictions and the gold set)."""
    chosen, excluded = [], []
    for name in sorted(names):
        (excluded if name.startswith(PREDICTIONS_PREFIX) or name == GOLD else chosen).append(name)
    return chosen, excluded


def _read(workspace: Any, name: str) -> dict[str, Any]:
    """One annotator's work, read once: scores, spans and the articles they touched."""
    notes = workspace.annotations(name, check=False)
    recorded = notes.states()
    scores_: dict[str, int] = {}
    entities: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    claims: dict[str, list[tuple[int, int]]] = defaultdict(list)
    annotated: set[str] = set()
    for row in notes.records():
        article = row["article_id"]
        annotated.add(article)
        if row["kind"] == "credibility":
            if row["attributes"].get("score") is not None:  # indicators or a note without a score
                scores_[article] = row["attributes"]["score"]
        elif row["kind"] == "entity":
            entities[article].append((row["start"], row["end"], row["label"]))
        elif row["kind"] == "claim":
            claims[article].append((row["start"], row["end"]))
    # AnnotationSet.state(): as recorded, else "in progress" once anything is annotated.
    touched = {a for a in annotated if recorded.get(a, "in progress") != "not started"}
    touched |= {a for a, state in recorded.items() if state != "not started"}
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
                    exact, over = _match_group(sa, sb)
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
