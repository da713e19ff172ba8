"""Formats whose output is records in a frame (our json and jsonl): what comes before the first record, between two,
after the last, or alone when there is none. Such an output can be made in two parts at once: the exporting process
writes the first articles' records while its helper process writes the others' into a file of its own
(store.exchange.helper), which is then copied in after them (`Part`).
"""

from __future__ import annotations

import codecs
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, TextIO

from store.exchange.records import Context, Item

Frame = tuple[bytes, bytes, bytes, bytes]
"""(before the first record, between two, after the last, the whole output when there is none)."""
Records = Callable[[Iterable[Item], Context], Iterator[tuple[bytes, ...]]]
"""records(items, ctx): each item's record, UTF-8, as the pieces that make it up when joined."""

_BATCH = 192
"""Pieces of records joined into one write (a write of each record's own takes about three times as long)."""
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Part:
    """`count` records already joined by the frame's separator, in `file` from its start (a helper's part)."""

    file: IO[bytes]
    count: int


def framed(records: Records, frame: Frame) -> Callable[[Iterable[Item], TextIO, Context], None]:
    """A Format's `write` for records in a frame."""
    def write(items: Iterable[Item], out: TextIO, ctx: Context) -> None:
        write_framed(records(items, ctx), frame, out, ctx)

    return write


def write_framed(records: Iterable[tuple[bytes, ...] | Part], frame: Frame, out: TextIO, ctx: Context) -> None:
    """`records` (each its pieces, or a Part of many) written to `out` in `frame`."""
    first, between, last, empty = frame
    write, join = _sink(out, ctx), b"".join
    batch: list[bytes] = []
    wrote = False
    for record in records:
        if isinstance(record, Part):
            if record.count:
                batch.append(between if wrote else first)
                write(join(batch))
                batch, wrote = [], True
                _copy(record.file, out, ctx)
            continue
        batch.append(between if wrote else first)
        batch.extend(record)
        wrote = True
        if len(batch) >= _BATCH:
            write(join(batch))
            batch = []
    batch.append(last if wrote else empty)
    write(join(batch))


def write_part(records: Iterable[tuple[bytes, ...]], frame: Frame, file: IO[bytes]) -> int:
    """`records` joined by the frame's separator into `file` (a Part's, in the helper); how many."""
    between, join = frame[1], b"".join
    batch: list[bytes] = []
    count = 0
    for record in records:
        if count:
            batch.append(between)
        batch.extend(record)
        count += 1
        if len(batch) >= _BATCH:
            file.write(join(batch))
            batch = []
    file.write(join(batch))
    file.flush()
    return count


def _sink(out: TextIO, ctx: Context) -> Callable[[bytes], Any]:
    """Where the records' bytes go: the binary file under `out` when there is one to write as is (Context.binary),
    else `out` as text."""
    if ctx.binary is None:
        return lambda data: out.write(data.decode("utf-8"))
    out.flush()
    return ctx.binary.write


def _copy(part: IO[bytes], out: TextIO, ctx: Context) -> None:
    """A Part's bytes after what `out` holds: copied by the kernel into a file when it can, else read and
    written in chunks (decoded for a text stream)."""
    part.seek(0)
    if ctx.binary is not None:
        ctx.binary.flush()
        copied = 0
        try:
            source, target = part.fileno(), ctx.binary.fileno()
            while done := os.copy_file_range(source, target, 1 << 30):
                copied += done
            return
        except (AttributeError, OSError, ValueError):  # (not on one file system, or no file under it)
            if copied:
                raise
        part.seek(0)
        shutil.copyfileobj(part, ctx.binary, _CHUNK)
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    while chunk := part.read(_CHUNK):
        out.write(decoder.decode(chunk))
    out.write(decoder.decode(b"", final=True))
