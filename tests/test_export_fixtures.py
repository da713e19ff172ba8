"""Shared by the export/import tests: a workspace with annotations by two annotators on several seeds
and a synthetic article with emoji before its spans and a word with harakat."""

from __future__ import annotations

import json
from pathlib import Path

from store import Workspace

EMOJI_ID = "emoji-harakat"
# Astral emoji before every span (each is 2 UTF-16 units), a harakat'd name, a line break, English.
EMOJI_TEXT = "😀 قالَ مُحَمَّدٌ إنّ الأسعارَ ارتفعت 😀😀 في القاهرة؟\nثم غادر إلى Paris! والقاهرة بعيدة."
SEEDS = ["52f015e52f40b84e", "f6acadc5c55dd27f", "d9577bfa1a0662c0"]


def _at(body: str, word: str, nth: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = body.index(word, start + 1)
    return start, start + len(word)


def annotate(ws: Workspace, tmp: Path) -> None:
    """alice: entities, claims with attributes, credibility, done states; bob: a different view."""
    src = tmp / "synthetic.jsonl"
    src.write_text(json.dumps({"id": EMOJI_ID, "text": EMOJI_TEXT, "title": "اختبار", "source": "test",
                               "date": "2024-05-01"}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert ws.import_paths([src]).imported == [EMOJI_ID]

    alice, bob = ws.annotations("alice"), ws.annotations("bob")
    b = EMOJI_TEXT
    alice.add_entity(EMOJI_ID, *_at(b, "مُحَمَّدٌ"), "PER")
    alice.add_entity(EMOJI_ID, *_at(b, "القاهرة"), "LOC")
    alice.add_entity(EMOJI_ID, *_at(b, "Paris"), "LOC")
    alice.add_entity(EMOJI_ID, *_at(b, "القاهرة", 1), "LOC")  # inside "والقاهرة": a clitic before it
    alice.add_claim(EMOJI_ID, *_at(b, "إنّ الأسعارَ ارتفعت"), verdict="true", type="statistic",
                    check_worthiness="check-worthy", claimant="مُحَمَّدٌ", note="needs a source")
    alice.set_credibility(EMOJI_ID, 2, note="no sources", indicators=["emotional language"])
    alice.set_state(EMOJI_ID, "done")

    body = ws.article(SEEDS[0]).body
    alice.add_entity(SEEDS[0], *_at(body, "بوبكر سبيك"), "PER")
    alice.add_entity(SEEDS[0], *_at(body, "المديرية العامة للأمن الوطني"), "ORG")
    alice.add_claim(SEEDS[0], 0, body.index("،"), type="quote", verdict="unverifiable")
    alice.set_credibility(SEEDS[0], 4, indicators=["named sources", "verifiable numbers"])
    alice.set_state(SEEDS[0], "done")
    bob.add_entity(SEEDS[0], *_at(body, "بوبكر سبيك"), "PER")
    bob.set_credibility(SEEDS[0], 3)

    body = ws.article(SEEDS[1]).body
    alice.add_entity(SEEDS[1], *_at(body, "كريس كولمان"), "PER")
    alice.add_entity(SEEDS[1], *_at(body, "ويكيليكس"), "ORG")
    bob.add_entity(SEEDS[1], *_at(body, "تويتر"), "ORG")
    bob.add_claim(SEEDS[1], *_at(body, "وصفها بالسرية"))

    body = ws.article(SEEDS[2]).body
    bob.add_entity(SEEDS[2], *_at(body, "حزب العدالة والتنمية"), "ORG")
    bob.set_state(SEEDS[2], "done")


def make_annotated(workspace_path: Path, tmp_path: Path) -> Path:
    """The seeded workspace at `workspace_path`, annotated by `annotate`; each test module wraps this in
    its own fixture (importing a fixture by name across modules trips the linter)."""
    ws = Workspace.open(workspace_path)
    annotate(ws, tmp_path)
    ws.close()
    return workspace_path


def expected_spans(ws: Workspace, annotator: str, kinds=("entity", "claim")) -> set[tuple]:
    """(article_id, start, end, label, text) of every span the annotator made, from the store."""
    return {(r["article_id"], r["start"], r["end"], r["label"], r["text"])
            for r in ws.annotations(annotator).all() if r["kind"] in kinds}


def test_fixture_has_what_the_tests_need(annotated_path: Path) -> None:
    ws = Workspace.open(annotated_path)
    try:
        assert ws.annotators() == ["alice", "bob"]
        spans = expected_spans(ws, "alice")
        assert any(a == EMOJI_ID and "😀" in EMOJI_TEXT[:s] for a, s, *_ in spans)
        assert ("\u064e" in "".join(t for *_, t in spans))  # a fatha: harakat inside a span
        assert len({a for a, *_ in spans | expected_spans(ws, "bob")}) == 4
    finally:
        ws.close()
