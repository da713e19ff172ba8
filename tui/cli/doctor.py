"""`tahqiq doctor`: check a workspace and repair what can be repaired (see store.doctor)."""

from __future__ import annotations

import argparse
import sys

from store.doctor import check, problems
from store.workspace import default_path
from tui.cli.common import add_workspace_option


def add_doctor_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "doctor", help="check a workspace and repair what can be repaired",
        description="Check the corpus, article texts, labels.toml, every annotator's database and journal, "
                    "and annotations that no longer match their text. Repairs what is safe (keeping a copy "
                    "of anything it changes), prints one line per finding, exits 1 if problems remain.")
    add_workspace_option(p)
    p.add_argument("--dry-run", action="store_true", help="only report; change nothing")
    p.add_argument("--quiet", action="store_true", help="print only repairs and problems")
    return p


def run_doctor(args: argparse.Namespace) -> int:
    folder = getattr(args, "workspace", None) or default_path()
    findings = check(folder, dry_run=args.dry_run)
    for finding in findings:
        if args.quiet and finding.level in ("ok", "note"):
            continue
        print(_safe(str(finding)))
    remaining = problems(findings)
    repaired = sum(f.level == "repaired" for f in findings)
    print(f"doctor: {remaining} problem(s) remain, {repaired} repaired", file=sys.stderr)
    return 1 if remaining else 0


def _safe(line: str) -> str:
    """One line, with nothing a terminal would interpret (file names and stored text can hold anything)."""
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in line)


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    add_doctor_parser(subparsers)


COMMANDS = {"doctor": run_doctor}
