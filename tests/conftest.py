"""Shared fixtures: a fresh workspace with the bundled seeds, and the seed files themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from store import Workspace

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture
def workspace_path(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    ws = Workspace.open(path)
    report = ws.import_seeds()
    assert len(report.imported) == 5, report.summary()
    ws.close()
    return path


@pytest.fixture
def annotated_path(workspace_path: Path, tmp_path: Path) -> Path:
    """The seeds plus the export tests' annotations (alice, bob) and their emoji article."""
    from test_export_fixtures import make_annotated

    return make_annotated(workspace_path, tmp_path)


@pytest.fixture
def ws(annotated_path: Path) -> Workspace:
    w = Workspace.open(annotated_path)
    yield w
    w.close()


@pytest.fixture
def workspace(workspace_path: Path) -> Workspace:
    ws = Workspace.open(workspace_path)
    yield ws
    ws.close()
