"""`corpus.idx`: the corpus as the library lists it and as opening one article needs it, without corpus.json.

Derived from corpus.json and rewritten whole by whoever holds the corpus lock after saving it (an import
batch, `tahqiq doctor`, or the first open of a workspace written before the index existed); corpus.json
stays the source of truth. The file is a header line then five sections:

    tahqiq-corpus-index 2 CRC32HEX JSON\\n   JSON: the stamp (inode, mtime_ns, size) of the corpus.json it was
                                            built from, the article count, the first byte of bodies.bin no
                                            record points into, and [offset, length, crc32] of each section
    ids       JSON list of the article ids, in import order
    columns   JSON: the sources and dates, as their distinct values plus one index per article
    titles    where each title ends (count + 1 unsigned 64-bit, from 0), then the titles in UTF-8, one after the
              other: a title is decoded when it is asked for (`Titles`), not all of them at every start
    records   each article's corpus.json record as JSON, one after the other
    offsets   the start of each record in `records` (count + 1 unsigned 64-bit), then each record's crc32

An index whose stamp is not corpus.json's is stale and never used; a checksum that fails makes it damaged
(`IndexDamaged`): readers then read corpus.json instead, and the next writer rewrites it. So is an index of
version 1 (the titles inside `columns`, as JSON): the first open that can take the corpus lock rewrites it.
"""

from __future__ import annotations

import os
import sys
import zlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from store.corpus.bodies import TEXT_AT, record_problem, referenced_end
from store.db.atomic import write_atomic_chunks
from store.db.storage import Stamp, dumps, loads
from store.sequences import LazySequence

INDEX_FILE = "corpus.idx"
_MAGIC = b"tahqiq-corpus-index 2 "
_FAMILY = b"tahqiq-corpus-index "
_MAX_HEADER = 1 << 16
_SECTIONS = ("ids", "columns", "titles", "records", "offsets")
_READ: dict[Stamp, Catalog] = {}
"""The catalog this process last read, by the file stamp of its corpus.idx (a rewritten file is a new inode): read
again, or by a process forked after it was read (`tahqiq serve`'s sessions: tui.cli.serve_starter reads it before
it forks them), it is taken as it is (at 100,000 articles ~50 ms saved at each session's start)."""



class IndexDamaged(ValueError):
    """corpus.idx is not what it says (a checksum fails, a section is cut short or malformed)."""


class Titles(LazySequence[str]):
    """The titles of a corpus.idx, each decoded from its UTF-8 when asked for. At 100,000 articles the titles are
    ~10 MB of mostly Arabic text: decoding them all as JSON took ~55 ms of every start, for the ~40 drawn."""

    __slots__ = ("_ends", "_utf8")

    def __init__(self, ends: array, utf8: bytes) -> None:
        self._ends, self._utf8 = ends, utf8

    def __len__(self) -> int:
        return len(self._ends) - 1

    def _item(self, n: int) -> str:
        return self._utf8[self._ends[n]:self._ends[n + 1]].decode("utf-8", "replace")

    def __eq__(self, other: object) -> bool:  # (as a list of the same titles would be)
        return isinstance(other, (list, Titles)) and len(other) == len(self) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __iter__(self):
        ends, utf8 = self._ends, self._utf8
        return (utf8[ends[n]:ends[n + 1]].decode("utf-8", "replace") for n in range(len(ends) - 1))


def _titles_section(titles: Sequence[str]) -> bytes:
    encoded = [t.encode() for t in titles]  # (UnicodeEncodeError, a ValueError, for a lone surrogate)
    ends, at = array("Q", [0]), 0
    for blob in encoded:
        at += len(blob)
        ends.append(at)
    return ends.tobytes() + b"".join(encoded)


@dataclass(frozen=True)
class Catalog:
    """The corpus in import order, one entry per article in each list: `ids`, `titles` ("" where an article
    has none), `sources` and `dates` (None where missing). The lists are shared by every caller: read only."""

    ids: list[str]
    titles: Sequence[str]
    sources: list[str | None]
    dates: list[str | None]

    @cached_property
    def positions(self) -> dict[str, int]:
        """Article id -> its place in import order (made when first asked for, then shared)."""
        return {article_id: n for n, article_id in enumerate(self.ids)}

    @classmethod
    def of(cls, records: list[dict[str, Any]]) -> Catalog:
        """The catalog of corpus records (in import order)."""
        return cls([r["id"] for r in records], [r.get("title", "") for r in records],
                   [r.get("source") for r in records], [r.get("date") for r in records])


def _coded(values: list[str | None]) -> tuple[list[str | None], list[int]]:
    distinct: dict[str | None, int] = {}
    codes = [distinct.setdefault(v, len(distinct)) for v in values]
    return list(distinct), codes


def write_index(path: Path, stamp: Stamp, records: list[dict[str, Any]]) -> None:
    """Write corpus.idx (atomically) for `records`, the article records of the corpus.json whose stamp is
    `stamp`; ValueError (nothing written) if one is malformed. The caller holds the corpus lock."""
    for r in records:
        problem = record_problem(r)
        if problem is not None:
            raise ValueError(f"article record {r.get('id') if isinstance(r, dict) else '?'!r}: {problem}")
    catalog = Catalog.of(records)
    sources, source_of = _coded(catalog.sources)
    dates, date_of = _coded(catalog.dates)
    blobs = [dumps(r) for r in records]
    starts, at = array("Q", [0]), 0
    for blob in blobs:
        at += len(blob)
        starts.append(at)
    crcs = array("I", [zlib.crc32(b) for b in blobs])
    body = {"ids": dumps(catalog.ids),
            "columns": dumps({"sources": sources, "source_of": source_of, "dates": dates, "date_of": date_of}),
            "titles": _titles_section(catalog.titles),
            "records": b"".join(blobs),
            "offsets": starts.tobytes() + crcs.tobytes()}
    sections, offset = {}, 0
    for name in _SECTIONS:
        sections[name] = [offset, len(body[name]), zlib.crc32(body[name])]
        offset += len(body[name])
    meta = dumps({"stamp": list(stamp), "count": len(records), "end": referenced_end(records),
                  "refs": any(TEXT_AT in r for r in records), "byteorder": sys.byteorder, "sections": sections})
    header = _MAGIC + b"%08x " % zlib.crc32(meta) + meta + b"\n"
    write_atomic_chunks(path, [header] + [body[name] for name in _SECTIONS])


def read_ahead(folder: Path) -> Catalog | None:
    """Read the catalog of the corpus.idx in the workspace `folder`, if there is a whole one, for processes forked
    after this (see `_READ`); the catalog read, or None."""
    index = CorpusIndex.open(folder / INDEX_FILE)
    if index is None:
        return None
    try:
        return index.catalog()
    except IndexDamaged:
        return None  # (the session that opens it says so)
    finally:
        index.close()


class CorpusIndex:
    """An open corpus.idx (the file as it was when opened, even if replaced since). Use `CorpusIndex.open`."""

    def __init__(self, fd: int, meta: dict[str, Any], base: int, file_stamp: Stamp) -> None:
        self._fd = fd
        self.stamp: Stamp = tuple(meta["stamp"])  # type: ignore[assignment]
        self.count: int = meta["count"]
        self.end: int = meta["end"]
        """The first byte of bodies.bin no record points into."""
        self.refs: bool = meta["refs"]
        """Whether any record points into bodies.bin."""
        self.file_stamp = file_stamp
        """(inode, size, mtime_ns) of corpus.idx itself, to tell it from a rewritten one."""
        self._sections = {k: (base + v[0], v[1], v[2]) for k, v in meta["sections"].items()}
        self._catalog: Catalog | None = None
        self._id_list: list[str] | None = None
        self._positions: dict[str, int] | None = None
        self._offsets: tuple[array, array] | None = None

    @classmethod
    def open(cls, path: Path, stamp: Stamp | None = None) -> CorpusIndex | None:
        """The index at `path` if it exists, its header is whole and it was built from the corpus.json of
        `stamp` (any, if None); else None (missing, stale or damaged: read corpus.json instead)."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            head = os.pread(fd, _MAX_HEADER, 0)
            meta, base = _header(head, st.st_size)
            if stamp is not None and tuple(meta["stamp"]) != stamp:
                raise IndexDamaged("stale")
        except (OSError, IndexDamaged):
            os.close(fd)
            return None
        return cls(fd, meta, base, (st.st_ino, st.st_mtime_ns, st.st_size))

    def _section(self, name: str, check: bool = True) -> bytes:
        start, length, crc = self._sections[name]
        try:
            data = os.pread(self._fd, length, start)
        except OSError as exc:
            raise IndexDamaged(f"{name}: cannot read ({exc.strerror})") from exc
        if len(data) != length or (check and zlib.crc32(data) != crc):
            raise IndexDamaged(f"section {name!r} is cut short or damaged")
        return data

    def _json(self, name: str) -> Any:
        try:
            return loads(self._section(name))
        except ValueError as exc:
            raise IndexDamaged(f"section {name!r}: {exc}") from exc

    def catalog(self) -> Catalog:
        """The catalog (read and checked once, or taken from `_READ`); IndexDamaged if it is not whole."""
        if self._catalog is None and (read := _READ.get(self.file_stamp)) is not None:
            self._catalog, self._id_list = read, read.ids
        if self._catalog is None:
            self._catalog = self._read_catalog()
            _READ.clear()  # (one: a long process that imports again and again keeps only the latest)
            _READ[self.file_stamp] = self._catalog
        return self._catalog

    def _read_catalog(self) -> Catalog:
        """The catalog read from the file and checked; IndexDamaged if it is not whole."""
        ids, cols = self._ids(), self._json("columns")
        try:
            sources, dates = cols["sources"], cols["dates"]
            catalog = Catalog(ids, self._titles(), [sources[i] for i in cols["source_of"]],
                              [dates[i] for i in cols["date_of"]])
        except (KeyError, IndexError, TypeError) as exc:
            raise IndexDamaged(f"section 'columns': {exc!r}") from exc
        if len(catalog.titles) != self.count or not all(isinstance(v, list) and len(v) == self.count
                                                        for v in (ids, catalog.sources, catalog.dates)):
            raise IndexDamaged(f"the columns do not hold {self.count} articles")
        return catalog

    def _titles(self) -> Titles:
        data = self._section("titles")
        size = 8 * (self.count + 1)
        ends = array("Q")
        ends.frombytes(data[:size])
        if len(data) < size or ends[0] != 0 or ends[-1] != len(data) - size:
            raise IndexDamaged("section 'titles' has the wrong size")
        return Titles(ends, data[size:])  # (a title cut at a wrong end would be decoded with U+FFFD, not raise)

    def _ids(self) -> list[str]:
        if self._id_list is None:
            ids = self._json("ids")
            if not isinstance(ids, list) or len(ids) != self.count:
                raise IndexDamaged(f"section 'ids' does not hold {self.count} articles")
            self._id_list = ids
        return self._id_list

    def position(self, article_id: str) -> int | None:
        """The import position of an article, or None if the corpus has no such id (only the ids are read)."""
        if self._positions is None:
            self._positions = {article_id: i for i, article_id in enumerate(self._ids())}
        return self._positions.get(article_id)

    def _offset_arrays(self) -> tuple[array, array]:
        if self._offsets is None:
            data = self._section("offsets")
            if len(data) != 12 * self.count + 8:
                raise IndexDamaged("section 'offsets' has the wrong size")
            starts, crcs = array("Q"), array("I")
            starts.frombytes(data[:8 * (self.count + 1)])
            crcs.frombytes(data[8 * (self.count + 1):])
            self._offsets = starts, crcs
        return self._offsets

    def record(self, position: int) -> dict[str, Any]:
        """The corpus record at `position`, read alone and checked (its checksum, and its id at that place)."""
        starts, crcs = self._offset_arrays()
        start, length, _ = self._sections["records"]
        begin, end = starts[position], starts[position + 1]
        if not begin <= end <= length:
            raise IndexDamaged("section 'offsets' points outside the records")
        data = os.pread(self._fd, end - begin, start + begin)
        return self._decode(data, crcs[position], position)

    def _decode(self, data: bytes, crc: int, position: int) -> dict[str, Any]:
        if zlib.crc32(data) != crc:
            raise IndexDamaged(f"the record at position {position} is damaged")
        try:
            record = loads(data)
        except ValueError as exc:
            raise IndexDamaged(f"the record at position {position}: {exc}") from exc
        if type(record) is not dict or record.get("id") != self._ids()[position]:
            raise IndexDamaged(f"the record at position {position} is not the article listed there")
        return record

    def records(self) -> list[dict[str, Any]]:
        """Every corpus record in import order, each checked as `record` does."""
        starts, crcs = self._offset_arrays()
        data = self._section("records", check=False)  # (each record's own checksum is checked)
        if starts[-1] != len(data):
            raise IndexDamaged("section 'offsets' does not match the records")
        return [self._decode(data[starts[i]:starts[i + 1]], crcs[i], i) for i in range(self.count)]

    def problem(self) -> str | None:
        """Why this index is damaged (every section and record checked, each record as corpus.json would be),
        or None: what `tahqiq doctor` asks."""
        try:
            self._section("records")
            self._read_catalog()  # (not one read before: the file is checked as it is now)
            bad = next((p for r in self.records() if (p := record_problem(r)) is not None), None)
        except IndexDamaged as exc:
            return str(exc)
        return f"a record is malformed ({bad})" if bad else None

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _header(head: bytes, size: int) -> tuple[dict[str, Any], int]:
    """(the header's JSON, where the sections start) of the first bytes of corpus.idx; IndexDamaged if it is
    not a whole header whose sections fit in `size` bytes."""
    line_end = head.find(b"\n")
    if not head.startswith(_MAGIC) or line_end < 0:
        raise IndexDamaged("not a corpus index")
    line = head[len(_MAGIC):line_end]
    try:
        crc, data = int(line[:8], 16), line[9:]
        meta = loads(data)
    except ValueError as exc:
        raise IndexDamaged("header unreadable") from exc
    if line[8:9] != b" " or zlib.crc32(data) != crc or not isinstance(meta, dict):
        raise IndexDamaged("header damaged")
    base = line_end + 1
    try:
        ok = (meta["byteorder"] == sys.byteorder and len(meta["stamp"]) == 3
              and all(isinstance(v, int) for v in (meta["count"], meta["end"], *meta["stamp"]))
              and isinstance(meta["refs"], bool)
              and all(base + meta["sections"][k][0] + meta["sections"][k][1] <= size for k in _SECTIONS))
    except (KeyError, TypeError, IndexError):
        ok = False
    if not ok:
        raise IndexDamaged("header malformed, or the file is cut short")
    return meta, base


def index_problem(path: Path, stamp: Stamp | None) -> str | None:
    """Why corpus.idx cannot be used for the corpus.json of `stamp` (missing, stale, damaged), or None."""
    if not path.exists():
        return "missing"
    index = CorpusIndex.open(path)
    if index is None:
        try:
            with path.open("rb") as handle:
                head = handle.read(len(_MAGIC))
        except OSError as exc:
            return f"unreadable ({exc.strerror})"
        if head.startswith(_FAMILY) and head != _MAGIC:
            return "in the format of an older tahqiq"
        return "damaged (its header is not whole)"
    try:
        if index.stamp != stamp:
            return "stale (built from another version of corpus.json)"
        problem = index.problem()
        return None if problem is None else f"damaged ({problem})"
    finally:
        index.close()
