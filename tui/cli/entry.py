"""The `tahqiq` entry point: one parser made of every command group's subcommands, and the app itself
when no command is given."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from importlib.metadata import PackageNotFoundError, version

from store import CorruptFileError, LockedError, StoreError
from tui.cli import agreement, corpus, doctor, exchange, serve
from tui.cli.common import add_annotator_option, add_workspace_option, default_annotator, human, open_workspace
from tui.cli.serve import die_with_server
from tui.terminal import explicit_bidi

GROUPS = (corpus, exchange, agreement, serve, doctor)
"""Each command group adds its subcommands (`add_parsers`) and names what runs them (`COMMANDS`)."""
COMMANDS = {name: run for group in GROUPS for name, run in group.COMMANDS.items()}


def _version() -> str:
    try:
        return version("tahqiq")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tahqiq", description="Browse and annotate Arabic news articles in the terminal.")
    parser.add_argument("--version", action="version", version=f"tahqiq {_version()}")
    add_workspace_option(parser, suppress=False)
    add_annotator_option(parser, suppress=False)
    parser.add_argument("--bidi", choices=["app", "terminal"], default="app",
                        help="app: tahqiq reorders and joins Arabic (default); terminal: send logical "
                             "order for terminals that do bidi themselves")
    parser.add_argument("--no-shaping", action="store_true", help="do not join Arabic letters")
    parser.add_argument("--read-only", action="store_true",
                        help="open to look only, nothing is saved (for a workspace with a damaged file)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        group.add_parsers(sub)
    return parser


def run_app(args: argparse.Namespace) -> int:
    gc.disable()  # until the first screen is drawn (tui.app.Tahqiq._after_first_screen): see there
    try:
        return _run_app(args)
    finally:
        gc.enable()  # (the app ended, or never drew a screen)


def _run_app(args: argparse.Namespace) -> int:
    from tui.app import make_app  # not at the top: Textual costs every command ~250 ms at start

    workspace = open_workspace(args, seed=True)
    workspace.schema  # noqa: B018 - a broken labels.toml is a one-line error before the screen opens
    annotator = args.annotator or default_annotator()
    notice = None
    if not workspace.read_only:
        try:
            workspace.annotations(annotator).acquire()  # a second login is refused here, not at its first save
        except CorruptFileError as exc:
            if not _offer_read_only(exc):
                return 1
            workspace.close()
            args.read_only = True
            workspace = open_workspace(args)
        except LockedError:
            raise
        except StoreError as exc:  # a read-only folder, a full disk: work is kept in memory meanwhile
            notice = f"{exc}: changes are kept in memory and saved as soon as the disk allows"
    app = make_app(workspace, annotator, bidi=args.bidi, shaping=not args.no_shaping, notice=notice)
    try:
        with explicit_bidi(args.bidi == "app"):
            app.run()
    finally:
        workspace.close()  # folds the journal into annotations/<name>.json and releases the writer lock
    return app.return_code or 0


def _offer_read_only(exc: CorruptFileError) -> bool:
    """Say which file is damaged and how; ask whether to open read-only (never on a non-interactive run)."""
    print(f"tahqiq: error: {human(str(exc))}", file=sys.stderr)
    hint = "the damaged file is kept as it is; `tahqiq doctor` checks and repairs the workspace"
    if not sys.stdin.isatty():
        print(f"tahqiq: {hint}; --read-only opens it to look only", file=sys.stderr)
        return False
    answer = input(f"tahqiq: {hint}. Open read-only now (nothing will be saved)? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def main(argv: list[str] | None = None) -> int:
    die_with_server()  # a `tahqiq serve` session: end with the server, even if it is killed
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS.get(args.command, run_app)(args)
    except StoreError as exc:
        print(f"tahqiq: error: {human(str(exc))}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `tahqiq export ... | head`: the reader has had enough; end quietly, like cat
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at interpreter exit
        return 141  # 128 + SIGPIPE, what a Unix tool killed by the closed pipe returns
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"tahqiq: error: {human(f'{where}{exc.strerror or exc}')}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
