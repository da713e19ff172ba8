"""The `tahqiq` entry point: one parser made of every command group's subcommands, and the app itself
when no command is given (then the groups are not imported: see `parse_args`)."""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Callable

from store import CorruptFileError, LockedError, StoreError
from tui.cli.common import add_annotator_option, add_workspace_option, default_annotator, human, open_workspace
from tui.cli.serve import die_with_server
from tui.terminal import explicit_bidi

GROUPS = ("corpus", "exchange", "agreement", "serve", "doctor")
"""The command groups, modules of tui.cli: each adds its subcommands (`add_parsers`) and names what runs them
(`COMMANDS`)."""


def _groups() -> list:
    return [importlib.import_module(f"tui.cli.{name}") for name in GROUPS]


def commands() -> dict[str, Callable[[argparse.Namespace], int]]:
    """What runs each command, by name."""
    return {name: run for group in _groups() for name, run in group.COMMANDS.items()}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # (~15 ms every start would pay otherwise)

    try:
        return version("tahqiq")
    except PackageNotFoundError:
        return "unknown"


class _VersionAction(argparse.Action):
    """`--version`: the installed package's version, looked up only when asked."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"tahqiq {_version()}")
        parser.exit()


def build_parser(with_commands: bool = True) -> argparse.ArgumentParser:
    """The whole parser; without the commands, one for the app's own options only (see `parse_args`)."""
    parser = argparse.ArgumentParser(
        prog="tahqiq", description="Browse and annotate Arabic news articles in the terminal.",
        add_help=with_commands, exit_on_error=with_commands)
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    add_workspace_option(parser, suppress=False)
    add_annotator_option(parser, suppress=False)
    parser.add_argument("--bidi", choices=["app", "terminal"], default="app",
                        help="app: tahqiq reorders and joins Arabic (default); terminal: send logical "
                             "order for terminals that do bidi themselves")
    parser.add_argument("--no-shaping", action="store_true", help="do not join Arabic letters")
    parser.add_argument("--read-only", action="store_true",
                        help="open to look only, nothing is saved (for a workspace with a damaged file)")
    if not with_commands:
        parser.add_argument("rest", nargs=argparse.REMAINDER)
        parser.set_defaults(command=None)
        return parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in _groups():
        group.add_parsers(sub)
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line. The app's own options (no command, no help) are read without the commands' parsers:
    these import the export formats, the doctor and the server (~40 ms of every start); anything else, errors
    included, goes to the whole parser."""
    try:
        args, unknown = build_parser(with_commands=False).parse_known_args(argv)
    except argparse.ArgumentError:
        args, unknown = None, True
    if args is None or args.rest or unknown:
        return build_parser().parse_args(argv)
    del args.rest
    return args


def run_app(args: argparse.Namespace) -> int:
    gc.disable()  # until the first screen is drawn (tui.app.Tahqiq._after_first_screen): see there
    try:
        return _run_app(args)
    finally:
        gc.enable()  # (the app ended, or never drew a screen)


def _run_app(args: argparse.Namespace) -> int:
    from tui.app import make_app  # not at the top: Textual costs every command ~250 ms at start

    workspace = open_workspace(args, seed=True)
    workspace.on_read_whole = _say_read_whole  # (until the screen opens: see there)
    workspace.schema  # noqa: B018 - a broken labels.toml is a one-line error before the screen opens
    annotator = args.annotator or default_annotator()
    notice = None
    if not workspace.read_only:
        try:
            if workspace.summary_is_stale(annotator):
                _say_read_whole(annotator)
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
    workspace.on_read_whole = None  # (the screen is the terminal's from here)
    app = make_app(workspace, annotator, bidi=args.bidi, shaping=not args.no_shaping, notice=notice)
    try:
        with explicit_bidi(args.bidi == "app"):
            app.run()
    finally:
        workspace.close()  # folds the journal into annotations/<name>.json and releases the writer lock
    return app.return_code or 0


def _say_read_whole(annotator: str) -> None:
    """Before the screen opens: why this start takes a while (seconds at 100,000 articles). The annotator's own
    records, or anyone's when labels.toml changed; teammates' figures are read once the library is up."""
    print(f"tahqiq: reading {annotator}'s annotations whole, once: their summary does not fit their files (a moved "
          "or restored workspace? `tahqiq doctor` rewrites every summary)", file=sys.stderr, flush=True)


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
    args = parse_args(argv)
    try:
        return (run_app if args.command is None else commands()[args.command])(args)
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
