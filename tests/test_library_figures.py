"""The library's per-article figures (store.team.stats) are what each annotator's summaries say, article by article:
checked against a plain restatement of the rule (every annotator's summary of one article at a time) on random
summaries, and on the rows of a workspace with a teammate, a predictions set and an assignment."""

from __future__ import annotations

import random
import re
from pathlib import Path

from store.annotation.record import state_of
from store.annotation.summary import Summary
from store.team import assign
from store.team.rows import NOBODY
from store.team.stats import _SETS, _figures, article_rows
from store.workspace import Workspace

WORD = re.compile(r"\w+")
NAMES = ["ann", "bo", "cy", "di"]
SCORES = [None, None, 1, 2, 3, 4, 5, 1.0, 2.5, 10**16, 1e16, -(10**16), -1e16]
"""Ints, and floats equal to some of them: 10**16 + 1 - 10**16 is 1, 1e16 + 1.0 - 1e16 is 0.0."""


def expected(annotator: str, summaries: dict[str, dict[str, Summary]], own: dict[str, Summary],
             article_id: str) -> tuple:
    """An article's figures (ArticleRow's fields from `state` to `done_by`), from one summary at a time."""
    annotators, done_by, scores = set(), set(), []
    for name, now in summaries.items():
        summary = now.get(article_id)
        if summary is None:
            continue
        if summary.records or summary.state not in (None, "not started"):
            annotators.add(name)
        if summary.state == "done":
            done_by.add(name)
        if summary.score is not None:
            scores.append(summary.score)
    mine = own.get(article_id)
    entities, claims, credibility, labels = 0, 0, None, frozenset()
    if mine is not None and annotator in summaries:
        entities, claims, credibility = mine.entities, mine.claims, mine.score
        labels = frozenset((*mine.labels, "CLAIM") if mine.claims else mine.labels)
    return (state_of(mine.state if mine is not None else None, annotator in annotators), credibility,
            round(sum(scores) / len(scores), 2) if scores else None, entities, claims, labels,
            frozenset(annotators), frozenset(done_by))


def exact(figures: tuple) -> list[str]:
    """The figures with their types (3 is not 3.0) and sets in order, to compare."""
    return [f"{type(v).__name__}:{sorted(v) if isinstance(v, frozenset) else v!r}" for v in figures]


def random_summaries(rng: random.Random, articles: list[str]) -> dict[str, Summary]:
    out = {}
    for article_id in rng.sample(articles, rng.randrange(len(articles))):
        claims = rng.choice([0, 0, 2])
        labels = tuple(sorted(rng.sample(["LOC", "ORG", "PER"], rng.randrange(3))))
        out[article_id] = Summary(rng.choice([None, "not started", "in progress", "done"]),
                                  rng.choice([0, 0, 1, 4]), len(labels), claims, rng.choice(SCORES), labels)
    return out


def test_the_figures_are_every_annotators_summaries_of_the_article_taken_together() -> None:
    rng = random.Random(5)
    articles = [f"a{n}" for n in range(30)]
    alike = [{"x": Summary("done", 1, 0, 0, x, ()), "y": Summary("done", 1, 0, 0, y, ())}
             for x, y in ((10**16, 1e16), (1, 1.0), (-(10**16), -1e16))]  # the same, but for ints and floats
    for case in range(300):
        summaries = ({name: random_summaries(rng, articles) for name in rng.sample(NAMES, rng.randrange(4))}
                     if case else dict(zip(NAMES, alike)))
        annotator = rng.choice(NAMES + ["zed"])
        own = summaries[annotator] if annotator in summaries else random_summaries(rng, articles)
        touched = set(own).union(*summaries.values())
        some = set(rng.sample(articles, 6))
        for chosen, figures in ((None, _figures(annotator, summaries, own)),
                                (some, _figures(annotator, summaries, own, some))):
            assert figures.keys() == (touched if chosen is None else chosen)
            for article_id, got in figures.items():
                assert exact(got) == exact(expected(annotator, summaries, own, article_id)), article_id
                assert all(s is NOBODY or _SETS[s] is s for s in got[5:])  # one object per distinct set


def test_every_row_holds_the_summaries_of_its_article(workspace_path: Path) -> None:
    ws = Workspace.open(workspace_path)
    try:
        articles = ws.articles()
        for name, picks, score in (("alice", [(0, "PER"), (2, "ORG")], 5), ("bob", [(0, "LOC"), (3, "PER")], 3),
                                   ("predictions.m", [(1, "ORG")], 1)):
            notes = ws.annotations(name)
            for index, label in picks:
                start, end = list(WORD.finditer(articles[index].body))[len(name)].span()
                notes.add_entity(articles[index].id, start, end, label)
            notes.set_credibility(articles[0].id, score)
        ws.annotations("alice").add_claim(articles[2].id, *list(WORD.finditer(articles[2].body))[9].span())
        ws.annotations("alice").set_state(articles[1].id, "done")
        ws.annotations("bob").set_state(articles[4].id, "not started")
    finally:
        ws.close()
    assign.save(workspace_path, {articles[2].id: ["alice", "bob"], articles[4].id: ["alice"]})
    ws = Workspace.open(workspace_path)
    try:
        for annotator in ("alice", "bob", "carol"):
            for team in (True, False):
                rows = article_rows(ws, annotator, team=team)
                counted = [n for n in ("alice", "bob") if team or n == annotator]
                summaries = {name: ws.summaries(name) for name in counted}
                own = ws.summaries(annotator) if annotator != "carol" else {}
                assert [row.id for row in rows] == [a.id for a in articles]
                for row, article in zip(rows, articles):
                    assert (row.title, row.source, row.date) == (article.title, article.source, article.date)
                    assert row.assigned == (annotator in {articles[2].id: ["alice", "bob"],
                                                          articles[4].id: ["alice"]}.get(article.id, ()))
                    figures = (row.state, row.credibility, row.credibility_mean, row.entities, row.claims,
                               row.labels, row.annotators, row.done_by)
                    assert exact(figures) == exact(expected(annotator, summaries, own, article.id)), (annotator, team)
                assert rows.progress(annotator) == (sum(annotator in r.done_by for r in rows),
                                                    sum(bool(r.done_by) for r in rows), len(articles))
        mine = article_rows(ws, "alice")
        assert mine[0].annotators == {"alice", "bob"} and mine[0].credibility_mean == 4.0  # (5 + 3) / 2
        assert mine[2].labels == {"ORG", "CLAIM"} and mine[1].done_by == {"alice"} and mine[4].assigned
    finally:
        ws.close()
