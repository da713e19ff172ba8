"""The app's start imports what its first screen uses and nothing else: every module imported before the
library is drawn is paid for by every launch and every `tahqiq serve` session (bench/run.py's first screen)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LATER = (
    "store.exchange",  # export and import: the commands, and the library's export key
    "store.doctor",
    "tui.cli.corpus", "tui.cli.exchange", "tui.cli.agreement", "tui.cli.doctor",  # the command groups
    "importlib.metadata",  # --version
    "markdown_it",  # the keys panel (HelpPanel)
    "store.assist.suggest", "store.assist.claim_rules",  # built once the user is idle
    "tui.screens.reader", "tui.screens.agreement", "tui.screens.review", "tui.dialogs.filter_form",
)
"""Modules the first screen does without; each is imported where it is first used."""


def test_the_app_starts_without_what_only_later_screens_and_commands_use() -> None:
    code = ("import sys\n"
            "from tui.cli.entry import parse_args\n"
            "args = parse_args(['--workspace', 'W', '--annotator', 'sara', '--bidi', 'terminal'])\n"
            "assert args.command is None and args.workspace == 'W' and args.bidi == 'terminal', args\n"
            "import tui.app\n"
            "print('\\n'.join(sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    loaded = set(out.stdout.split())
    assert "tui.screens.library" in loaded and "store.workspace" in loaded  # (the check itself works)
    assert sorted(m for m in loaded if m.split(".")[0] in {m.split(".")[0] for m in LATER}
                  and any(m == later or m.startswith(later + ".") for later in LATER)) == []


def test_a_command_still_gets_the_whole_parser() -> None:
    from tui.cli.entry import parse_args

    args = parse_args(["--workspace", "W", "export", "--format", "jsonl"])
    assert (args.command, args.format, args.workspace) == ("export", "jsonl", "W")


def test_opening_the_reader_imports_no_export_code() -> None:
    code = "import sys\nimport tui.app, tui.screens.reader\nprint('\\n'.join(sys.modules))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    loaded = set(out.stdout.split())
    assert "tui.screens.reader" in loaded and not any(m.startswith("store.exchange") for m in loaded)
