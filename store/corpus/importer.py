"""Read pages (.txt), JSONL and CSV into Articles, reporting each bad input as one line, never raising."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from store.corpus.article import Article, content_id, derive_title, parse_page
from store.db.storage import loads

MAX_PAGE_BYTES = 5 * 1024 * 1024
"""A .txt page larger than this is not a news article (and would freeze the reader)."""
MAX_TEXT_CHARS = 1_000_000
"""Longest article text accepted from a JSONL or CSV record."""
SUPPORTED = {".txt": "page", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
_SEED_NAME = re.compile(r"^\d+_(?P<hex>[0-9a-fA-F]{8,})$")
_FIELDS = ("id", "title", "source", "date", "url", "byline")


@dataclass(frozen=True)
class Skip:
    """An input that was not imported, and why, as `file[:line]: reason`."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


def expand(paths: Iterable[str | Path]) -> Iterator[Path | Skip]:
    """Files to import: folders are walked for supported files (sorted); other names are kept as given."""
    for p in map(Path, paths):
        if p.is_dir():
            yield from (f for f in files_in(p) if isinstance(f, Skip) or f.suffix.lower() in SUPPORTED)
        elif not p.exists():
            yield Skip(str(p), "no such file or folder")
        else:
            yield p


def files_in(folder: Path) -> Iterator[Path | Skip]:
    """Every file under `folder`, sorted. A symbolic link whose target lies outside the folder is not
    followed (a planted link must not import /etc/hostname) and is named; links to folders are not entered."""
    root = folder.resolve()
    found: list[Path] = []
    for here, dirs, files in os.walk(folder, followlinks=False):
        for name in sorted(dirs):
            if (Path(here) / name).is_symlink():
                found.append(Path(here) / name)
        found += [Path(here) / name for name in files]
    for f in sorted(found):
        if f.is_symlink():
            target = f.resolve()
            if not target.is_relative_to(root) or target.is_dir():
                yield Skip(str(f), f"a symbolic link to {target}, outside the folder or to a folder: not followed")
                continue
        if f.is_file():
            yield f


def read_file(path: Path) -> Iterator[Article | Skip]:
    """Articles of one file, or a Skip for each part of it that cannot be imported."""
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        yield Skip(str(path), f"unsupported file type {path.suffix or '(none)'!r}; use .txt, .jsonl or .csv")
        return
    try:
        size = path.stat().st_size
        if kind == "page" and size > MAX_PAGE_BYTES:
            yield Skip(str(path), f"{size / 2**20:.1f} MB is over the {MAX_PAGE_BYTES // 2**20} MB limit for one page")
            return
        with path.open("rb") as handle:
            head = handle.read(8192)
    except OSError as exc:
        yield Skip(str(path), f"cannot read: {exc.strerror}")
        return
    if size == 0 or not head.strip():
        yield Skip(str(path), "empty file")
        return
    if b"\x00" in head:
        yield Skip(str(path), "binary file (contains NUL bytes), not text")
        return
    if kind == "page":
        yield from _read_page(path)
    elif kind == "jsonl":
        yield from _read_jsonl(path)
    else:
        yield from _read_csv(path)


def _decode(data: bytes, where: str) -> str | Skip:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Skip(where, f"not valid UTF-8 (byte {exc.start})")


def _read_page(path: Path) -> Iterator[Article | Skip]:
    text = _decode(path.read_bytes(), str(path))
    if isinstance(text, Skip):
        yield text
        return
    if "\x00" in text:
        yield Skip(str(path), "binary file (contains NUL bytes), not text")
        return
    m = _SEED_NAME.match(path.stem)
    article = parse_page(text, "pending", origin=str(path))
    if not article.body:
        yield Skip(str(path), "no article text left once menus and notices are removed")
        return
    article.id = m["hex"].lower() if m else content_id(article.body)
    yield article


def jsonl_records(path: Path) -> Iterator[tuple[str, dict[str, Any]] | Skip]:
    """(where, record) for each JSON object line of a JSONL file; a Skip for each line that is not one."""
    with Path(path).open("rb") as handle:
        for number, line in enumerate(handle, 1):
            where = f"{path}:{number}"
            if not line.strip():
                continue
            text = _decode(line, where)
            if isinstance(text, Skip):
                yield text
                continue
            try:
                record = loads(text)
            except json.JSONDecodeError as exc:
                yield Skip(where, f"not JSON ({exc.msg} at column {exc.colno})")
                continue
            except ValueError as exc:  # nested too deeply (storage.loads), a number of thousands of digits
                yield Skip(where, f"not JSON ({str(exc).splitlines()[0] if str(exc) else 'bad value'})")
                continue
            if not isinstance(record, dict):
                yield Skip(where, f"expected a JSON object, got {type(record).__name__}")
                continue
            yield where, record


def _read_jsonl(path: Path) -> Iterator[Article | Skip]:
    for item in jsonl_records(path):
        yield item if isinstance(item, Skip) else _from_record(item[1], item[0], str(path))


MAX_CSV_RESTARTS = 100
"""Unterminated quotes after which the rest of a CSV file is given up (each one re-reads the rest)."""


def _read_csv(path: Path) -> Iterator[Article | Skip]:
    """Each row as an article, or a Skip naming the line where the row begins. A bad row never stops the
    rows after it: a field too long is reported by _from_record; a quote that never closes (which would
    make the rest of the file one text) is reported at the line where its field begins, and reading goes on
    from the line after it."""
    data = _decode(path.read_bytes(), str(path))
    if isinstance(data, Skip):
        yield data
        return
    csv.field_size_limit(max(csv.field_size_limit(), len(data) + 1))  # too long is _from_record's to say
    lines = list(io.StringIO(data, newline=""))
    reader = csv.reader(lines, strict=True)
    fields: list[str] | None = None
    offset = 0  # lines before the ones `reader` reads
    restarts = 0
    while True:
        start = offset + reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            end = offset + reader.line_num  # the row ran from line `start` to line `end`
            if end == start and end < len(lines) or restarts >= MAX_CSV_RESTARTS and end < len(lines):
                yield Skip(f"{path}:{start}", f"bad CSV ({exc})")  # e.g. text after a closing quote
                continue
            # A quoted field ran over lines (to the end of the file, or to a quote followed by more text):
            # its quote was most likely never closed, and the rows it swallowed are read again.
            opened = _open_quote_line(lines, start - 1, end)
            restarts += 1
            if restarts > MAX_CSV_RESTARTS:
                yield Skip(f"{path}:{opened}", f"bad CSV: over {MAX_CSV_RESTARTS} quotes that never close; "
                                               "the rest of the file is not read")
                break
            why = ("this field's opening quote never closes (the rest of the file would be one text)"
                   if end >= len(lines) else f"{exc}, in the field quoted from this line")
            yield Skip(f"{path}:{opened}", f"bad CSV: {why}; the rows after this line are read on")
            offset = opened
            reader = csv.reader(lines[offset:], strict=True)
            continue
        if not row:
            continue  # a blank line
        if fields is None:
            fields = row
            if "text" not in fields:
                yield Skip(f"{path}:{start}", "field 'text': missing from the CSV header")
                return
            continue
        record = {k: v for k, v in zip(fields, row, strict=False) if v != ""}  # (a short row: the rest empty)
        yield _from_record(record, f"{path}:{start}", str(path))
    if fields is None:
        yield Skip(f"{path}:1", "field 'text': missing from the CSV header")


def _open_quote_line(lines: list[str], first: int, last: int) -> int:
    """The line number (1-based) where the last quoted field of lines `first` (an index) to `last` (a number)
    begins, reading them as the csv module does: a quote opens a field only as its first character, and `""`
    inside one is a quote."""
    quoted = False
    field_start = True
    opened = first + 1
    for number, line in enumerate(lines[first:last], first + 1):
        i, n = 0, len(line)
        while i < n:
            ch = line[i]
            if quoted:
                if ch == '"':
                    if i + 1 < n and line[i + 1] == '"':
                        i += 1
                    else:
                        quoted = False
            elif ch == '"' and field_start:
                quoted, opened = True, number
            field_start = not quoted and ch in ",\r\n"
            i += 1
    return opened


def normalise_date(value: Any) -> str | None:
    """An ISO 8601 date (YYYY-MM-DD) from the usual spellings, or ValueError."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    m = re.fullmatch(r"(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})", text)
    if m:
        return date(int(m[3]), int(m[2]), int(m[1])).isoformat()
    raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD)")


def _from_record(record: dict[str, Any], where: str, origin: str) -> Article | Skip:
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return Skip(where, "field 'text': missing or empty")
    if len(text) > MAX_TEXT_CHARS:
        return Skip(where, f"field 'text': {len(text):,} characters is over the {MAX_TEXT_CHARS:,} limit")
    if "\x00" in text:
        return Skip(where, "field 'text': contains NUL characters")
    for name in _FIELDS:
        value = record.get(name)
        if value is not None and not isinstance(value, (str, int)):
            return Skip(where, f"field {name!r}: expected text, got {type(value).__name__}")
    try:
        iso = normalise_date(record.get("date"))
    except ValueError as exc:
        return Skip(where, f"field 'date': {exc}")
    raw_id = record.get("id")
    article_id = str(raw_id).strip() if raw_id not in (None, "") else content_id(text)
    title = str(record.get("title") or "").strip()
    return Article(
        id=article_id,
        body=text,
        title=title or derive_title(text),
        title_derived=not title,
        source=_opt(record.get("source")),
        date=iso,
        byline=_opt(record.get("byline")),
        url=_opt(record.get("url")),
        raw=json.dumps(record, ensure_ascii=False),
        origin=origin,
    )


def _opt(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None
