"""Review: side by side with disagreements marked, gold by version / majority / item, gold and merge export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from textual.widgets import DataTable

from store import Workspace
from store.team.review import GOLD, reviewers_view
from tui.app import make_app
from tui.screens.review import ReviewScreen

pytestmark = pytest.mark.usefixtures("quiet_waits")  # Pilot waits for the app, not the clock (conftest.py)

ARTICLE = "52f015e52f40b84e"


def setup_three(path: Path) -> str:
    ws = Workspace.open(path)
    body = ws.article(ARTICLE).body
    s = body.index("بوبكر سبيك")
    t = body.index("تويتر")
    for name, label, score in (("amina", "PER", 4), ("omar", "PER", 2), ("sara", "ORG", 4)):
        notes = ws.annotations(name)
        notes.add_entity(ARTICLE, s, s + len("بوبكر سبيك"), label)
        notes.set_credibility(ARTICLE, score)
    ws.annotations("amina").add_entity(ARTICLE, t, t + 5, "ORG")
    ws.annotations("omar").add_entity(ARTICLE, t, t + 5, "ORG")
    return body


def cells(app) -> dict[str, list[str]]:
    table = app.screen.query_one(DataTable)
    return {str(row.key.value): [str(c) for c in table.get_row(row.key)] for row in table.ordered_rows}


async def test_review_marks_disagreements_and_builds_gold(workspace_path: Path) -> None:
    body = setup_three(workspace_path)
    app = make_app(Workspace.open(workspace_path), "lead")
    async with app.run_test(size=(150, 30)) as pilot:
        app.screen._select(ARTICLE)
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        rows = cells(app)
        s = body.index("بوبكر سبيك")
        person = rows[f"entity:{s}:{s + 10}"]
        assert person[0] == "≠" and person[3:6] == ["PER", "PER", "ORG"] and person[6] == "·"
        assert rows["cred"][0] == "≠" and rows["cred"][3:6] == ["4", "2", "4"]
        # Majority: PER (2 of 3), credibility 4, and تويتر (2 of 3) as ORG.
        await pilot.press("m")
        await pilot.pause()
        rows = cells(app)
        assert rows[f"entity:{s}:{s + 10}"][6] == "PER" and rows["cred"][6] == "4"
        # Take sara's version, then toggle تويتر back in with space.
        await pilot.press("3")
        await pilot.pause()
        t = body.index("تويتر")
        assert cells(app)[f"entity:{t}:{t + 5}"][6] == "·"
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(f"entity:{t}:{t + 5}"))
        await pilot.press("space")
        await pilot.pause()
        assert cells(app)[f"entity:{t}:{t + 5}"][6] == "ORG"
    gold = Workspace.open(workspace_path).annotations(GOLD).for_article(ARTICLE)
    assert sorted((r["kind"], r["label"]) for r in gold) == [("credibility", "CREDIBILITY"), ("entity", "ORG"),
                                                             ("entity", "ORG")]
    assert all(r["attributes"]["decided_by"] == "lead" for r in gold)
    assert reviewers_view(Workspace.open(workspace_path), ARTICLE).annotators == ["amina", "omar", "sara"]


def test_export_gold_and_merge_with_ties(workspace_path: Path) -> None:
    body = setup_three(workspace_path)
    ws = Workspace.open(workspace_path)
    ws.annotations("omar").set_credibility(ARTICLE, 4)
    ws.annotations("sara").set_credibility(ARTICLE, 1)
    ws.annotations("zaid").set_credibility(ARTICLE, 2)  # 4, 4, 1, 2 -> 4; but add a label tie:
    ws.annotations("zaid").add_entity(ARTICLE, body.index("بوبكر سبيك"), body.index("بوبكر سبيك") + 10, "ORG")
    run = ["--workspace", str(workspace_path), "export", "--format", "jsonl"]
    merged = run_cli(run + ["--merge"])
    assert merged.returncode == 0, merged.stderr
    [record] = [json.loads(line) for line in merged.stdout.splitlines()]
    assert record["annotator"] == "merge" and record["credibility"]["score"] == 4
    assert "label tie between ['ORG', 'PER'], kept ORG" in merged.stderr
    t = body.index("تويتر")
    assert {(e["start"], e["label"]) for e in record["entities"]} == {(body.index("بوبكر سبيك"), "ORG")}
    assert all(e["start"] != t for e in record["entities"])  # تويتر: 2 of 4 is not a majority
    from store.team.review import take_version

    take_version(ws, ARTICLE, "amina", "lead")
    gold = run_cli(run + ["--annotator", GOLD])
    [record] = [json.loads(line) for line in gold.stdout.splitlines()]
    assert record["annotator"] == GOLD and len(record["entities"]) == 2
