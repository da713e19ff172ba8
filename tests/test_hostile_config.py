"""The real app under a pty, with a labels.toml made of terminal attacks (indicator names, claim attribute
names and values, entity display names and keys): no escape sequence from the file may reach the terminal
when the forms, the side panel, the filter form and the keys panel draw them (issue 15)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pty_app import PtyApp, assert_inert

from store import Workspace

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


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pty")
@pytest.mark.parametrize("bidi", ["app", "terminal"])
def test_no_escape_sequence_from_labels_toml_reaches_the_terminal(workspace_path: Path, bidi: str) -> None:
    from store.annotation.labels import parse_schema

    parse_schema(LABELS)  # the attacks are a valid schema: the app must draw them, inertly
    (workspace_path / "labels.toml").write_text(LABELS, encoding="utf-8")
    Workspace.open(workspace_path).close()

    with PtyApp(["--workspace", str(workspace_path), "--annotator", "x", "--bidi", bidi], 50, 160) as app:
        def press(keys: bytes, wait_for: bytes | None = None, timeout: float = 10) -> None:
            """Type `keys`, then read until the app has drawn what they caused (`wait_for` shown, if given)
            and has gone quiet: the next keys find that screen."""
            app.write(keys)
            if wait_for is not None:
                start = len(app.out)
                assert app.read_until(wait_for, timeout), (keys, bytes(app.out[start:][-1500:]))
            app.read_quiet(first=0 if wait_for else 5)

        assert app.read_until(b"palette", 30), bytes(app.out[-2000:])  # the library's footer
        app.read_quiet()
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
        app.read_to_end()
    data = bytes(app.out)
    assert_inert(data, MARK.encode(), "labels.toml")
    assert "\u202e" not in data.decode("utf-8", "replace"), "a bidi override from labels.toml reached the terminal"
