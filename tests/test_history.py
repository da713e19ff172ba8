"""Undo/redo across entity, claim, credibility, update and remove; each step is on disk at once."""

from __future__ import annotations

from store import Workspace
from store.annotation.history import History

ARTICLE = "52f015e52f40b84e"


def spans(ws: Workspace) -> list[tuple]:
    fresh = Workspace.open(ws.path).annotations("alice")  # what is on disk, not in memory
    return sorted((r["kind"], r["start"], r["end"], r["label"], str(r["attributes"]))
                  for r in fresh.for_article(ARTICLE))


def test_undo_redo_every_kind(workspace: Workspace) -> None:
    h = History(workspace.annotations("alice"))
    states = [spans(workspace)]
    e = h.add_entity(ARTICLE, 0, 3, "PER")
    states.append(spans(workspace))
    h.update(e["id"], start=1)
    states.append(spans(workspace))
    h.add_claim(ARTICLE, 10, 40, type="quote")
    states.append(spans(workspace))
    h.set_credibility(ARTICLE, 2)
    states.append(spans(workspace))
    h.set_credibility(ARTICLE, 5, note="جيد")
    states.append(spans(workspace))
    h.add_entities(ARTICLE, [(50, 55), (60, 65), (51, 53)], "LOC")  # the nested one is refused
    states.append(spans(workspace))
    h.remove(e["id"])
    states.append(spans(workspace))
    assert len({tuple(s) for s in states}) == len(states)  # every step changed something

    for expected in reversed(states[:-1]):
        assert h.undo() is not None
        assert spans(workspace) == expected
    assert h.undo() is None
    for expected in states[1:]:
        assert h.redo() is not None
        assert spans(workspace) == expected
    assert h.redo() is None


def test_new_change_clears_redo(workspace: Workspace) -> None:
    h = History(workspace.annotations("alice"))
    h.add_entity(ARTICLE, 0, 3, "PER")
    h.undo()
    h.add_entity(ARTICLE, 5, 8, "ORG")
    assert h.redo() is None
    assert [r["label"] for r in workspace.annotations("alice").for_article(ARTICLE)] == ["ORG"]
