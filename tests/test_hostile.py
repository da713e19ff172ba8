"""Hostile text: any Unicode (controls, bidi overrides, isolates, unpaired surrogates in JSON, huge
paragraphs, one-character lines) never crashes an importer or the layout engine; what is refused is
refused with a one-line message; what is imported comes back exactly."""

from __future__ import annotations

import json
import os

from bidi_reference import render_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import Article, Workspace
from store.corpus.importer import Skip, read_file
from tui.bidi import layout

CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
        "\u200e", "\u200f", "\u061c"]
ATTACKS = ["\x1b]0;PWN\x07", "\x1b]8;;http://evil.example\x1b\\x\x1b]8;;\x1b\\", "\x1b]52;c;UFdO\x07",
           "\x1b[2J", "\x1b[31m", "\x1bP1$qm\x1b\\", "\x9b31m", "\x9d0;PWN\x9c"]
pieces = st.one_of(
    st.text(max_size=30),  # any code point, surrogates excluded (Python strings from st.text)
    st.sampled_from(CONTROLS + BIDI + ATTACKS + ["سلام", "abc", "\n", "\r\n", " ", "ﻻ", "\u0651", "👍🏽"]),
)
hostile = st.lists(pieces, max_size=12).map("".join)
EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "150"))
PROFILE = settings(max_examples=EXAMPLES, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _one_line(skip: Skip) -> None:
    assert isinstance(skip.reason, str) and skip.reason
    assert "\n" not in str(skip) and "\r" not in str(skip)


def _check(items: list) -> list[Article]:
    arts = []
    for item in items:
        assert isinstance(item, (Article, Skip))
        if isinstance(item, Skip):
            _one_line(item)
        else:
            arts.append(item)
    return arts


@PROFILE
@given(text=hostile, title=hostile)
def test_jsonl_with_any_text_never_crashes(tmp_path_factory, text: str, title: str) -> None:
    path = tmp_path_factory.mktemp("h") / "a.jsonl"
    path.write_text(json.dumps({"text": text, "title": title}) + "\n", encoding="utf-8")  # ASCII escapes
    for article in _check(list(read_file(path))):
        assert article.body == text


@PROFILE
@given(codes=st.lists(st.integers(0xD800, 0xDFFF), min_size=1, max_size=3), text=hostile)
def test_unpaired_surrogates_in_json_are_refused_with_a_message(tmp_path_factory, codes, text: str) -> None:
    escapes = "".join(f"\\u{c:04x}" for c in codes)
    folder = tmp_path_factory.mktemp("s")
    path = folder / "s.jsonl"
    path.write_text('{"id": "s1", "text": ' + json.dumps(text)[:-1] + escapes + ' tail"}\n', encoding="utf-8")
    ws = Workspace.open(folder / "ws")
    try:
        report = ws.import_paths([path])
        for skip in report.skipped:
            _one_line(skip)
        if report.imported:  # a high+low pair is a real character: then it must round-trip
            assert ws.article("s1").body.encode("utf-8")
        else:
            assert len(report.skipped) == 1
    finally:
        ws.close()


@PROFILE
@given(data=st.binary(max_size=300))
def test_pages_and_csv_of_any_bytes_never_crash(tmp_path_factory, data: bytes) -> None:
    folder = tmp_path_factory.mktemp("b")
    for name in ("p.txt", "c.csv", "j.jsonl"):
        (folder / name).write_bytes(data)
        _check(list(read_file(folder / name)))


@PROFILE
@given(texts=st.lists(hostile.filter(lambda t: t.strip() and "\x00" not in t), min_size=1, max_size=4))
def test_imported_hostile_text_comes_back_exactly(tmp_path_factory, texts: list[str]) -> None:
    folder = tmp_path_factory.mktemp("w")
    src = folder / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"h{i}", "text": t, "title": t[:50]}) + "\n"
                           for i, t in enumerate(texts)), encoding="utf-8")
    ws = Workspace.open(folder / "ws")
    report = ws.import_paths([src])
    for skip in report.skipped:
        _one_line(skip)
    ws.close()
    again = Workspace.open(folder / "ws")
    try:
        for aid in report.imported:
            assert again.article(aid).body == texts[int(aid[1:])]
        assert [i for i, _ in again.iter_bodies()] == report.imported
    finally:
        again.close()


@PROFILE
@given(text=hostile, width=st.integers(1, 30), reveal=st.booleans(), reorder=st.booleans())
def test_layout_of_any_text_never_crashes_and_emits_no_control(
        text: str, width: int, reveal: bool, reorder: bool) -> None:
    rendered = render_text(text, width, reveal_controls=reveal, reorder=reorder)
    assert not any(ord(c) < 0x20 and c != "\n" or 0x7F <= ord(c) < 0xA0 for c in rendered), repr(rendered)
    lay = layout(text, width, reveal_controls=reveal, reorder=reorder)
    for row in range(len(lay)):
        lay.line(row)


def test_huge_paragraph_and_one_character_lines_lay_out() -> None:
    # One paragraph of 45,001 code points, 77,003 UTF-8 bytes: past 65,536 bytes (python-bidi resolves levels
    # per UTF-8 byte, so a 16-bit count or offset anywhere on that path would wrap), an override left open to
    # its end, laid out one cell wide into some 45,000 rows.
    huge = ("كلمة " * 8_000) + "\u202e" + ("x" * 5000)
    assert len(huge.encode("utf-8")) > 65_536
    assert render_text(huge, 1).count("\n") > 1000
    lines = "\n".join("ا" if i % 2 else "\x1b" for i in range(5000))
    rendered = render_text(lines, 3)
    assert "\x1b" not in rendered and rendered.count("\n") >= 4999
