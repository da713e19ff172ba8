"""Article text kept out of the corpus database: `bodies.bin`, append-only, read lazily by offset.

`corpus.json` (TinyDB) holds each article's metadata and `"text_at": [offset, body bytes, raw bytes, crc32]`
pointing into `bodies.bin`, where the article's body and then its raw text are stored in UTF-8, one after
the other, in import order; the checksum is checked each time a text is read. Bodies never change once
imported, so the file only grows.

bodies.bin is self-describing, so that corpus.json can be rebuilt from it (`tahqiq doctor`): each article
is a *frame*, a header line `\x1e CRC32HEX JSON\n` (JSON: `{"a": metadata record, "n": [body bytes, raw
bytes, crc32]}`) followed by the body and the raw text; after every import batch whose corpus.json was
written, a *mark* header `{"c": articles in the corpus}` is appended. An import appends and fsyncs its
frames, replaces corpus.json atomically, then appends the mark. So frames past the last text corpus.json
points to are either an import killed before it wrote corpus.json (no mark after them: set aside into
`bodies.bin.orphaned` by the next import, never simply cut off) or a damaged, emptied or older corpus.json
(a mark after them, or a mark counting more articles than corpus.json lists): refused with a one-line
error until `tahqiq doctor` rebuilds the index. Texts written before frames existed (plain body+raw) and
records with `body` and `raw` inline in corpus.json are still read as they are.

The body is stored once: when the raw text is a JSON record whose `"text"` is the body (JSONL and CSV
imports), it is stored with that field set to null and the metadata record says so (`"raw_body": "text"`);
reading the raw text puts the body back. Raw records stored whole (older versions) are read as they are.

One file because the frames carry the corpus records (`metadata_record`) that `tahqiq doctor` rebuilds corpus.json
from, and the records point back into the frames (`text_at`): the layout of bodies.bin and of the records change
together. Adding articles is store.corpus.intake's.
"""

from __future__ import annotations

import json
import os
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store.corpus.article import Article
from store.db.storage import dumps, loads
from store.errors import CorruptFileError

BODIES_FILE = "bodies.bin"
TEXT_AT = "text_at"
_META = ("title", "title_derived", "source", "date", "byline", "url", "origin")
CACHE_SIZE = 64
FRAME = b"\x1e"
"""The first byte of every frame and mark header in bodies.bin."""
ORPHANED_SUFFIX = ".orphaned"
"""`bodies.bin.orphaned`: bytes of interrupted imports, set aside (appended) rather than cut off."""
_MAX_HEADER = 1 << 24
RAW_BODY = "raw_body"
"""Metadata field: the field of the raw JSON record that holds the body, stored as null in bodies.bin."""
_BODY_FIELD = "text"


def stored_raw(body: str, raw: str) -> tuple[str | None, str]:
    """(field, raw text to store): a raw JSON record whose `"text"` is the body is stored with that field null,
    when putting the body back gives exactly `raw` again; any other raw text is stored whole (field None)."""
    if not body or not raw.startswith("{") or len(raw) < len(body):
        return None, raw
    try:
        record = json.loads(raw)
        if not isinstance(record, dict) or record.get(_BODY_FIELD) != body:
            return None, raw
        record[_BODY_FIELD] = None  # (the key keeps its place)
        stored = json.dumps(record, ensure_ascii=False)
        if full_raw(stored, body, _BODY_FIELD) != raw:
            return None, raw
    except (ValueError, RecursionError):
        return None, raw
    return _BODY_FIELD, stored


def full_raw(stored: str, body: str, field: str) -> str:
    """The raw text stored by `stored_raw`, with the body put back in `field`."""
    record = json.loads(stored)
    record[field] = body
    return json.dumps(record, ensure_ascii=False)


class BodyStore:
    """Reads (and, for imports, appends) the article texts of one workspace."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self._cache: OrderedDict[int, tuple[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def _open(self) -> int:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError as exc:
                raise CorruptFileError(f"{self.path}: cannot read article texts ({exc.strerror})") from exc
        return self._fd

    def texts(self, article_id: str, ref: list[int]) -> tuple[str, str]:
        """(body, raw) of the article at `ref`, checked against the stored checksum; CorruptFileError naming
        the article and the file if they are cut short, damaged, or not UTF-8."""
        offset, nbody, nraw, crc = ref
        with self._lock:
            pair = self._cache.get(offset)
            if pair is not None:
                self._cache.move_to_end(offset)
                return pair
            data = os.pread(self._open(), nbody + nraw, offset) if nbody + nraw else b""
        pair = _decode(self.path, article_id, data, ref)
        with self._lock:
            self._cache[offset] = pair
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return pair

    def append(self, items: Iterable[tuple[dict[str, Any], bytes, bytes]], at: int) -> list[list[int]]:
        """Write (metadata, body, raw) frames from byte `at`, the end of the file (the caller set aside any
        bytes past it: nothing is ever cut off here), and fsync; their `text_at`s."""
        refs: list[list[int]] = []
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            size = os.fstat(fd).st_size
            if size != at:
                raise CorruptFileError(f"{self.path}: holds {size} bytes where {at} were expected "
                                       "(changed while importing?); nothing was written")
            os.lseek(fd, at, os.SEEK_SET)
            chunks: list[bytes] = []
            pending = 0
            for meta, body, raw in items:
                crc = zlib.crc32(raw, zlib.crc32(body))
                header = frame_header({"a": meta, "n": [len(body), len(raw), crc]})
                refs.append([at + len(header), len(body), len(raw), crc])
                at += len(header) + len(body) + len(raw)
                chunks += (header, body, raw)
                pending += len(header) + len(body) + len(raw)
                if pending > 1 << 22:
                    _write_all(fd, b"".join(chunks))
                    chunks, pending = [], 0
            _write_all(fd, b"".join(chunks))
            os.fsync(fd)
        finally:
            os.close(fd)
        self.close()  # the next read sees the new size
        return refs

    def mark(self, count: int) -> None:
        """Append (and fsync) the mark saying corpus.json now lists `count` articles (after it was written)."""
        append_mark(self.path, count)

    def stream(self, refs: Iterable[list[int] | None], ids: Iterable[str] | None = None) -> Iterator[str | None]:
        """The bodies at `refs` (in file order for speed), read sequentially and checked; None where a ref is
        None. `ids`, the articles' ids, name the article in an error."""
        reader = TextReader(self.path)
        names = iter(ids) if ids is not None else None
        try:
            for ref in refs:
                article_id = next(names, "?") if names is not None else "?"
                yield None if ref is None else reader.read(article_id, ref)
        finally:
            reader.close()

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class TextReader:
    """Article texts read in turn through one buffered handle (a pass over many articles, fastest in file
    order), each checked as `BodyStore.texts` checks it; the file is opened at the first read (an OSError if it
    cannot be) and closed by `close`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: Any = None

    def read(self, article_id: str, ref: list[int]) -> str:
        """The body of the article at `ref`; CorruptFileError naming the article and the file if it is cut short,
        damaged, or not UTF-8."""
        if self._handle is None:
            self._handle = open(self.path, "rb", buffering=1 << 20)  # noqa: SIM115 - closed by close()
        offset = ref[0]
        if self._handle.tell() != offset:
            self._handle.seek(offset)
        return _decode(self.path, article_id, self._handle.read(ref[1] + ref[2]), ref)[0]

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _decode(path: Path, article_id: str, data: bytes, ref: list[int]) -> tuple[str, str]:
    offset, nbody, nraw, crc = ref
    where = f"article {article_id!r}: its text in {path} (at byte {offset})"
    if len(data) != nbody + nraw:
        raise CorruptFileError(f"{where} is cut short ({len(data)} of {nbody + nraw} bytes); run `tahqiq doctor`")
    if zlib.crc32(data) != crc:
        raise CorruptFileError(f"{where} is damaged (checksum mismatch); run `tahqiq doctor`")
    try:
        return data[:nbody].decode("utf-8"), data[nbody:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptFileError(f"{where} is damaged (not UTF-8); run `tahqiq doctor`") from exc


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def frame_header(payload: dict[str, Any]) -> bytes:
    """A frame or mark header: `\\x1e`, the CRC32 of the JSON in hex, a space, the JSON, a newline."""
    data = dumps(payload)
    return FRAME + b"%08x " % zlib.crc32(data) + data + b"\n"


# ----- reading bodies.bin without corpus.json: the frames, the marks, and what is past the index ------------

@dataclass
class Entry:
    """A stretch of bodies.bin. kind: "article" (a frame; `record` is its corpus record), "mark" (`count`),
    "junk" (bytes that are no frame, then a frame or mark) or "tail" (bytes that are no whole frame, up to
    the end of the file: an interrupted write, or texts written before frames existed)."""

    kind: str
    start: int
    end: int
    record: dict[str, Any] | None = None
    count: int = 0


def _header_at(handle: Any, pos: int) -> tuple[int, dict[str, Any]] | None:
    """(header length, payload) of a valid frame or mark header at `pos`, else None."""
    handle.seek(pos)
    if handle.read(1) != FRAME:
        return None
    line = handle.readline(_MAX_HEADER)
    if not line.endswith(b"\n") or len(line) < 11 or line[8:9] != b" ":
        return None
    try:
        crc = int(line[:8], 16)
    except ValueError:
        return None
    data = line[9:-1]
    if zlib.crc32(data) != crc:
        return None
    try:
        payload = loads(data)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    count = payload.get("c")
    if isinstance(count, int) and count >= 0 and len(payload) == 1:
        return 1 + len(line), payload
    meta, sizes = payload.get("a"), payload.get("n")
    if (isinstance(meta, dict) and isinstance(meta.get("id"), str) and isinstance(sizes, list) and len(sizes) == 3
            and all(isinstance(v, int) and v >= 0 for v in sizes)):
        return 1 + len(line), payload
    return None


def _next_header(handle: Any, pos: int, size: int) -> int | None:
    while pos < size:
        handle.seek(pos)
        chunk = handle.read(1 << 20)
        if not chunk:
            return None
        i = chunk.find(FRAME)
        while i != -1:
            if _header_at(handle, pos + i) is not None:
                return pos + i
            i = chunk.find(FRAME, i + 1)
        pos += len(chunk)
    return None


def scan(path: Path, start: int = 0) -> list[Entry]:
    """The frames, marks and unreadable stretches of bodies.bin from byte `start` (headers only are read;
    texts are skipped by their sizes, so this is cheap)."""
    entries: list[Entry] = []
    try:
        handle = open(path, "rb")  # noqa: SIM115
    except FileNotFoundError:
        return entries
    with handle:
        size = os.fstat(handle.fileno()).st_size
        pos = start
        while pos < size:
            found = _header_at(handle, pos)
            if found is None:
                nxt = _next_header(handle, pos + 1, size)
                entries.append(Entry("junk" if nxt is not None else "tail", pos, size if nxt is None else nxt))
                if nxt is None:
                    break
                pos = nxt
                continue
            length, payload = found
            if "c" in payload:
                entries.append(Entry("mark", pos, pos + length, count=payload["c"]))
                pos += length
                continue
            nbody, nraw, crc = payload["n"]
            end = pos + length + nbody + nraw
            if end > size:
                entries.append(Entry("tail", pos, size))
                break
            record = {**payload["a"], TEXT_AT: [pos + length, nbody, nraw, crc]}
            entries.append(Entry("article", pos, end, record=record))
            pos = end
    return entries


def committed_records(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The corpus records of every article in bodies.bin whose import finished (a mark follows its frame), in
    file order, and the count of the last mark (0 if none): what `tahqiq doctor` rebuilds corpus.json from."""
    entries = scan(path)
    last = max((i for i, e in enumerate(entries) if e.kind == "mark"), default=-1)
    records = [e.record for e in entries[:last] if e.kind == "article" and e.record is not None]
    return records, (entries[last].count if last >= 0 else 0)


def examine(bodies: Path, corpus: Path, rows: Iterable[dict[str, Any]]) -> tuple[str | None, int]:
    """Check bodies.bin against the corpus records `rows`: (why the index is damaged or None, the byte up to
    which bodies.bin is committed). Past that byte is only what an interrupted import left (safe to set
    aside); cheap when nothing is past the index (one stat, one header read)."""
    rows = list(rows)
    return examine_counts(bodies, corpus, len(rows), referenced_end(rows), any(TEXT_AT in r for r in rows))


def examine_counts(bodies: Path, corpus: Path, listed: int, end: int, refs: bool) -> tuple[str | None, int]:
    """`examine` from what it needs of the records: how many there are (`listed`), the first byte of bodies.bin
    none points into (`end`), and whether any points into it (`refs`)."""
    try:
        size = os.stat(bodies).st_size
    except FileNotFoundError:
        return None, end
    if size <= end:
        return None, end
    entries = scan(bodies, end)
    last = max((i for i, e in enumerate(entries) if e.kind == "mark"), default=-1)
    if last >= 0:
        unlisted = sum(e.kind == "article" for e in entries[:last])
        count = entries[last].count
        if unlisted or count > listed:
            holds = max(count, listed + unlisted)
            return (f"{corpus}: lists {listed} article(s) but {bodies} holds {holds}: the index is damaged; "
                    "run `tahqiq doctor` to rebuild it"), entries[last].end
        return None, entries[last].end
    if not refs and entries and entries[0].kind in ("junk", "tail"):
        with open(bodies, "rb") as handle:
            handle.seek(entries[0].start)
            framed = handle.read(1) == FRAME
        if not framed:  # texts from before frames existed, and an index that points to none of them
            return (f"{corpus}: lists no article text but {bodies} holds {size - end} bytes of them (written by an "
                    "older version, without their metadata): the index is damaged; restore corpus.json from a "
                    "backup"), end
    return None, end


def append_mark(bodies: Path, count: int) -> None:
    """Append (and fsync) a mark to bodies.bin: corpus.json lists `count` articles, every frame before is listed."""
    fd = os.open(bodies, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        _write_all(fd, frame_header({"c": count}))
        os.fsync(fd)
    finally:
        os.close(fd)


def set_aside(bodies: Path, keep: int) -> int:
    """Move the bytes of `bodies` past `keep` (an interrupted import's) to the end of `bodies.bin.orphaned`,
    fsynced, before cutting them off; the number of bytes moved."""
    try:
        size = os.stat(bodies).st_size
    except FileNotFoundError:
        return 0
    if size <= keep:
        return 0
    orphaned = bodies.with_name(bodies.name + ORPHANED_SUFFIX)
    fd = os.open(orphaned, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        with open(bodies, "rb") as handle:
            handle.seek(keep)
            while chunk := handle.read(1 << 22):
                _write_all(fd, chunk)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.truncate(bodies, keep)
    fd = os.open(bodies, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return size - keep


class StoredArticle(Article):
    """An Article whose `body` and `raw` are read from bodies.bin the first time they are used."""

    _bodies: BodyStore
    _ref: list[int]

    @property  # type: ignore[override]
    def body(self) -> str:
        value = self.__dict__.get("_body")
        if value is None:
            value = self._bodies.texts(self.id, self._ref)[0]
        return value

    @body.setter
    def body(self, value: str) -> None:
        self.__dict__["_body"] = value

    def text_source(self) -> tuple[BodyStore, list[int]] | None:
        """Where `body` is read from (the store and the ref), or None when it is held already."""
        return None if "_body" in self.__dict__ else (self._bodies, self._ref)

    @property  # type: ignore[override]
    def raw(self) -> str:
        value = self.__dict__.get("_raw")
        if value is None:
            body, value = self._bodies.texts(self.id, self._ref)
            field = self.__dict__.get("_raw_body")
            if field is not None:
                try:
                    value = full_raw(value, body, field)
                except (ValueError, RecursionError, TypeError) as exc:
                    raise CorruptFileError(f"article {self.id!r}: its raw record in {self._bodies.path} is not the "
                                           f"JSON object its metadata says ({exc}); run `tahqiq doctor`") from exc
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
    d["_raw_body"] = record.get(RAW_BODY)
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


_META_TYPES = (("title", str), ("title_derived", bool), ("source", (str, type(None))),
               ("date", (str, type(None))), ("byline", (str, type(None))), ("url", (str, type(None))),
               ("origin", str), ("extra", (dict, type(None))), (RAW_BODY, (str, type(None))))


def record_problem(record: Any) -> str | None:
    """What makes a corpus.json record unusable (not a record, no id, no text, a field of the wrong type), or
    None: checked as corpus.json is read, so a damaged record is one line naming the field, never a crash."""
    if type(record) is not dict:
        return f"not a record (a {type(record).__name__})"
    g = record.get
    if type(g("id")) is not str or not g("id"):
        return "field 'id': missing or not text"
    ref = g(TEXT_AT)
    if ref is None:
        if type(g("body")) is not str or type(g("raw", "")) is not str:
            return f"field {TEXT_AT!r}: missing (and no 'body' text inline)"
    elif not (type(ref) is list and len(ref) == 4 and all(type(v) is int and 0 <= v < 1 << 48 for v in ref)):
        return f"field {TEXT_AT!r}: expected [offset, body bytes, raw bytes, crc32], whole numbers in range"
    for name, kind in _META_TYPES:
        if name in record and not isinstance(record[name], kind):
            return f"field {name!r}: {type(record[name]).__name__} where {_KIND_NAMES.get(kind, 'text')} belongs"
    return None


_KIND_NAMES = {bool: "true or false", (str, type(None)): "text or null", (dict, type(None)): "a table or null"}
