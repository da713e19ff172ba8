"""The real app under a pty, on an article made of terminal attacks: no byte sequence from the article may
reach the terminal (no OSC 0/2/8/52 carrying its content, no ESC or C1 control of its own)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pty_app import PtyApp, assert_inert

from store import Workspace

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


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pty")
@pytest.mark.parametrize("bidi", ["app", "terminal"])
def test_no_byte_sequence_from_an_article_reaches_the_terminal(tmp_path: Path, bidi: str) -> None:
    src = tmp_path / "attack.jsonl"
    src.write_text(json.dumps({"id": "attack", "title": TITLE, "text": BODY, "source": f"\x1b]8;;x\x1b\\{MARK}src",
                               "url": f"http://x/\x1b]52;c;{MARK}\x07"}) + "\n", encoding="utf-8")
    ws = Workspace.open(tmp_path / "ws")
    assert ws.import_paths([src]).imported == ["attack"]
    ws.close()

    with PtyApp(["--workspace", str(tmp_path / "ws"), "--annotator", "x", "--bidi", bidi], 40, 160) as app:
        # the library lists the article (its source column shows the marker as plain text)
        assert app.read_until(MARK.encode(), 30), bytes(app.out[-2000:])
        app.read_quiet()  # the library drawn whole: it takes keys
        app.write(b"\r")  # open it
        assert app.read_until(f"{MARK}controls".encode(), 30), "the reader never showed the article"
        app.write(b"\x1b[1;5C")  # move around (ctrl+right) so more of it is drawn
        app.read_quiet(first=5)
        app.write(b"\x0f")  # ctrl+o: open the article's URL (refused: it holds controls; quoted inert)
        assert app.read_until(b"Not a web address", 10), "ctrl+o gave no notice"
        app.write(b"\x11")  # ctrl+q
        app.read_to_end()
    assert_inert(bytes(app.out), MARK.encode(), "article")
