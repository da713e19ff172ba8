"""`tahqiq agreement` through tui.cli.agreement, with a parser built like tui/cli/entry.py's (global --workspace and
--annotator, then the subcommand with its own --workspace and repeatable --annotator)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from test_agreement import annotate_three

from tui.cli.agreement import add_agreement_parser, run_agreement


@pytest.fixture
def three_path(workspace_path: Path) -> Path:
    annotate_three(workspace_path)
    return workspace_path


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tahqiq")
    parser.add_argument("--workspace", default=None)
    parser.add_argument("--annotator", default=None)
    add_agreement_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(list(argv))


def test_text_report(three_path: Path, capsys) -> None:
    assert run_agreement(parse("agreement", "--workspace", str(three_path))) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "annotators: alice, bob, carol" in out
    assert "Krippendorff's alpha (ordinal)" in out and "Cohen's kappa (quadratic)" in out
    assert "Fleiss' kappa (rated by all)" in out and "Entities" in out and "Claims" in out


def test_json_report(three_path: Path, capsys) -> None:
    assert run_agreement(parse("--workspace", str(three_path), "agreement", "--json")) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["annotators"] == ["alice", "bob", "carol"]
    assert data["credibility"]["items"] == 3
    assert data["credibility"]["alpha"]["interval"] == pytest.approx(39 / 46)
    assert {(p["a"], p["b"]) for p in data["entities"]["pairs"]} == {("alice", "bob"), ("alice", "carol"),
                                                                      ("bob", "carol")}


def test_repeatable_annotator_chooses_who(three_path: Path, capsys) -> None:
    args = parse("agreement", "--workspace", str(three_path), "--annotator", "alice", "--annotator", "bob",
                 "--json")
    assert run_agreement(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["annotators"] == ["alice", "bob"]
    assert data["credibility"]["fleiss"] is None and len(data["credibility"]["pairs"]) == 1


def test_global_annotator_does_not_narrow_the_comparison(three_path: Path, capsys) -> None:
    assert run_agreement(parse("--annotator", "alice", "agreement", "--workspace", str(three_path), "--json")) == 0
    assert json.loads(capsys.readouterr().out)["annotators"] == ["alice", "bob", "carol"]


@pytest.mark.parametrize("names,message", [(["alice", "zed"], "no annotations by zed"),
                                           (["alice"], "at least two annotators")])
def test_user_errors_exit_1_with_one_line(three_path: Path, capsys, names: list[str], message: str) -> None:
    argv = ["agreement", "--workspace", str(three_path)]
    for name in names:
        argv += ["--annotator", name]
    assert run_agreement(parse(*argv)) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("tahqiq: error: ") and message in err and err.count("\n") == 1


def test_usage_error_exits_2(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        parse("agreement", "--format", "csv")
    assert exc.value.code == 2


def test_empty_workspace_is_not_an_error(tmp_path: Path, capsys) -> None:
    from store import Workspace
    Workspace.open(tmp_path / "new").close()  # a workspace with nothing in it (a missing one is an error)
    assert run_agreement(parse("agreement", "--workspace", str(tmp_path / "new"))) == 0
    out = capsys.readouterr().out
    assert "annotators: none" in out and "no article touched by two annotators" in out


def test_through_tahqiq_main_once_wired(three_path: Path, capsys) -> None:
    from tui.cli import entry as cli
    assert cli.main(["agreement", "--workspace", str(three_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["credibility"]["items"] == 3
    assert cli.main(["--workspace", str(three_path), "agreement", "--annotator", "zed", "--annotator", "alice"]) == 1
    assert "no annotations by zed" in capsys.readouterr().err
