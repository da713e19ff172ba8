"""Export annotations in the formats of store.exchange.formats (our json/jsonl, Label Studio, doccano, spaCy,
CoNLL, brat: each its own module's FORMAT); import pre-annotated files back in those that have a reader.
Offsets are code points except for doccano (UTF-16 code units, as its span editor counts;
`offset_unit="codepoint"` for code points). See FORMATS.md.

`export(workspace, "jsonl", out=sys.stdout)` streams records (store.exchange.stream: one annotator's database
read at a time, one record in memory while writing); `import_labelled(workspace, path, name)`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from functools import partial
from itertools import chain
from pathlib import Path
from typing import TextIO

from store.db.atomic import write_atomic_text
from store.db.storage import quiet_gc
from store.errors import StoreError
from store.exchange.format import PARTIAL, Format
from store.exchange.formats import FORMATS
from store.exchange.framed import write_framed
from store.exchange.labelled import LabelReport, detect, import_labelled, looks_labelled
from store.exchange.offsets import CODEPOINT, UTF16, Utf16, direction
from store.exchange.records import FILTER_HELP, Context, Item, parse_filter, to_record
from store.exchange.stream import items, spool
from store.team.review import merged_rows
from store.workspace import Workspace


def export(workspace: Workspace, fmt: str, out: TextIO | None = None, path: str | os.PathLike[str] | None = None,
           annotators: Iterable[str] | None = None, articles: str | None = None,
           progress: Callable[[int, int], None] | None = None, merge: bool = False,
           skip_damaged: bool = False, offset_unit: str | None = None) -> Context:
    """Write `fmt` (a name in FORMATS) to the stream `out` or to `path` (a folder for a `to_dir` format), then
    run its `after` hook. A file is written whole or not at all (a `.partial` temp file renamed over it).
    Returns the Context: files written and notes for the user (misaligned spans, where the Label Studio config
    went, what --skip-damaged left out).

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
    if spec.check_target is not None and target is not None:
        spec.check_target(target)
    if out is None and target is None:
        raise StoreError("export: give an output stream or a path")
    ctx = Context(workspace, target)
    with quiet_gc(freeze=False):  # (a million short-lived dicts, no cycles, while the articles are held)
        _write(workspace, spec, write, ctx, out, target, annotators, articles, progress, merge, skip_damaged)
    if spec.after is not None:
        spec.after(ctx)
    return ctx


def _write(workspace: Workspace, spec: Format, write: Callable[..., None], ctx: Context, out: TextIO | None,
           target: Path | None, annotators: Iterable[str] | None, articles: str | None,
           progress: Callable[[int, int], None] | None, merge: bool, skip_damaged: bool) -> None:
    """export()'s records, written."""
    fmt = spec.name
    if merge:
        chosen = _merged(workspace, articles, ctx)
        selection = None
    else:
        selection = spool(workspace, annotators, articles, spec.prepare,
                          framed=spec.records is not None and write is spec.write and not spec.to_dir)
    try:
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
        if selection is None:
            made: Iterable[Item] = (Item(a, name, state, rows, ctx.paragraph_direction)
                                    for a, name, state, rows in chosen)
            total = len(chosen)
        else:
            total, start = selection.total, selection.split(fmt, ctx.paragraph_direction)
            made = items(selection, ctx.paragraph_direction, end=start)
            if start is not None:  # (the helper makes the records from `start` on: see store.exchange.stream)
                rest = selection.rest(start, ctx.paragraph_direction, ctx, spec.records)

                def write(first: Iterable[Item], out: TextIO, ctx: Context) -> None:
                    write_framed(chain(spec.records(first, ctx), rest), spec.frame, out, ctx)

        def stream() -> Iterable[Item]:
            for done, item in enumerate(made, 1):
                yield item
                if progress:
                    progress(done, total)

        if spec.to_dir:
            if target.exists() and not target.is_dir():
                raise StoreError(f"-o {target}: --format {fmt} needs a folder, and this is a file")
            write(stream(), target, ctx)
        elif target is None:
            write(stream(), out, ctx)
        else:
            def fill(handle: TextIO) -> None:  # (UTF-8, no newline translation: the writer may write bytes)
                ctx.binary = handle.buffer
                try:
                    write(stream(), handle, ctx)
                finally:
                    ctx.binary = None

            write_atomic_text(target, fill, PARTIAL)
            ctx.written.insert(0, target)
        if progress and total:
            progress(total, total)  # (a helper's records come at once)
    finally:
        if selection is not None:
            selection.close()


def _merged(workspace: Workspace, articles: str | None, ctx: Context) -> list:
    """One "merge" record per article that anyone worked on: majority vote, ties noted for the user."""
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


__all__ = [
    "CODEPOINT", "FILTER_HELP", "FORMATS", "UTF16", "Context", "Format", "Item", "LabelReport", "Utf16",
    "detect", "direction", "export", "import_labelled", "looks_labelled", "parse_filter", "spool", "to_record",
]
