"""`tahqiq agreement`: inter-annotator agreement on the articles more than one annotator did.
Argument parsing and printing only; the work is in store.team.agreement."""

from __future__ import annotations

import argparse
import json
import sys

from store import StoreError, Workspace
from store.exchange.records import json_safe
from store.team.agreement import format_report, report
from tui.cli.common import add_workspace_option, human, may_create, warn_damaged

EPILOG = """\
credibility: Krippendorff's alpha (ordinal, interval) over the articles scored by two or more annotators;
Cohen's kappa (unweighted, quadratic) per pair; Fleiss' kappa on the articles all of 3+ annotators scored.
entities, claims: per pair A / B, on the articles both touched: precision (A against B), recall, F1;
exact (same start, end, label) and overlap (same label, spans intersect, matched one to one).
Every figure comes with its n. n/a: undefined on these data (nothing to compare, or no variation).
Imported predictions (predictions.*) and the gold set are left out unless named with --annotator.
"""


def add_agreement_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "agreement", help="inter-annotator agreement (alpha, kappa, span F1)",
        description="Agreement between annotators on the articles more than one of them did.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--annotator", action="append", dest="annotators", metavar="NAME",
                   help="compare this annotator (repeatable, at least two; default: everyone but "
                        "predictions.* and gold)")
    p.add_argument("--json", action="store_true", help="the whole report as one JSON object, for scripts")
    add_workspace_option(p)
    return p


def run_agreement(args: argparse.Namespace) -> int:
    """Print the report (text or JSON). A user error (unknown annotator, fewer than two) prints one line
    and returns 1."""
    try:
        workspace = Workspace.open(getattr(args, "workspace", None), create=may_create(args))
        try:
            result = report(workspace, args.annotators)
        finally:
            workspace.close()
    except StoreError as exc:
        print(f"tahqiq: error: {human(str(exc))}", file=sys.stderr)
        return 1
    warn_damaged(workspace)  # read as far as whole: said, one line each
    if args.json:
        print(json_safe(json.dumps(result, ensure_ascii=False, indent=1)))  # no raw DEL, C1 or bidi control
    else:
        print(human(format_report(result)))  # labels come from annotation files
    return 0


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    add_agreement_parser(subparsers)  # a repeatable --annotator of its own


COMMANDS = {"agreement": run_agreement}
