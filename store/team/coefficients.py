"""Agreement coefficients on plain data: Krippendorff's alpha, Cohen's and Fleiss' kappa, and span F1.

Pure functions over lists and dicts of values and spans (no dependencies beyond the standard library, nothing
read from a workspace: store.team.agreement applies them to one). A coefficient that is undefined on the data
(no pairable values, or no variation at all, so the expected disagreement is zero) is None, never a made-up
0 or 1; `pairable` and the counts in `scores` say what a figure rests on.

Span F1 of A against B: precision = matched / n(A), recall = matched / n(B), F1 = 2 * matched / (n(A) + n(B)).
Spans match only when their keys (label, article...) are equal. Exact: same start and end. Overlap: the spans
intersect; pairs are matched one to one, greedily, best overlap first, so an exact match is always kept.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

LEVELS = ("nominal", "ordinal", "interval", "ratio")


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


def match_group(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> tuple[int, int]:
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
    return sum(match_group(a, b)[overlap] for a, b in _groups(a_spans, b_spans).values() if a and b)


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
