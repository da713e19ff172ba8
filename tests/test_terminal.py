"""In a real terminal: the app's screen in tmux reads right to left, and bidi mode escapes are restored."""

from __future__ import annotations

import os
import select
import shutil
import sys
import time
from pathlib import Path

import pytest

from store import Workspace
from tui import terminal
from tui.bidi import visual_snippet

ARTICLE = "52f015e52f40b84e"


def test_explicit_bidi_mode_is_restored_even_after_a_crash(monkeypatch) -> None:
    master, slave = os.openpty()
    with os.fdopen(slave, "w") as tty:
        monkeypatch.setattr(sys, "__stderr__", tty)
        with pytest.raises(RuntimeError):
            with terminal.explicit_bidi(True):
                raise RuntimeError("app crashed")
        with terminal.explicit_bidi(False):
            pass
        tty.flush()
        expected = terminal.EXPLICIT + terminal.IMPLICIT
        written = b""
        while len(written) < len(expected.encode()) and select.select([master], [], [], 5)[0]:
            written += os.read(master, 1024)  # a pty may hand the bytes over in more than one read
    os.close(master)
    assert written.decode() == expected


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")
def test_reader_in_tmux_reads_right_to_left_and_tags_by_keyboard(workspace_path: Path, tmux) -> None:
    session = "tahqiq"  # on this test's own tmux server (conftest's `tmux`)
    command = f"{sys.executable} -m tui.cli --workspace {workspace_path} --annotator tmux"
    env = {**os.environ, "TERM": "xterm-256color"}
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", command, env=env)
    try:
        def screen() -> str:
            return tmux("capture-pane", "-p", "-t", session).stdout

        def wait_for(text: str, timeout: float = 20) -> str:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                shown = screen()
                if text in shown:
                    return shown
                time.sleep(0.2)
            raise AssertionError(f"{text!r} never appeared on screen:\n{screen()}")

        library = wait_for("2014-11-25")
        assert visual_snippet("محيط", 10) in library
        tmux("send-keys", "-t", session, "Down", "Down", "Down", "Enter")
        first_words = visual_snippet("بعد مرور أسابيع", 40)
        shown = wait_for(first_words)
        row = next(line for line in shown.splitlines() if first_words in line)
        # Right-aligned: the first logical word is the rightmost text of the article column.
        assert row[:row.index("│") if "│" in row else len(row)].rstrip().endswith(visual_snippet("بعد", 5))
        assert "بعد مرور" not in shown  # never logical order on screen
        tmux("send-keys", "-t", session, "Left", "Left", "p")
        wait_for("PER")
    finally:
        tmux("kill-session", "-t", session, check=False)
    rows = Workspace.open(workspace_path).annotations("tmux").for_article(ARTICLE)
    assert [(r["label"], r["text"]) for r in rows] == [("PER", "أسابيع")]
