"""The command line (`tahqiq ...`) and the web server (`tahqiq serve`)."""

from tui.cli.entry import main

__all__ = ["main"]
