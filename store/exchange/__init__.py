"""Export annotations to our json/jsonl and to Label Studio, doccano, spaCy, CoNLL and brat; import
pre-annotated files back. Offsets are code points except for doccano (UTF-16 code units, as its span
editor counts; `offset_unit="codepoint"` for code points). See FORMATS.md.

`export(workspace, "jsonl", out=sys.stdout)` streams records; `import_labelled(workspace, path, name)`.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TextIO

from store.db.atomic import _UMASK, remove_stale_temp_files, temp_prefix
from store.errors import StoreError
from store.exchange import brat, conll, doccano, label_studio, ours, spacy_fmt
from store.exchange.labelled import LabelReport, detect, import_labelled, looks_labelled
from store.exchange.offsets import CODEPOINT, UTF16, Utf16, direction
from store.exchange.records import FILTER_HELP, Context, Item, items, parse_filter, select, to_record
from store.workspace import Workspace


@dataclass(frozen=True)
class Format:
    """An export format: how it writes, its offset unit, and whether it needs a folder (-o DIR)."""

    name: str
    write: Callable
    offset_unit: str
    to_dir: bool = False
    help: str = ""
    units: tuple[str, ...] = ()
    """Other offset units the writer can use (export's `offset_unit`); it states the one used per record."""


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("jsonl", ours.write_jsonl, CODEPOINT, help="tahqiq records, one a line (tahqiq.schema.json)"),
    Format("json", ours.write_json, CODEPOINT, help="tahqiq records as one JSON array"),
    Format("label-studio", label_studio.write, CODEPOINT,
           help="Label Studio tasks; config written beside -o FILE as FILE.label_config.xml"),
    Format("doccano", doccano.write, UTF16, units=(CODEPOINT,),
           help="doccano sequence-labelling JSONL (UTF-16 offsets, as doccano's editor counts)"),
    Format("spacy", spacy_fmt.write, CODEPOINT,
           help="spaCy/Prodigy JSONL (+ FILE.spacy DocBin beside -o FILE when spaCy is installed)"),
    Format("conll", conll.write, CODEPOINT, help="token-per-line BIO entities, one file"),
    Format("brat", brat.write_dir, CODEPOINT, to_dir=True, help="brat .txt/.ann pairs in -o DIR"),
)}


def export(workspace: Workspace, fmt: str, out: TextIO | None = None, path: str | os.PathLike[str] | None = None,
           annotators: Iterable[str] | None = None, articles: str | None = None,
           progress: Callable[[int, int], None] | None = None, merge: bool = False,
           skip_damaged: bool = False, offset_unit: str | None = None) -> Context:
    """Write `fmt` to the stream `out` or to `path` (a folder for brat). Returns the Context: files written
    and notes for the user (misaligned spans, where the Label Studio config went, what --skip-damaged left out).

    An annotator whose files are damaged is refused (StoreError naming the file and line, nothing written)
    unless `skip_damaged`: then every intact record is exported and the notes name what was left out."""
    try:
        spec = FORMATS[fmt]
    except KeyError:
        raise StoreError(f"unknown export format {fmt!r} (use {', '.join(FORMATS)})") from None
    write = spec.write
    if offset_unit not in (None, spec.offset_unit):
        if offset_unit not in spec.units:
            other = ", ".join(f.name for f in FORMATS.values() if f.units) or "none"
            raise StoreError(f"--offset-unit {offset_unit}: --format {fmt} writes {spec.offset_unit} offsets "
                             f"only (formats with a choice: {other})")
        write = partial(spec.write, offset_unit=offset_unit)
    target = Path(path) if path is not None else None
    if spec.to_dir and target is None:
        raise StoreError(f"--format {fmt} writes a folder of files: give one with -o DIR")
    if fmt == "spacy" and target is not None and target.suffix == ".spacy":
        raise StoreError(f"-o {target}: give the JSONL path (e.g. {target.with_suffix('.jsonl')}); "
                         "the .spacy DocBin is written beside it")
    if out is None and target is None:
        raise StoreError("export: give an output stream or a path")
    ctx = Context(workspace, target)
    if merge:
        chosen = _merged(workspace, articles, ctx)
    else:
        chosen = select(workspace, annotators, articles)
    involved = set(workspace.annotators()) if merge or not annotators else set(annotators)
    damaged = {name: lines for name, lines in sorted(workspace.damaged.items()) if name in involved and lines}
    if damaged and not skip_damaged:
        name, lines = next(iter(damaged.items()))
        more = sum(map(len, damaged.values())) - 1
        raise StoreError(f"{lines[0]}{f' (and {more} more damaged place(s))' if more else ''}: {name}'s "
                         "annotations are damaged; export refused (`tahqiq doctor` repairs them; "
                         "--skip-damaged exports what is intact and names what it leaves out)")
    for name, lines in damaged.items():
        ctx.notes.extend(f"--skip-damaged: left out of {name}'s annotations: {line}" for line in lines)

    def stream() -> Iterable[Item]:
        for done, item in enumerate(items(chosen, ctx.paragraph_direction), 1):
            yield item
            if progress:
                progress(done, len(chosen))

    if spec.to_dir:
        if target.exists() and not target.is_dir():
            raise StoreError(f"-o {target}: --format {fmt} needs a folder, and this is a file")
        write(stream(), target, ctx)
    elif target is None:
        write(stream(), out, ctx)
    else:
        _to_file(target, lambda handle: write(stream(), handle, ctx))
        ctx.written.insert(0, target)
    if fmt == "label-studio":
        xml = label_studio.config(workspace.schema)  # direction per task and paragraph: see label_studio
        if target is None:
            ctx.notes.append("Label Studio labelling config not written (output is stdout); use -o FILE to get "
                             "FILE.label_config.xml beside the tasks")
        else:
            _to_file(label_studio.config_path(target), lambda handle: handle.write(xml))
            ctx.written.append(label_studio.config_path(target))
    return ctx


def _merged(workspace: Workspace, articles: str | None, ctx: Context) -> list:
    """One "merge" record per article that anyone worked on: majority vote, ties noted for the user."""
    from store.exchange.records import parse_filter
    from store.team.review import merged_rows

    f = parse_filter(articles)
    out = []
    for article in workspace.articles():
        if f.ids and article.id not in f.ids or not f.keeps_article(article):
            continue
        rows, state, ties = merged_rows(workspace, article.id)
        ctx.notes.extend(f"merge: {tie}" for tie in ties)
        if rows and f.keeps_state(state):
            out.append((article, "merge", state, rows))
    return out


def _to_file(target: Path, fill: Callable[[TextIO], object]) -> None:
    """Write through a temporary file in the same folder, renamed over `target` only when complete.

    The temp file `.NAME.PID-XXXXXXXX.partial` is created exclusively and never through a symlink (O_EXCL,
    O_NOFOLLOW), removed if the export fails, and partial files of exports whose process is gone (or, named
    the older way `.NAME.partial`, untouched for a minute) are removed first."""
    remove_stale_temp_files(target, ".partial")
    fd, name = tempfile.mkstemp(prefix=temp_prefix(target), suffix=".partial", dir=target.parent)
    tmp = Path(name)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with open(fd, "w", encoding="utf-8", newline="", buffering=io.DEFAULT_BUFFER_SIZE * 16) as handle:
            fill(handle)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


__all__ = [
    "CODEPOINT", "FILTER_HELP", "FORMATS", "UTF16", "Context", "Format", "Item", "LabelReport", "Utf16",
    "detect", "direction", "export", "import_labelled", "looks_labelled", "parse_filter", "select", "to_record",
]
