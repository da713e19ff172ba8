"""Article text kept out of the corpus database: `bodies.bin`, append-only, read lazily by offset.

`corpus.json` (TinyDB) holds each article's metadata and `"text_at": [offset, body bytes, raw bytes, crc32]`
pointing into `bodies.bin`, where the article's body and then its raw text are stored in UTF-8, one after
the other, in import order. Bodies never change once imported, so the file only grows. An import appends
and fsyncs the texts first, then replaces corpus.json atomically: a kill in between leaves bytes past the
last referenced end, which nothing points to and the next import overwrites. Records written before this
layout (with `body` and `raw` inline) are still read as they are.
"""

from __future__ import annotations

import os
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .article import Article
from .errors import CorruptFileError

BODIES_FILE = "bodies.bin"
TEXT_AT = "text_at"
_META = ("title", "title_derived", "source", "date", "byline", "url", "origin")
CACHE_SIZE = 64


class BodyStore:
    """Reads (and, for imports, appends) the article texts of one workspace."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self._cache: OrderedDict[tuple[int, int], str] = OrderedDict()
        self._lock = threading.Lock()

    def _open(self) -> int:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError as exc:
                raise CorruptFileError(f"{self.path}: cannot read article texts ({exc.strerror})") from exc
        return self._fd

    def read(self, offset: int, size: int) -> str:
        key = (offset, size)
        with self._lock:
            text = self._cache.get(key)
            if text is not None:
                self._cache.move_to_end(key)
                return text
            data = os.pread(self._open(), size, offset) if size else b""
        if len(data) != size:
            raise CorruptFileError(f"{self.path}: article text at byte {offset} is cut short "
                                   f"({len(data)} of {size} bytes; run `tahqiq doctor`)")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CorruptFileError(f"{self.path}: article text at byte {offset} is damaged "
                                   f"(not UTF-8; run `tahqiq doctor`)") from exc
        with self._lock:
            self._cache[key] = text
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return text

    def append(self, texts: Iterable[tuple[bytes, bytes]], at: int) -> list[list[int]]:
        """Write (body, raw) pairs from byte `at` (cutting off anything past it), fsync; their `text_at`s."""
        refs: list[list[int]] = []
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            os.ftruncate(fd, at)
            os.lseek(fd, at, os.SEEK_SET)
            chunks: list[bytes] = []
            pending = 0
            for body, raw in texts:
                refs.append([at, len(body), len(raw), zlib.crc32(raw, zlib.crc32(body))])
                at += len(body) + len(raw)
                chunks += (body, raw)
                pending += len(body) + len(raw)
                if pending > 1 << 22:
                    _write_all(fd, b"".join(chunks))
                    chunks, pending = [], 0
            _write_all(fd, b"".join(chunks))
            os.fsync(fd)
        finally:
            os.close(fd)
        self.close()  # the next read sees the new size
        return refs

    def stream(self, refs: Iterable[list[int] | None]) -> Iterator[str | None]:
        """The bodies at `refs` (in file order for speed), read sequentially; None where a ref is None."""
        handle = None
        try:
            for ref in refs:
                if ref is None:
                    yield None
                    continue
                if handle is None:
                    handle = open(self.path, "rb", buffering=1 << 20)  # noqa: SIM115
                offset, size = ref[0], ref[1]
                if handle.tell() != offset:
                    handle.seek(offset)
                data = handle.read(size)
                if len(data) != size:
                    raise CorruptFileError(f"{self.path}: article text at byte {offset} is cut short")
                try:
                    yield data.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise CorruptFileError(f"{self.path}: article text at byte {offset} is damaged") from exc
        finally:
            if handle is not None:
                handle.close()

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class StoredArticle(Article):
    """An Article whose `body` and `raw` are read from bodies.bin the first time they are used."""

    _bodies: BodyStore
    _ref: list[int]

    @property  # type: ignore[override]
    def body(self) -> str:
        value = self.__dict__.get("_body")
        if value is None:
            ref = self._ref
            value = self._bodies.read(ref[0], ref[1])
        return value

    @body.setter
    def body(self, value: str) -> None:
        self.__dict__["_body"] = value

    @property  # type: ignore[override]
    def raw(self) -> str:
        value = self.__dict__.get("_raw")
        if value is None:
            ref = self._ref
            value = self._bodies.read(ref[0] + ref[1], ref[2])
        return value

    @raw.setter
    def raw(self, value: str) -> None:
        self.__dict__["_raw"] = value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Article):
            return NotImplemented
        return self.to_record() == other.to_record()

    __hash__ = None  # type: ignore[assignment]


def make_article(record: dict[str, Any], bodies: BodyStore) -> Article:
    """The Article of a corpus record: lazy when its text is in bodies.bin, whole when inline (old layout)."""
    ref = record.get(TEXT_AT)
    if ref is None:
        return Article.from_record(record)
    article = object.__new__(StoredArticle)
    d = article.__dict__
    d["id"] = record["id"]
    d["title"] = record.get("title", "")
    d["title_derived"] = record.get("title_derived", False)
    d["source"] = record.get("source")
    d["date"] = record.get("date")
    d["byline"] = record.get("byline")
    d["url"] = record.get("url")
    d["origin"] = record.get("origin", "")
    d["extra"] = record.get("extra") or {}
    d["_ref"] = ref
    d["_bodies"] = bodies
    return article


def metadata_record(article: Article) -> dict[str, Any]:
    """The corpus record of an article, without its texts (`text_at` is added when they are written)."""
    record = {"id": article.id, **{k: getattr(article, k) for k in _META}}
    if article.extra:
        record["extra"] = article.extra
    return record


def referenced_end(records: Iterable[dict[str, Any]]) -> int:
    """The first byte of bodies.bin no record points into."""
    end = 0
    for r in records:
        ref = r.get(TEXT_AT)
        if ref is not None:
            end = max(end, ref[0] + ref[1] + ref[2])
    return end
