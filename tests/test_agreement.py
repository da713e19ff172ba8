"""Agreement coefficients against published worked examples, span F1 by hand, and the workspace report.

Sources of the reference figures:
- Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability (Annenberg School, asc_papers/43):
  the binary example (2 observers x 10 units, alpha 0.095) and the 4 observers x 12 units example with
  missing values (nominal 0.743, ordinal 0.815, interval 0.849, ratio 0.797). The same four figures are
  asserted by Statistics::Krippendorff's t/02-example.t; ordinal 0.815 and ratio 0.797 by the
  `krippendorff` PyPI package's tests/test_krippendorff.py.
- Wikipedia, "Krippendorff's alpha", computational example (3 coders x 15 units): nominal 0.691, interval
  0.811 (the `krippendorff` package asserts 0.691358 and 0.810845).
- Wikipedia, "Cohen's kappa", 50 grant proposals (20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no): 0.4.
- Wikipedia, "Fleiss' kappa", 10 subjects x 14 raters x 5 categories: P = 0.378, Pe = 0.213, kappa 0.210.
- Fleiss (1971), 30 patients x 6 psychiatrists x 5 diagnoses (R irr's `diagnoses`): Fleiss' kappa
  0.4302445 (irr::kappam.fleiss, also statsmodels' test_inter_rater.py); Cohen's kappa of raters 1 and 2
  0.651 (irr::kappa2).
- SAS PROC FREQ example as printed in statsmodels' test_inter_rater.py (table [[0,4,1],[0,8,0],[0,1,5]]):
  simple kappa 0.4842, weighted kappa (Cicchetti-Allison, i.e. linear) 0.4701.
- R irr's `anxiety`, raters 2 and 3: kappa2 unweighted -0.006289308, "equal" (linear) 0.1459075,
  "squared" (quadratic) 0.2520325.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from store import StoreError, Workspace
from store.team.agreement import format_report, report
from store.team.coefficients import cohen_kappa, fleiss_kappa, krippendorff_alpha, match_count, pairable, span_f1

N = None

# Krippendorff (2011), section C: observers A-D (columns) x units 1-12 (rows); None = missing.
K2011 = [[1, 1, N, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
         [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [N, 5, 5, 5], [N, N, 1, 1], [N, N, 3, N]]
# Wikipedia's computational example: 15 units x 3 coders.
WIKI = [[N, 1, N], [N, N, N], [N, 2, 2], [N, 1, 1], [N, 3, 3], [3, 3, 4], [4, 4, 4], [1, 3, N], [2, N, 2],
        [1, N, 1], [1, N, 1], [3, N, 3], [3, N, 3], [N, N, N], [3, N, 4]]
FLEISS_WIKI = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
               [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
DIAGNOSES = [[4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
             [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
             [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
             [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
             [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
             [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5]]
ANXIETY_2 = [3, 6, 4, 6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4]
ANXIETY_3 = [2, 1, 4, 4, 3, 2, 1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2]


def table_to_ratings(table: list[list[int]]) -> tuple[list[int], list[int]]:
    a, b = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [i] * count
            b += [j] * count
    return a, b


# ----- Krippendorff's alpha -----------------------------------------------------------------------

@pytest.mark.parametrize("level,published", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849),
                                             ("ratio", 0.797)])
def test_alpha_krippendorff_2011_four_observers_twelve_units(level: str, published: float) -> None:
    assert round(krippendorff_alpha(K2011, level), 3) == published
    assert pairable(K2011) == (11, 40)  # unit 12 has one value: not pairable


def test_alpha_krippendorff_2011_binary_example() -> None:
    a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    assert round(krippendorff_alpha(list(zip(a, b)), "nominal"), 3) == 0.095


def test_alpha_wikipedia_example() -> None:
    assert krippendorff_alpha(WIKI, "nominal") == pytest.approx(0.691358, abs=5e-7)
    assert krippendorff_alpha(WIKI, "interval") == pytest.approx(0.810845, abs=5e-7)


def test_alpha_accepts_dicts_and_ignores_missing() -> None:
    as_dicts = {f"u{i}": {c: v for c, v in zip("ABCD", row) if v is not None} for i, row in enumerate(K2011)}
    assert krippendorff_alpha(as_dicts, "ordinal") == krippendorff_alpha(K2011, "ordinal")
    lists = {f"u{i}": row for i, row in enumerate(K2011)}
    assert krippendorff_alpha(lists, "interval") == krippendorff_alpha(K2011, "interval")


def test_alpha_undefined_is_none_and_bad_level_raises() -> None:
    assert krippendorff_alpha([[3, 3], [3, 3]], "interval") is None  # no variation at all
    assert krippendorff_alpha([[1, N], [N, 2]], "interval") is None  # nothing pairable
    assert krippendorff_alpha([], "ordinal") is None
    assert krippendorff_alpha([[1, 1], [2, 2]], "interval") == 1.0
    with pytest.raises(ValueError):
        krippendorff_alpha(K2011, "circular")


def test_alpha_matches_the_krippendorff_package_on_random_data() -> None:
    """Cross-check with an independent implementation (numpy-based `krippendorff`, from the `interop` extra:
    pip install -e '.[test,interop]'; not installed is a failure, not a skip)."""
    import krippendorff as kd
    import numpy as np

    rng = random.Random(8)
    for _ in range(25):
        coders, n_units = rng.randint(2, 5), rng.randint(3, 40)
        units = [[rng.choice([N, 1, 2, 3, 4, 5, rng.randint(1, 5)]) for _ in range(coders)] for _ in range(n_units)]
        data = np.array([[np.nan if u[c] is None else u[c] for u in units] for c in range(coders)], dtype=float)
        for level in ("nominal", "ordinal", "interval", "ratio"):
            ours = krippendorff_alpha(units, level)
            try:
                theirs = kd.alpha(reliability_data=data, level_of_measurement=level)
            except ValueError:  # the package refuses data with < 2 values or nothing pairable
                assert ours is None or pairable(units)[0] == 0 or len({v for u in units for v in u} - {N}) < 2
                continue
            if ours is None:
                assert math.isnan(theirs) or theirs == pytest.approx(1.0)
            else:
                assert ours == pytest.approx(theirs, abs=1e-9), (level, units)


# ----- Cohen's and Fleiss' kappa ------------------------------------------------------------------

def test_cohen_wikipedia_fifty_proposals() -> None:
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_cohen_sas_example_unweighted_and_linear() -> None:
    a, b = table_to_ratings([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    assert round(cohen_kappa(a, b), 4) == 0.4842
    assert round(cohen_kappa(a, b, weights="linear"), 4) == 0.4701


def test_cohen_irr_anxiety_weighted() -> None:
    assert cohen_kappa(ANXIETY_2, ANXIETY_3) == pytest.approx(-0.006289308, abs=5e-10)
    assert cohen_kappa(ANXIETY_2, ANXIETY_3, weights="linear") == pytest.approx(0.1459075, abs=5e-8)
    assert cohen_kappa(ANXIETY_2, ANXIETY_3, weights="quadratic") == pytest.approx(0.2520325, abs=5e-8)
    # On the full 1-6 scale the unused 5 counts as a step, so the weighted figure changes (irr drops it).
    assert cohen_kappa(ANXIETY_2, ANXIETY_3, "quadratic", categories=range(1, 7)) != pytest.approx(0.2520325)


def test_cohen_fleiss_1971_raters_one_and_two() -> None:
    assert round(cohen_kappa([r[0] for r in DIAGNOSES], [r[1] for r in DIAGNOSES]), 3) == 0.651


def test_cohen_edge_cases() -> None:
    assert cohen_kappa([1, 2, N, 3], [1, 2, 3, N]) == 1.0  # items missing on either side are dropped
    assert cohen_kappa([], []) is None
    assert cohen_kappa([4, 4], [4, 4]) is None  # chance agreement is certain: undefined
    with pytest.raises(ValueError):
        cohen_kappa([1, 2], [1])
    with pytest.raises(ValueError):
        cohen_kappa([1, 7], [1, 2], categories=[1, 2, 3])
    with pytest.raises(ValueError):
        cohen_kappa([1], [1], weights="cubic")


def test_fleiss_wikipedia_example() -> None:
    assert fleiss_kappa(FLEISS_WIKI) == pytest.approx(0.20993, abs=5e-6)
    assert round(fleiss_kappa(FLEISS_WIKI), 3) == 0.210


def test_fleiss_1971_diagnoses() -> None:
    counts = [[row.count(c) for c in range(1, 6)] for row in DIAGNOSES]
    assert fleiss_kappa(counts) == pytest.approx(0.4302445, abs=5e-8)


def test_fleiss_edge_cases() -> None:
    assert fleiss_kappa([]) is None
    assert fleiss_kappa([[3, 0], [3, 0]]) is None  # everyone always said the same
    assert fleiss_kappa([[3, 0], [0, 3]]) == 1.0
    with pytest.raises(ValueError):
        fleiss_kappa([[3, 0], [2, 0]])  # rows must have the same number of ratings
    with pytest.raises(ValueError):
        fleiss_kappa([[1, 0]])


# ----- span F1 ------------------------------------------------------------------------------------

def test_span_f1_exact_versus_overlap() -> None:
    a = [(0, 5, "PER"), (10, 20, "ORG"), (30, 40, "LOC")]
    b = [(0, 5, "PER"), (12, 18, "ORG"), (30, 40, "PER"), (50, 60, "LOC")]
    exact = span_f1(a, b)
    assert exact == {"matched": 1, "n_a": 3, "n_b": 4, "precision": 1 / 3, "recall": 1 / 4, "f1": 2 / 7}
    over = span_f1(a, b, overlap=True)  # ORG 10-20 ~ 12-18; LOC 30-40 vs PER 30-40: label differs
    assert (over["matched"], over["precision"], over["recall"], over["f1"]) == (2, 2 / 3, 2 / 4, 4 / 7)


def test_span_f1_overlap_is_one_to_one_and_keeps_exact_pairs() -> None:
    # One long span of A against two short ones of B: only one of them can match it.
    assert span_f1([(0, 20)], [(0, 5), (10, 20)], overlap=True)["matched"] == 1
    # Greedy by overlap: B's 0-10 is the exact partner of A's 0-10, so A's 5-12 gets B's 8-14, not 0-10.
    assert match_count([(0, 10), (5, 12)], [(0, 10), (8, 14)], overlap=True) == 2
    # Exact matches are never lost to the greedy choice; overlap >= exact always.
    rng = random.Random(1)
    for _ in range(200):
        spans = lambda: [(s, s + rng.randint(1, 6), rng.choice("AB")) for s in rng.sample(range(40), 6)]  # noqa: E731
        a, b = spans(), spans()
        assert match_count(a, b, overlap=True) >= match_count(a, b)
        assert match_count(a, b, overlap=True) == match_count(b, a, overlap=True)


def test_span_f1_touching_spans_do_not_overlap_and_keys_separate() -> None:
    assert span_f1([(0, 5)], [(5, 9)], overlap=True)["matched"] == 0  # end is exclusive
    assert span_f1([(0, 5, "art1")], [(0, 5, "art2")])["matched"] == 0
    assert span_f1([(0, 5), (0, 5)], [(0, 5)])["matched"] == 1  # duplicates pair one to one too


def test_span_f1_empty_sides() -> None:
    assert span_f1([], []) == {"matched": 0, "n_a": 0, "n_b": 0, "precision": None, "recall": None, "f1": None}
    none_of_a = span_f1([], [(0, 3)])
    assert (none_of_a["precision"], none_of_a["recall"], none_of_a["f1"]) == (None, 0.0, 0.0)


# ----- the workspace report -----------------------------------------------------------------------

IDS = ["f6acadc5c55dd27f", "d9577bfa1a0662c0", "d1451bac8b1dfa5c", "52f015e52f40b84e", "73d8cda007db96f7"]


def annotate_three(path: Path) -> None:
    """alice, bob and carol (plus a model's predictions and a gold set, which are left out by default)."""
    ws = Workspace.open(path)
    a0, a1, a2, a3, a4 = IDS
    alice, bob, carol = (ws.annotations(n) for n in ("alice", "bob", "carol"))
    for notes, scores in ((alice, {a0: 4, a1: 2, a2: 5, a3: 1}), (bob, {a0: 4, a1: 3, a2: 5}),
                          (carol, {a0: 5, a1: 2})):
        for article, score in scores.items():
            notes.set_credibility(article, score)
    alice.add_entity(a0, 0, 3, "LOC")
    alice.add_entity(a3, 162, 172, "PER")  # بوبكر سبيك
    alice.add_entity(a3, 60, 65, "ORG")  # تويتر
    alice.add_entity(a3, 200, 210, "LOC")
    alice.add_claim(a3, 100, 150)
    bob.add_entity(a0, 1, 5, "LOC")
    bob.add_entity(a3, 162, 167, "PER")
    bob.add_entity(a3, 60, 65, "ORG")
    bob.add_entity(a3, 300, 310, "LOC")
    bob.add_entity(a3, 200, 205, "MISC")
    bob.add_claim(a3, 120, 160)
    bob.add_claim(a3, 400, 420)
    bob.set_state(a4, "done")  # touched, nothing tagged; alice never opened it
    carol.add_entity(a0, 0, 3, "LOC")
    carol.set_state(a2, "not started")
    ws.annotations("predictions.model").set_credibility(a0, 1)
    ws.annotations("predictions.model").add_entity(a3, 60, 65, "ORG")
    ws.annotations("gold").set_credibility(a0, 3)
    ws.close()


@pytest.fixture
def three_path(workspace_path: Path) -> Path:
    annotate_three(workspace_path)
    return workspace_path


def _pair(pairs: list[dict], a: str, b: str) -> dict:
    return next(p for p in pairs if (p["a"], p["b"]) == (a, b))


def test_report_credibility_on_three_annotators(three_path: Path) -> None:
    ws = Workspace.open(three_path)
    rep = report(ws)
    ws.close()
    assert rep["annotators"] == ["alice", "bob", "carol"]
    assert rep["excluded"] == ["gold", "predictions.model"]
    cred = rep["credibility"]
    # Units: a0 {4, 4, 5}, a1 {2, 3, 2}, a2 {5, 5}; a3 has alice's score only.
    assert (cred["items"], cred["values"], cred["annotators"]) == (3, 8, ["alice", "bob", "carol"])
    assert cred["alpha"]["interval"] == pytest.approx(39 / 46)  # 1 - 7 * 4 / 184, worked by hand
    assert cred["alpha"]["ordinal"] == pytest.approx(505 / 624)  # 1 - 7 * 17 / 624
    ab = _pair(cred["pairs"], "alice", "bob")
    assert ab["items"] == 3 and ab["agreement"] == pytest.approx(2 / 3)
    assert ab["kappa"] == pytest.approx(4 / 7)  # po 2/3, pe 2/9
    assert ab["kappa_quadratic"] == pytest.approx(6 / 7)  # 1 - (1/3) / (21/9)
    assert _pair(cred["pairs"], "alice", "carol")["items"] == 2
    assert _pair(cred["pairs"], "bob", "carol")["items"] == 2
    # Fleiss: the 2 articles all three scored; counts per category 1-5: [0,0,0,2,1] and [0,2,1,0,0].
    assert cred["fleiss"] == {"annotators": ["alice", "bob", "carol"], "items": 2, "kappa": pytest.approx(1 / 13)}


def test_report_spans_per_pair_and_label(three_path: Path) -> None:
    ws = Workspace.open(three_path)
    rep = report(ws)
    ws.close()
    assert rep["entities"]["labels"] == ["PER", "ORG", "LOC", "MISC"]
    ab = _pair(rep["entities"]["pairs"], "alice", "bob")
    assert ab["articles"] == 4  # a0-a3; bob's a4 was never touched by alice
    exact, over = ab["exact"], ab["overlap"]
    assert exact["overall"] == {"matched": 1, "n_a": 4, "n_b": 5, "precision": 1 / 4, "recall": 1 / 5, "f1": 2 / 9}
    assert (over["overall"]["matched"], over["overall"]["f1"]) == (3, pytest.approx(2 / 3))
    assert exact["per_label"]["ORG"]["f1"] == 1.0
    assert (exact["per_label"]["PER"]["f1"], over["per_label"]["PER"]["f1"]) == (0.0, 1.0)
    assert (exact["per_label"]["LOC"]["matched"], over["per_label"]["LOC"]["matched"]) == (0, 1)
    misc = over["per_label"]["MISC"]  # bob's MISC overlaps alice's LOC: labels differ, no match
    assert (misc["n_a"], misc["n_b"], misc["precision"], misc["recall"]) == (0, 1, None, 0.0)
    ac = _pair(rep["entities"]["pairs"], "alice", "carol")
    assert ac["articles"] == 2 and ac["exact"]["overall"]["f1"] == 1.0  # carol touched a0, a1 (a2: not started)
    bc = _pair(rep["entities"]["pairs"], "bob", "carol")
    assert (bc["exact"]["overall"]["matched"], bc["overlap"]["overall"]["matched"]) == (0, 1)
    claims = _pair(rep["claims"]["pairs"], "alice", "bob")
    assert claims["exact"]["matched"] == 0
    over = claims["overlap"]
    assert (over["precision"], over["recall"], over["f1"]) == (1.0, 0.5, pytest.approx(2 / 3))


def test_report_named_annotators_include_gold_and_refuse_unknown(three_path: Path) -> None:
    ws = Workspace.open(three_path)
    rep = report(ws, ["gold", "alice"])
    assert rep["annotators"] == ["alice", "gold"] and "bob" in rep["excluded"]
    assert rep["credibility"]["items"] == 1 and rep["credibility"]["fleiss"] is None
    with pytest.raises(StoreError, match="no annotations by zed"):
        report(ws, ["alice", "zed"])
    with pytest.raises(StoreError, match="at least two"):
        report(ws, ["alice"])
    assert "zed" not in ws.annotators()  # asking about a name never creates its file
    ws.close()


def test_report_on_a_workspace_nobody_shared(workspace: Workspace) -> None:
    workspace.annotations("alice").set_credibility(IDS[0], 3)
    rep = report(workspace)
    assert rep["credibility"]["items"] == 0 and rep["credibility"]["alpha"] == {"ordinal": None, "interval": None}
    assert rep["entities"]["pairs"] == [] and rep["claims"]["pairs"] == []
    text = format_report(rep)
    assert "no article has a credibility score from two or more annotators" in text


def test_format_report_shows_figures_with_n(three_path: Path) -> None:
    ws = Workspace.open(three_path)
    text = format_report(report(ws))
    ws.close()
    lines = text.splitlines()
    interval = next(line for line in lines if line.startswith("Krippendorff's alpha (interval)"))
    assert interval.split()[-2:] == ["0.848", "3"]
    fleiss = next(line for line in lines if line.startswith("Fleiss' kappa"))
    assert fleiss.split()[-2:] == ["0.077", "2"]
    assert "Fleiss' kappa uses the 2 of 3 articles that all 3 annotators scored" in text
    assert "not compared: gold, predictions.model" in text
    org = next(line for line in lines if line.startswith("alice / bob") and " ORG " in line)
    assert org.split()[-3:] == ["1", "1", "4"]
    assert "n/a" in text  # MISC precision of alice: she tagged none
