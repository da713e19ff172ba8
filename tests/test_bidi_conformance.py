"""Unicode conformance: visual_order against every case of BidiCharacterTest.txt."""
import functools
from pathlib import Path

import bidi_reference
import pytest
from bidi_reference import resolved_levels, visual_order

import tui.bidi.levels as levels_mod
from tui.bidi.levels import BidiDumpError, resolve

TEST_FILE = Path("/usr/share/unicode/BidiCharacterTest.txt")
DIRECTIONS = {"0": "ltr", "1": "rtl", "2": "auto"}


def _cases():
    if not TEST_FILE.exists():
        pytest.skip(f"{TEST_FILE} missing (install Debian package unicode-data)")
    for line in TEST_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            yield line.split(";")


def test_bidi_character_test_visual_order_and_levels(monkeypatch):
    # Each case is resolved once: visual_order and resolved_levels (which call bidi_reference.resolve) and
    # the base level check all read that one result (resolve is pure; the rest of each function still runs).
    once = functools.lru_cache(maxsize=1)(resolve)
    monkeypatch.setattr(bidi_reference, "resolve", once)
    total, failures = 0, []
    for fields in _cases():
        text = "".join(chr(int(cp, 16)) for cp in fields[0].split())
        direction = DIRECTIONS[fields[1]]
        expected_order = [int(x) for x in fields[4].split()]
        expected_levels = [None if x == "x" else int(x) for x in fields[3].split()]
        total += 1
        if (visual_order(text, direction) != expected_order
                or resolved_levels(text, direction) != expected_levels
                or once(text, direction).base_level != int(fields[2])):
            failures.append(fields)
    assert total > 90_000
    assert once.cache_info().hits >= 2 * total  # one resolve per case, the other two calls read it
    assert failures == [], f"{len(failures)}/{total} failed, first: {failures[:3]}"


def test_visual_order_simple():
    assert visual_order("abc", "ltr") == [0, 1, 2]
    assert visual_order("אבג", "auto") == [2, 1, 0]
    assert visual_order("abc", "rtl") == [0, 1, 2]
    assert visual_order("ab\u202ecd\u202c", "ltr") == [0, 1, 4, 3]  # RLO/PDF removed (X9)
    assert visual_order("", "auto") == []
    with pytest.raises(ValueError):
        visual_order("abc", "up")


def test_changed_dump_format_fails_loudly(monkeypatch):
    monkeypatch.setattr(levels_mod, "get_display", lambda *a, **k: "BidiInfo { levels: [1, 1] }")
    with pytest.raises(BidiDumpError, match="python-bidi"):
        resolve("ab")
