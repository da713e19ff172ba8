"""Suggestions: tagged strings travel across seeds with clitics and spelling variants; accept, reject
(for good), patterns, imported predictions, and the claim markers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import run_cli, until_suggestions_built

from store import StoreError, Workspace
from store.assist.claim_rules import candidates, load_rules
from store.assist.suggest import Suggester
from store.db import journal
from tui.app import make_app
from tui.screens.reader import ReaderScreen

pytestmark = pytest.mark.usefixtures("quiet_waits")  # Pilot waits for the app, not the clock (conftest.py)

SPEAKER = "52f015e52f40b84e"   # tags are made here
OTHER = "73d8cda007db96f7"     # and suggested here
DGSN = "المديرية العامة للأمن الوطني"


def close_for_restart(workspace: Workspace) -> None:
    """Close the workspace as quitting does, and check that this process caches nothing of it any more
    (store.db.journal keeps one store per file per process): what is opened next is read from disk."""
    workspace.close()
    root = os.path.realpath(workspace.path)
    cached = [key for key in journal._OPEN if key.startswith(root + os.sep)]
    assert not cached, f"still cached in this process, a reopening would not read the disk: {cached}"


def tag(ws: Workspace, article_id: str, text: str, label: str, annotator: str = "alice") -> None:
    body = ws.article(article_id).body
    start = body.index(text)
    ws.annotations(annotator).add_entity(article_id, start, start + len(text), label)


def test_tagged_string_is_suggested_in_another_seed_with_clitics_and_variants(workspace: Workspace) -> None:
    tag(workspace, SPEAKER, DGSN, "ORG")
    body = workspace.article(OTHER).body
    suggester = Suggester(workspace, "bob")  # bob sees what alice tagged
    suggester.tagged.add("اَلحَمُّوشى", "PER")      # a spelling variant with harakat and alef maqsura
    found = [(body[s.start:s.end], s.label) for s in suggester.for_article(OTHER)]
    assert found.count((DGSN, "ORG")) == body.count(DGSN) >= 5
    assert ("الحموشي", "PER") in found
    # Clitics in front ("وبالمديرية") are allowed and left out of the span.
    text = "وقال مصدر من وبالمديرية العامة للامن الوطنى إن"
    spans = suggester.tagged.find(text)
    assert [(text[s:e], label) for s, e, label in spans] == [("المديرية العامة للامن الوطنى", "ORG")]


def test_most_frequent_label_wins(workspace: Workspace) -> None:
    suggester = Suggester(workspace, "bob")
    for label in ("ORG", "LOC", "LOC"):
        suggester.tagged.add("المغرب", label)
    assert suggester.tagged.find("زار المغرب") == [(4, 10, "LOC")]


def test_patterns_file_phrases_and_tokens(workspace: Workspace) -> None:
    (workspace.path / "patterns.jsonl").write_text(
        json.dumps({"label": "ORG", "pattern": "وزارة الخارجية"}, ensure_ascii=False) + "\n"
        + json.dumps({"label": "MISC", "pattern": [{"NORM": "سنة"}, {"IS_DIGIT": True}]}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    suggester = Suggester(workspace, "bob")
    body = workspace.article(OTHER).body
    found = {(body[s.start:s.end], s.label, s.source) for s in suggester.for_article(OTHER)}
    assert ("سنة 2023", "MISC", "pattern") in found
    zero = workspace.article("f6acadc5c55dd27f").body
    assert any(zero[s.start:s.end] == "وزارة الخارجية" for s in suggester.for_article("f6acadc5c55dd27f"))
    (workspace.path / "patterns.jsonl").write_text('{"label": "ORG", "pattern": 3}\n', encoding="utf-8")
    with pytest.raises(StoreError, match=r"patterns.jsonl:1: field 'pattern'"):
        Suggester(workspace, "bob")
    (workspace.path / "patterns.jsonl").write_text('{"label": "XYZ", "pattern": "x"}\n', encoding="utf-8")
    with pytest.raises(StoreError, match=r"patterns.jsonl:1: field 'label': 'XYZ'"):
        Suggester(workspace, "bob")


def test_imported_predictions_are_suggestions_not_annotations(workspace_path: Path, tmp_path: Path) -> None:
    ws = Workspace.open(workspace_path)
    body = ws.article(OTHER).body
    start = body.index("عبد اللطيف الحموشي")
    record = {"id": OTHER, "text": body, "label": [[start, start + len("عبد اللطيف الحموشي"), "PER"]]}
    path = tmp_path / "model.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    result = run_cli(["--workspace", str(workspace_path), "import", "--predictions", "camelbert", str(path)])
    assert result.returncode == 0, result.stderr
    ws = Workspace.open(workspace_path)
    suggestions = Suggester(ws, "alice").for_article(OTHER)
    assert [(body[s.start:s.end], s.source) for s in suggestions if s.source.startswith("prediction")] == \
        [("عبد اللطيف الحموشي", "prediction:camelbert")]
    assert ws.annotations("alice").for_article(OTHER) == []
    from store.team.stats import article_rows

    assert all(not r.annotators for r in article_rows(ws, "alice"))


async def test_accept_reject_and_rejection_survives_restart(workspace_path: Path) -> None:
    ws = Workspace.open(workspace_path)
    tag(ws, SPEAKER, DGSN, "ORG", annotator="carol")
    app = make_app(ws, "alice")
    async with app.run_test(size=(130, 36)) as pilot:
        screen = ReaderScreen(OTHER)
        app.push_screen(screen)
        await until_suggestions_built(pilot, app)
        first, second = screen.suggestions[0], screen.suggestions[1]
        assert screen.view.text[first.start:first.end] == DGSN
        screen.view.move_to_offset(first.start)
        await pilot.press("a")
        screen.view.move_to_offset(second.start)
        await pilot.press("x")
        await pilot.pause()
        remaining = len(screen.suggestions)
    close_for_restart(ws)
    ws = Workspace.open(workspace_path)
    rows = ws.annotations("alice").for_article(OTHER)
    assert [(r["start"], r["end"], r["label"]) for r in rows] == [first.key]
    again = Suggester(ws, "alice").for_article(OTHER, taken=[(first.start, first.end)])
    assert second.key not in {s.key for s in again} and len(again) == remaining
    app = make_app(ws, "alice")
    async with app.run_test(size=(130, 36)) as pilot:
        screen = ReaderScreen(OTHER)
        app.push_screen(screen)
        await until_suggestions_built(pilot, app)
        await pilot.press("A")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert screen.suggestions == []
    close_for_restart(ws)
    ws = Workspace.open(workspace_path)
    accepted = ws.annotations("alice").for_article(OTHER)
    assert len(accepted) == 1 + remaining
    close_for_restart(ws)


def test_claim_markers_on_a_seed(workspace: Workspace) -> None:
    rules = load_rules(workspace.path)
    assert (workspace.path / "claim_rules.toml").exists()
    body = workspace.article("f6acadc5c55dd27f").body
    marked = {body[c.start:c.end][:40]: c.reasons for c in candidates(body, rules)}
    statistic = next(k for k in marked if k.startswith("و قال المسؤول بوزارة"))
    assert set(marked[statistic]) >= {"number", "reported_speech"}
    assert any("comparison" in r for r in marked.values())
    unmarked = [s for s in body.split("\n") if not any(s.startswith(k) for k in marked)]
    assert unmarked  # not every sentence is a claim
    (workspace.path / "claim_rules.toml").write_text("[rules.x]\nregex = '('\n", encoding="utf-8")
    with pytest.raises(StoreError, match="rules.x.regex"):
        load_rules(workspace.path)


async def test_claim_marks_show_in_the_margin(workspace_path: Path) -> None:
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(130, 36)) as pilot:
        screen = ReaderScreen("f6acadc5c55dd27f")
        app.push_screen(screen)
        await pilot.pause()
        view = screen.view
        lines = [view.render_line(y).text for y in range(view.size.height)]
        marked_rows = [y for y, line in enumerate(lines) if line.startswith("▌")]
        assert marked_rows and len(marked_rows) < len(lines)
