"""The real app under a pty, with a labels.toml made of terminal attacks (indicator names, claim attribute
names and values, entity display names and keys): no escape sequence from the file may reach the terminal
when the forms, the side panel, the filter form and the keys panel draw them (issue 15)."""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from test_hostile_terminal import SEQUENCE, _read_until

from store import Workspace

ROOT = Path(__file__).resolve().parent.parent
MARK = "QZX"


def _toml(text: str) -> str:
    """A TOML basic string holding `text` (json.dumps escapes every control as \\uXXXX, which TOML reads)."""
    return json.dumps(text)


OSC52 = f"\x1b]52;c;{MARK}UFdOQ0xJUA==\x07"
OSC0 = f"\x1b]0;{MARK}title\x07"
MARKUP = f"[link='http://{MARK}.example/']{MARK}link[/link]"  # Textual markup: would become an OSC 8 link
C1 = f"\x9d0;{MARK}c1osc\x9c"
RLO = f"\u202e{MARK}rlo"
C1_KEY, RLO_KEY = "\x9b", "\u202e"  # one-character entity keys
LABELS = f"""\
nested_entities = false
paragraph_direction = "arabic"

[entities.PER]
name = {_toml(OSC0 + "Person" + OSC52)}
color = "#e06c75"
key = "p"

[entities.ORG]
name = {_toml(MARKUP)}
color = "#61afef"
key = "o"

[entities.MISC]
name = "Misc"
color = "#c678dd"
key = {_toml(C1_KEY)}

[entities.LOC]
name = "Place"
color = "#98c379"
key = {_toml(RLO_KEY)}

[claims]
{_toml(OSC0 + "verdict")} = [{_toml(OSC52 + "first")}, {_toml(MARKUP)}]
verdict = [{_toml(OSC52 + "v1")}, {_toml(OSC0 + "v2")}, {_toml(C1)}, {_toml(RLO)}]
{_toml("[b]" + MARK + "bold[/b]")} = [{_toml(MARKUP)}]

[credibility]
indicators = [{_toml(OSC52 + "named")}, {_toml(OSC0 + "anon")}, {_toml(MARKUP)}, {_toml(C1)}, {_toml(RLO)}]
"""


def _check(data: bytes) -> None:
    sequences = [m.group() for m in SEQUENCE.finditer(data)]
    carrying = [s for s in sequences if MARK.encode() in s or b"example" in s]
    assert not carrying, f"escape sequences carrying labels.toml content reached the terminal: {carrying[:5]}"
    for osc in (s for s in sequences if s.startswith(b"\x1b]")):
        number = osc[2:].split(b";", 1)[0]
        assert number not in (b"0", b"2", b"8", b"52"), f"the app sent OSC {number!r}: {osc[:80]!r}"
    text = data.decode("utf-8", "replace")
    assert not re.search("[\x80-\x9f]", text), "a C1 control reached the terminal"
    assert "\u202e" not in text, "a bidi override from labels.toml reached the terminal"
    stripped = SEQUENCE.sub(b"", data)
    assert b"\x1b" not in stripped, stripped[stripped.index(b"\x1b") - 40: stripped.index(b"\x1b") + 40]
    assert MARK.encode() in stripped  # the names were really drawn, as inert text


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pty")
@pytest.mark.parametrize("bidi", ["app", "terminal"])
def test_no_escape_sequence_from_labels_toml_reaches_the_terminal(workspace_path: Path, bidi: str) -> None:
    from store.annotation.labels import parse_schema

    parse_schema(LABELS)  # the attacks are a valid schema: the app must draw them, inertly
    (workspace_path / "labels.toml").write_text(LABELS, encoding="utf-8")
    Workspace.open(workspace_path).close()

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "50", "TEXTUAL_ANIMATIONS": "none"}
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "--workspace", str(workspace_path),
                             "--annotator", "x", "--bidi", bidi],
                            stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True)
    os.close(slave)
    out = bytearray()

    def press(keys: bytes, wait_for: bytes | None = None, timeout: float = 10) -> None:
        os.write(master, keys)
        if wait_for is None:
            _read_until(master, out, b"\x00never", 0.8)
        else:
            start = len(out)
            assert _read_until(master, out, wait_for, timeout), (keys, bytes(out[start:][-1500:]))

    try:
        assert _read_until(master, out, b"palette", 30), bytes(out[-2000:])  # the library's footer
        _read_until(master, out, b"\x00never", 1.0)
        press(b"f", b"Outlet")  # the filter form: entity labels and sources
        press(b"\x1b")
        press(b"?")  # the keys panel of the library
        press(b"\x1b")
        press(b"\r", b"Claim")  # open the first article (the footer shows the Claim key)
        press(b"?")  # the keys panel of the reader: entity keys and names
        press(b"\x1b")
        press(b"i", b"Indicators")  # the credibility form: indicator names
        press(b" ")  # tick the first indicator
        press(b"\x1b[B ")  # and the second
        press(b"\x13")  # ctrl+s: save (the side panel lists the credibility record)
        press(b"c", b"Claimant")  # the claim form: attribute names and values
        for _ in range(3):  # open each select and choose a value
            press(b"\r")
            press(b"\x1b[B\r")
            press(b"\t")
        press(b"\x13")  # ctrl+s: save (the side panel shows the claim's verdict)
        press(b"\\")  # the side panel, whatever the width
        press(b"\x11")  # ctrl+q
        _read_until(master, out, b"\x00never", 3)
    finally:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)
    _check(bytes(out))
