"""The format registry is whole: every format is one module's FORMAT listed once in store.exchange.formats, and
export(), the labelled import and the CLI all read that list, so a format added there alone is exported,
detected, imported and offered by `tahqiq export --format`."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_export_fixtures import EMOJI_ID, EMOJI_TEXT

import store.exchange
from store import Workspace
from store.corpus.importer import Skip
from store.exchange import FORMATS, Format, detect, export, import_labelled, looks_labelled
from store.exchange.formats import import_help, importable
from store.exchange.incoming import RecordIn, SpanIn
from store.exchange.offsets import CODEPOINT, UNITS
from tui.cli import corpus as corpus_cli
from tui.cli.exchange import add_export_parser

SUFFIX = {"json": ".json", "label-studio": ".json"}  # the rest write JSONL or a folder


def _module_formats() -> list[tuple[str, Format]]:
    """Every Format defined at the top of a module of store.exchange."""
    found = []
    for info in pkgutil.iter_modules(store.exchange.__path__):
        module = importlib.import_module(f"store.exchange.{info.name}")
        found += [(f"{info.name}.{name}", value) for name, value in vars(module).items()
                  if isinstance(value, Format) and not name.startswith("_")]
    return found


def test_every_format_of_a_module_is_listed_once_with_a_writer_and_help() -> None:
    defined = _module_formats()
    assert defined, "no FORMAT found in store.exchange"
    listed = list(FORMATS.values())
    for where, f in defined:
        assert f in listed, f"{where} ({f.name}) is not in store.exchange.formats.FORMATS"
    assert len({id(f) for f in listed}) == len(listed) and all(FORMATS[f.name] is f for f in listed)
    for f in listed:
        assert callable(f.write) and f.help.strip(), f.name
        assert f.offset_unit in UNITS and set(f.units) <= set(UNITS) - {f.offset_unit}, f.name
        assert (f.read is None) == (f.sniff is None), f"{f.name}: a reader needs a sniff to be found, and back"
        if f.read is not None:
            assert f.import_help.strip() and not f.to_dir, f.name
    assert {f.imported_as or f.name for f in listed if f.read} == set(importable())


def _spans(ws: Workspace, annotator: str) -> set[tuple]:
    return {(r["kind"], r["start"], r["end"], r["label"], r["text"]) for r in ws.annotations(annotator).all()
            if r["article_id"] == EMOJI_ID and r["kind"] != "credibility"}


@pytest.mark.parametrize("name", [f.name for f in FORMATS.values() if f.read is not None])
def test_every_format_with_a_reader_round_trips_an_arabic_article_with_an_emoji(
        ws: Workspace, tmp_path: Path, name: str) -> None:
    assert EMOJI_TEXT.startswith("😀") and any("\u0600" <= c <= "\u06ff" for c in EMOJI_TEXT)
    f = FORMATS[name]
    path = tmp_path / f"out{SUFFIX.get(name, '.jsonl')}"
    export(ws, name, path=path, annotators=["alice"], articles=EMOJI_ID)
    assert looks_labelled(path) and detect(path) == (f.imported_as or f.name)
    fresh = Workspace.open(tmp_path / "fresh")
    try:
        report = import_labelled(fresh, path, "copy")
        assert report.skipped == [] and report.articles_added == [EMOJI_ID], report.summary()
        assert fresh.article(EMOJI_ID).body == EMOJI_TEXT
        assert _spans(fresh, "copy") == _spans(ws, "alice") and len(_spans(ws, "alice")) == 5
    finally:
        fresh.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tahqiq")
    sub = parser.add_subparsers(dest="command")
    add_export_parser(sub)
    corpus_cli.add_parsers(sub)
    return parser


def _option(parser: argparse.ArgumentParser, command: str, flag: str) -> argparse.Action:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))  # noqa: SLF001
    return next(a for a in sub.choices[command]._actions if flag in a.option_strings)  # noqa: SLF001


def test_the_cli_offers_the_registry() -> None:
    parser = _parser()
    assert _option(parser, "export", "--format").choices == list(FORMATS)
    assert _option(parser, "export", "--offset-unit").choices == list(UNITS)
    assert _option(parser, "import", "--offset-unit").choices == list(UNITS)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))  # noqa: SLF001
    export_help = sub.choices["export"].format_help()
    assert all(f"{f.name}: {f.help}" in " ".join(export_help.split()) for f in FORMATS.values())
    assert import_help() in " ".join(sub.choices["import"].format_help().split())
    listed = next(a.help for a in sub._choices_actions if a.dest == "export")  # noqa: SLF001
    assert listed == f"export annotations ({', '.join(FORMATS)})"


# --- a format added in one place ------------------------------------------------------------------------

def _write_toy(items, out, ctx) -> None:
    for item in items:
        ctx.saw(item)
        out.write(json.dumps({"toy_text": item.article.body, "toy_id": item.article.id,
                              "toy_spans": [[r["start"], r["end"], r["label"]] for r in item.spans]},
                             ensure_ascii=False) + "\n")


def _read_toy(where: str, record: Any, offset_unit: str | None) -> Iterator[RecordIn | Skip]:
    rec = RecordIn(where, record["toy_text"], record["toy_id"])
    rec.spans += [SpanIn(f"{where}: toy_spans[{k}]", s, e, label)
                  for k, (s, e, label) in enumerate(record["toy_spans"])]
    yield rec


TOY = Format("toy", _write_toy, CODEPOINT, help="a test format", read=_read_toy,
             sniff=lambda record: isinstance(record, dict) and "toy_text" in record, import_help="toy JSONL")


def test_a_format_listed_in_formats_alone_is_exported_detected_imported_and_offered(
        ws: Workspace, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(FORMATS, "toy", TOY)
    path = tmp_path / "out.toy"
    ctx = export(ws, "toy", path=path, annotators=["alice"], articles=EMOJI_ID)
    assert ctx.written == [path] and not list(tmp_path.glob(".*.partial"))
    assert looks_labelled(path) and detect(path) == "toy"
    fresh = Workspace.open(tmp_path / "fresh")
    try:
        report = import_labelled(fresh, path, "copy")
        assert report.format == "toy" and report.skipped == [], report.summary()
        assert _spans(fresh, "copy") == _spans(ws, "alice")
    finally:
        fresh.close()
    assert "toy" in _option(_parser(), "export", "--format").choices
    assert "toy JSONL" in import_help()


# --- atomic files -----------------------------------------------------------------------------------------

def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_folder_export_failing_midway_leaves_no_half_written_file(ws: Workspace, tmp_path: Path,
                                                                    monkeypatch) -> None:
    from store.exchange import brat

    folder = tmp_path / "brat"
    (folder / "alice").mkdir(parents=True)
    stale = folder / "alice" / f".old.ann.{_dead_pid()}-abcd1234.partial"  # an export killed midway
    stale.write_text("half", encoding="utf-8")
    real, calls = brat.write_atomic_text, []

    def failing(path, fill, *args, **kwargs):  # the 4th file (the second article's .ann) fails midway
        calls.append(path.relative_to(folder).as_posix())
        if len(calls) == 4:
            def half(handle):
                fill(handle)
                raise OSError(28, "No space left on device")
            return real(path, half, *args, **kwargs)
        return real(path, fill, *args, **kwargs)

    monkeypatch.setattr(brat, "write_atomic_text", failing)
    with pytest.raises(OSError, match="No space"):
        export(ws, "brat", path=folder, annotators=["alice"])
    assert not stale.exists()
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    # The first article's pair is whole; the second's .ann never got its name; no temp file is left.
    assert files == sorted(calls[:3]) and calls[3].endswith(".ann"), (files, calls)
    assert (folder / calls[1]).read_text("utf-8").endswith("\n")


def test_the_spacy_docbin_is_written_through_a_temp_file(ws: Workspace, tmp_path: Path, monkeypatch) -> None:
    from store.exchange import spacy_fmt

    if not spacy_fmt.has_spacy():
        pytest.skip("spaCy is not installed")
    import store.db.atomic as atomic

    seen: list[str] = []
    real = atomic.os.replace

    def spy(src, dst):
        seen.append(f"{Path(src).name} -> {Path(dst).name}")
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", spy)
    ctx = export(ws, "spacy", path=tmp_path / "out.jsonl", annotators=["alice"])
    monkeypatch.undo()
    assert ctx.written == [tmp_path / "out.jsonl", tmp_path / "out.spacy"]
    assert any(s.startswith(".out.spacy.") and s.endswith(".partial -> out.spacy") for s in seen), seen
    assert not list(tmp_path.glob(".*.partial"))
