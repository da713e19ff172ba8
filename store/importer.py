"""Read pages (.txt), JSONL and CSV into Articles, reporting each bad input as one line, never raising."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .article import Article, content_id, derive_title, parse_page

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
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in SUPPORTED:
                    yield f
        elif not p.exists():
            yield Skip(str(p), "no such file or folder")
        else:
            yield p


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
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                yield Skip(where, f"not JSON ({exc.msg} at column {exc.colno})")
                continue
            if not isinstance(record, dict):
                yield Skip(where, f"expected a JSON object, got {type(record).__name__}")
                continue
            yield where, record


def _read_jsonl(path: Path) -> Iterator[Article | Skip]:
    for item in jsonl_records(path):
        yield item if isinstance(item, Skip) else _from_record(item[1], item[0], str(path))


def _read_csv(path: Path) -> Iterator[Article | Skip]:
    data = _decode(path.read_bytes(), str(path))
    if isinstance(data, Skip):
        yield data
        return
    reader = csv.DictReader(io.StringIO(data, newline=""))
    if reader.fieldnames is None or "text" not in reader.fieldnames:
        yield Skip(f"{path}:1", "field 'text': missing from the CSV header")
        return
    try:
        for row in reader:
            record = {k: v for k, v in row.items() if k is not None and v not in (None, "")}
            yield _from_record(record, f"{path}:{reader.line_num}", str(path))
    except csv.Error as exc:
        yield Skip(f"{path}:{reader.line_num}", f"bad CSV ({exc})")


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
