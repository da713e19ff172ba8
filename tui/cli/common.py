"""What every `tahqiq` command shares: the --workspace and --annotator options, opening the workspace,
and how messages reach a person's terminal."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from store import Workspace

WORKSPACE_HELP = "workspace folder (default: $TAHQIQ_WORKSPACE or ~/.local/share/tahqiq)"


def human(text: str) -> str:
    """A message for a person's terminal: no control character, bidi control or TAB of its own (file names,
    article ids and texts end up in messages); lines are kept."""
    from tui.bidi.sanitize import inert  # not at the top: tui.bidi (regex, python-bidi) costs --help ~35 ms

    return inert(text, lines=True)


def default_annotator() -> str:
    """The annotator when none is given: the login name."""
    try:
        return os.environ.get("USER") or getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "annotator"


def add_workspace_option(parser: argparse.ArgumentParser, suppress: bool = True) -> None:
    """--workspace DIR. On a subcommand `suppress` keeps a value given before the subcommand."""
    parser.add_argument("--workspace", metavar="DIR", default=argparse.SUPPRESS if suppress else None,
                        help=WORKSPACE_HELP)


def add_annotator_option(parser: argparse.ArgumentParser, suppress: bool = True,
                         help: str = "who is annotating (default: $USER)") -> None:
    """--annotator NAME (one annotator; export and agreement take several, with their own option)."""
    parser.add_argument("--annotator", metavar="NAME", default=argparse.SUPPRESS if suppress else None, help=help)


def open_workspace(args: argparse.Namespace, seed: bool = False) -> Workspace:
    """The chosen workspace; the bundled seeds are imported into an empty one when the app opens it, or
    when any command first opens the default workspace."""
    read_only = getattr(args, "read_only", False) and args.command is None
    workspace_arg = getattr(args, "workspace", None)
    default = workspace_arg is None and "TAHQIQ_WORKSPACE" not in os.environ
    workspace = Workspace.open(workspace_arg, read_only=read_only, create=may_create(args, seed))
    if (seed or default) and workspace.is_empty and args.command != "import" and not read_only:
        workspace.import_seeds()
    return workspace


def may_create(args: argparse.Namespace, seed: bool = False) -> bool:
    """Only the app (and the server), `import` and the default workspace create a workspace; any other
    command on a folder that holds none says so (a mistyped --workspace must not look like an empty one)."""
    if getattr(args, "read_only", False):
        return False  # `--read-only` writes nothing, a new workspace least of all
    default = getattr(args, "workspace", None) is None and "TAHQIQ_WORKSPACE" not in os.environ
    return seed or default or args.command in (None, "import")


def warn_damaged(workspace: Workspace) -> None:
    """One line on stderr per annotator whose files were read only as far as they are whole."""
    for name, damage in sorted(workspace.damaged.items()):
        print(f"tahqiq: warning: {name}'s annotations are counted as far as they are intact: {human(damage[0])}",
              file=sys.stderr)


def labels_warning(why: str) -> None:
    """A labels.toml that cannot be read, told in one line by the commands that go on without it."""
    print(f"tahqiq: warning: {human(why)}; going on with the default labels", file=sys.stderr)


def stderr_console():
    """A rich Console on stderr, for progress bars (stdout stays for the command's output)."""
    from rich.console import Console  # not at the top: ~30 ms that --help and most commands do without

    return Console(stderr=True)
