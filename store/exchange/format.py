"""`Format`: everything tahqiq knows about one exchange format, defined in the format's own module (its
`FORMAT`) and listed once in store.exchange.formats, which export(), the labelled import and the CLI read."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PARTIAL = ".partial"
"""The suffix of an export's temp files (`.NAME.PID-XXXXXXXX.partial`), renamed over the file when complete."""


@dataclass(frozen=True)
class Format:
    """An export format, and how tahqiq imports it when it can: what the rest of store.exchange and the CLI
    ask of a format is here, so a new format is its own module plus one line in store.exchange.formats."""

    name: str
    """What `--format` takes; also what detect() and an import report call the files read (see `imported_as`)."""
    write: Callable[..., None]
    """write(items, out, ctx): the records of `items` to the text stream `out` (a folder Path when `to_dir`);
    called with `offset_unit=` when export is asked for one of `units`."""
    offset_unit: str
    """The unit the writer counts offsets in by default (and a reader's default for records stating none)."""
    to_dir: bool = False
    """Writes a folder of files (-o DIR), each one whole or not at all; else one file or stdout."""
    help: str = ""
    """One line for `tahqiq export --format` help."""
    units: tuple[str, ...] = ()
    """Other offset units the writer can use (export's `offset_unit`); it states the one used per record.
    A reader given `--offset-unit` on import takes it for records that state none."""
    read: Callable[[str, Any, str | None], Iterator[Any]] | None = None
    """read(where, record, offset_unit): one record of a labelled file (a JSON value: a line of a JSONL file,
    an element of a JSON array, named `where` in messages) as RecordIn, Skip and Notice (store.exchange.incoming).
    `offset_unit` is import's --offset-unit or None. None: tahqiq does not import this format."""
    sniff: Callable[[Any], bool] | None = None
    """sniff(record): whether a record (any JSON value) is one of this format's; the formats are asked in the
    order store.exchange.formats lists them, and the first that says yes reads the file."""
    imported_as: str = ""
    """The name detect() and an import report give files read by this format, when not `name` (json and jsonl
    both read as `tahqiq`)."""
    import_help: str = ""
    """How `tahqiq import --help` and import messages name the files this format reads (e.g. Label Studio JSON)."""
    element: str = ""
    """What an element of a JSON array is called in messages: `FILE:{element}[i]` (Label Studio: `task`)."""
    check_target: Callable[[Path], None] | None = None
    """check_target(path): raises StoreError when -o PATH cannot be this format's output (before any work)."""
    after: Callable[[Any], None] | None = None
    """after(ctx): run once the records are written (ctx.path is -o PATH or None for a stream): side files
    such as Label Studio's labelling config; it appends what it writes to ctx.written and notes to ctx.notes."""
    prepare: Callable[[str, str, list[dict[str, Any]]], Any] | None = None
    """prepare(annotator, state, rows): what `write` needs of one annotator's work on one article, made while
    that annotator's database is loaded and kept on disk (marshal) until the article's turn (store.exchange.stream); the
    writer then finds it in `Item.prepared`, the rows not kept. None: the Items carry the rows themselves."""
    records: Callable[..., Iterator[tuple[bytes, ...]]] | None = None
    """records(items, ctx): each item's record, UTF-8 (as pieces to join), when the output is records in `frame`
    (store.exchange.framed) and `write` writes just that: an export may then have its helper process make the
    last articles' records while it makes the first ones' (store.exchange.helper)."""
    frame: tuple[bytes, bytes, bytes, bytes] = (b"", b"", b"", b"")
    """Around `records`: (before the first, between two, after the last, the whole output when there is none)."""
    noun: str = "record"
    """What the export summary counts (`exported 3 records`): Label Studio writes one task per article."""
    epilog: str = ""
    """More for the end of `tahqiq export --help`: where side files go, what -o must be."""
