"""The real app in a real process under a pty, read as a terminal would (tests/test_hostile_terminal.py,
tests/test_hostile_config.py); and the check that what it wrote holds no escape sequence of hostile content."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# One escape sequence of any kind, as a terminal would parse it (7-bit forms; C1 checked separately).
SEQUENCE = re.compile(
    rb"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    rb"|\x1b[P_^X][\s\S]*?\x1b\\"  # DCS, APC, PM, SOS
    rb"|\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"  # CSI
    rb"|\x1b[\x20-\x2f]*[\x30-\x7e]"  # other ESC sequences
)


class PtyApp:
    """`tahqiq ARGS` in its own process and session, its stdin, stdout and stderr a pty of `rows` x `cols`;
    everything it writes is kept in `out`. Use as a context manager: on leaving, the app gets 5 s to end
    (after a ctrl+q), then its process group is killed."""

    def __init__(self, args: list[str], rows: int, cols: int) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows),
               "TEXTUAL_ANIMATIONS": "none"}
        try:
            self.proc = subprocess.Popen([sys.executable, "-m", "tui.cli", *args], stdin=slave, stdout=slave,
                                         stderr=slave, env=env, cwd=ROOT, start_new_session=True)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        self.master = master
        self.out = bytearray()
        self.closed = False  # the terminal has closed (the app has ended)

    def __enter__(self) -> PtyApp:
        return self

    def __exit__(self, *_: object) -> None:
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        os.close(self.master)

    def write(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def _read(self, wait: float) -> bool:
        """Whatever arrives within `wait` seconds, added to `out`; False if nothing did."""
        if self.closed or not select.select([self.master], [], [], wait)[0]:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the app has ended and the pty is closed
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        self.out += chunk
        return True

    def read_until(self, needle: bytes, timeout: float) -> bool:
        """Read until `needle` has been written since this call began, the terminal closes, or `timeout`."""
        start = len(self.out)
        deadline = time.monotonic() + timeout
        while needle not in self.out[start:] and not self.closed and time.monotonic() < deadline:
            self._read(min(0.1, max(0.0, deadline - time.monotonic())))
        return needle in self.out[start:]

    def read_quiet(self, quiet: float = 0.3, first: float = 0.0, timeout: float = 10) -> None:
        """Read until the app has written nothing for `quiet` seconds (it has drawn what the last step caused),
        the terminal closes, or `timeout`. With `first`, wait up to that long for the first byte before
        counting quiet (so that a slow start of a redraw is not taken for quiet)."""
        deadline = time.monotonic() + timeout
        if first and not self._read(first):
            return
        while time.monotonic() < deadline and self._read(quiet):
            pass

    def read_to_end(self, timeout: float = 5) -> None:
        """Read until the terminal closes (the app has ended), or `timeout`."""
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            self._read(0.1)


def assert_inert(data: bytes, mark: bytes, where: str) -> None:
    """No escape sequence carries hostile content (`mark`, or a link's "example" host); the app sent no OSC
    0/2/8/52 of any content; no C1 control, no ESC that does not start a well-formed sequence; and `mark`
    was really drawn, as inert text. `where` names the hostile content's origin for the messages."""
    sequences = [m.group() for m in SEQUENCE.finditer(data)]
    carrying = [s for s in sequences if mark in s or b"example" in s]
    assert not carrying, f"escape sequences carrying {where} content reached the terminal: {carrying[:5]}"
    for osc in (s for s in sequences if s.startswith(b"\x1b]")):
        number = osc[2:].split(b";", 1)[0]
        assert number not in (b"0", b"2", b"8", b"52"), f"the app sent OSC {number!r}: {osc[:80]!r}"
    text = data.decode("utf-8", "replace")
    assert not re.search("[\x80-\x9f]", text), "a C1 control reached the terminal"
    # no ESC that is not the start of a well-formed sequence (one from the hostile content would be)
    stripped = SEQUENCE.sub(b"", data)
    assert b"\x1b" not in stripped, stripped[stripped.index(b"\x1b") - 40: stripped.index(b"\x1b") + 40]
    assert mark in stripped, f"the {where} content was never drawn"
