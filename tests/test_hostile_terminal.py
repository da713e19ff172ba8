"""The real app under a pty, on an article made of terminal attacks: no byte sequence from the article may
reach the terminal (no OSC 0/2/8/52 carrying its content, no ESC or C1 control of its own)."""

from __future__ import annotations

import fcntl
import json
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

import pytest

from store import Workspace

ROOT = Path(__file__).resolve().parent.parent
MARK = "QZX"  # every attack carries it; it may show as text, never inside an escape sequence
ATTACKS = [
    f"\x1b]0;{MARK}title\x07",  # OSC 0: window title
    f"\x1b]2;{MARK}title\x1b\\",  # OSC 2, ST-terminated
    f"\x1b]8;;http://{MARK}.example/\x1b\\{MARK}link\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    f"\x1b]52;c;{MARK}UFdOQ0xJUA==\x07",  # OSC 52: write the clipboard
    f"\x1b[31m{MARK}red\x1b[0m", f"\x1b[2J\x1b[H{MARK}clear", f"\x1b[6n{MARK}dsr",  # CSI
    f"\x1bP1$q{MARK}dcs\x1b\\",  # DCS (DECRQSS)
    f"\x1b_{MARK}apc\x1b\\", f"\x1b^{MARK}pm\x1b\\", f"\x1bX{MARK}sos\x1b\\",
    f"\x9b31m{MARK}c1csi", f"\x9d0;{MARK}c1osc\x9c", f"\x90{MARK}c1dcs\x9c",  # C1 forms
    f"\x1bc{MARK}ris", f"\x1b#8{MARK}decaln", f"\x1b(0{MARK}charset",
]
# NUL is refused by the importer (tested in test_hostile.py); every other control is let in
CONTROLS = ("".join(chr(c) for c in range(1, 0x20) if c not in (0x0A,)) + "\x7f"
            + "".join(chr(c) for c in range(0x80, 0xA0)))
BODY = ("بداية المقال " + " ".join(ATTACKS) + f" {MARK}controls" + CONTROLS
        + " نهاية المقال\n"
        + "\u202e" + f"{MARK}rlo" + "\u202c" + " \u2067" + f"{MARK}rli" + "\u2069")
TITLE = f"\x1b]0;{MARK}T\x07عنوان\x1b[5m{MARK}blink\x9b2J"

# One escape sequence of any kind, as a terminal would parse it (7-bit forms; C1 checked separately).
SEQUENCE = re.compile(
    rb"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    rb"|\x1b[P_^X][\s\S]*?\x1b\\"  # DCS, APC, PM, SOS
    rb"|\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"  # CSI
    rb"|\x1b[\x20-\x2f]*[\x30-\x7e]"  # other ESC sequences
)


def _read_until(fd: int, out: bytearray, needle: bytes, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return needle in out
            if not chunk:
                return needle in out
            out += chunk
            if needle in out:
                return True
    return needle in out


def _read_quiet(fd: int, out: bytearray, quiet: float = 0.3, timeout: float = 10) -> None:
    """Read until the app has written nothing for `quiet` seconds (it has drawn what the last step caused),
    the terminal closes, or `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], quiet)
        if not ready:
            return
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        out += chunk


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pty")
@pytest.mark.parametrize("bidi", ["app", "terminal"])
def test_no_byte_sequence_from_an_article_reaches_the_terminal(tmp_path: Path, bidi: str) -> None:
    src = tmp_path / "attack.jsonl"
    src.write_text(json.dumps({"id": "attack", "title": TITLE, "text": BODY, "source": f"\x1b]8;;x\x1b\\{MARK}src",
                               "url": f"http://x/\x1b]52;c;{MARK}\x07"}) + "\n", encoding="utf-8")
    ws = Workspace.open(tmp_path / "ws")
    assert ws.import_paths([src]).imported == ["attack"]
    ws.close()

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "40", "TEXTUAL_ANIMATIONS": "none"}
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "--workspace", str(tmp_path / "ws"), "--annotator", "x",
                             "--bidi", bidi],
                            stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True)
    os.close(slave)
    out = bytearray()
    try:
        # the library lists the article (its source column shows the marker as plain text)
        assert _read_until(master, out, MARK.encode(), 30), bytes(out[-2000:])
        _read_quiet(master, out)  # the library drawn whole: it takes keys
        os.write(master, b"\r")  # open it
        assert _read_until(master, out, f"{MARK}controls".encode(), 30), "the reader never showed the article"
        os.write(master, b"\x1b[1;5C")  # move around (ctrl+right) so more of it is drawn
        _read_quiet(master, out)
        os.write(master, b"\x0f")  # ctrl+o: open the article's URL (refused: it holds controls; quoted inert)
        assert _read_until(master, out, b"Not a web address", 10), "ctrl+o gave no notice"
        os.write(master, b"\x11")  # ctrl+q
        _read_until(master, out, b"\x00never", 3)
    finally:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)

    data = bytes(out)
    sequences = [m.group() for m in SEQUENCE.finditer(data)]
    carrying = [s for s in sequences if MARK.encode() in s or b"example" in s]
    assert not carrying, f"escape sequences carrying article content reached the terminal: {carrying[:5]}"
    for osc in (s for s in sequences if s.startswith(b"\x1b]")):
        number = osc[2:].split(b";", 1)[0]
        assert number not in (b"0", b"2", b"8", b"52"), f"the app sent OSC {number!r}: {osc[:80]!r}"
    text = data.decode("utf-8", "replace")
    assert not re.search("[\x80-\x9f]", text), "a C1 control reached the terminal"
    # no ESC that is not the start of a well-formed sequence (an article's ESC would be)
    stripped = SEQUENCE.sub(b"", data)
    assert b"\x1b" not in stripped, stripped[stripped.index(b"\x1b") - 40: stripped.index(b"\x1b") + 40]
    assert MARK.encode() in stripped  # and the article was really drawn, as inert text
