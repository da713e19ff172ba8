"""The team's tagged strings as one file every session maps (`suggestions/tagged.idx`), instead of each session
adding up every annotator's entity counts in its own memory.

Each key is a tagged text's folded words (store.text.normalize.folded_words) joined by U+001F, with its votes:
per label, how many times the annotators tagged a text with those words so (store.annotation.entity_counts, as
of each one's last fold; labels in the order first given, annotators in the workspace's order). Layout: a
header line, JSON: `{"version", "fold": FOLD_STAMP, "sources": {annotator: the header of the counts file it
was made from}, "keys": N, "longest", "heads": [offset, length], "slots": offset, "crc": crc32 of all that
follows}`; one line per key, JSON `[key, [[label, votes], ...]]`; the first words of the keys (one JSON list
line, at `heads`); a bitmap of 2**24 bits, bit crc32 >> 8 of each key set (at `bloom`: most words looked up
are no key, and this says so without a search); then, at `slots`, the keys' crc32s (N 4-byte numbers,
sorted) and the offsets of their lines (N 8-byte numbers, in the same order), which a session holds as arrays
and searches by bisection.

Derived: used only while every source is the counts file now beside each annotator's database, and rebuilt
(under `suggestions/tagged.lock`) by the first session that finds it stale; a session that cannot use it adds up the
counts in its memory as before (store.assist.suggest). `SharedMatcher` is a session's view of it: its own
annotator's changes since their last fold, and as they tag, are kept as differences in memory.
"""

from __future__ import annotations

import json
import mmap
import os
import sys
import time
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from store.annotation.entity_counts import counts_header, read_entity_rows
from store.apart import run_apart
from store.db.atomic import write_atomic_chunks
from store.db.lock import open_lock, try_lock
from store.db.storage import dumps, loads, mapped_crc32
from store.text.normalize import FOLD_STAMP, folded_words

VERSION = 2
SEP = "\x1f"
MAX_WORDS = 8
"""Tagged texts of more words are not suggested."""
BLOOM_BYTES = 2**21
INDEX_PATH = Path("suggestions") / "tagged.idx"
LOCK_PATH = Path("suggestions") / "tagged.lock"
BUILD_WAIT = 60.0
"""Seconds a session waits for another one's build of the index before it adds up the counts itself."""


def _key(words: Iterable[str]) -> str:
    return SEP.join(words)


def _numbers(code: str, values: Any) -> array:
    """An array of little-endian numbers (`code`: "I" 4 bytes, "Q" 8 bytes) from bytes or a list."""
    out = array(code)
    assert out.itemsize == (4 if code == "I" else 8)
    if isinstance(values, (bytes, bytearray, memoryview)):
        out.frombytes(values)
        if sys.byteorder != "little":
            out.byteswap()
    else:
        out.extend(values)
        if sys.byteorder != "little":
            out.byteswap()
    return out


class TaggedIndex:
    """A mapped `tagged.idx` (`open` gives None unless it is whole and of the counts files now)."""

    def __init__(self, header: dict[str, Any], data: mmap.mmap) -> None:
        self.sources: dict[str, Any] = header["sources"]
        self.longest = int(header["longest"])
        self._count = int(header["keys"])
        self._slots = int(header["slots"])
        self._data = data
        at, length = header["heads"]
        self.heads: frozenset[str] = frozenset(loads(data[at:at + length]))
        self._bloom = memoryview(data)[header["bloom"]:header["bloom"] + BLOOM_BYTES]
        crcs, offsets = slice(self._slots, self._slots + 4 * self._count), slice(self._slots + 4 * self._count, None)
        if sys.byteorder == "little":  # searched where they lie, in the mapped file (only the pages read count)
            self._crcs: Any = memoryview(data)[crcs].cast("I")
            self._offsets: Any = memoryview(data)[offsets].cast("Q")
        else:
            self._crcs, self._offsets = _numbers("I", data[crcs]), _numbers("Q", data[offsets])
        self.release()  # (the heads were read)

    @classmethod
    def open(cls, path: Path, sources: dict[str, Any]) -> TaggedIndex | None:
        try:
            with open(path, "rb") as handle:
                data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            end = data.find(b"\n")
            header = loads(data[:end])
            if (header.get("version") != VERSION or header.get("fold") != FOLD_STAMP
                    or header.get("sources") != sources
                    or int(header["slots"]) + int(header["keys"]) * 12 != len(data)
                    or mapped_crc32(data, end + 1) != header["crc"]):
                data.close()
                return None
            return cls(header, data)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def votes(self, key: str) -> list[list]:
        """[[label, votes], ...] of `key` (none: [])."""
        crc = zlib.crc32(key.encode("utf-8", "surrogatepass"))
        if not self._bloom[crc >> 11] >> ((crc >> 8) & 7) & 1:
            return []
        crcs = self._crcs
        for i in range(bisect_left(crcs, crc), self._count):
            if crcs[i] != crc:
                break
            at = self._offsets[i]
            name, votes = loads(self._data[at:self._data.find(b"\n", at)])
            if name == key:
                return votes
        return []

    def release(self) -> None:
        """Let go of the pages of the mapped file this process has read (they stay in the page cache, shared by
        every session): an article's lookups touch ~10 MB of a 30 MB index at 100,000 articles, which would
        otherwise count in each session's resident memory for as long as it runs. Reading them again costs a
        minor fault per page (~1 ms an article)."""
        if hasattr(self._data, "madvise"):
            try:
                self._data.madvise(mmap.MADV_DONTNEED)
            except (OSError, ValueError):  # (closed meanwhile)
                pass

    def close(self) -> None:
        for view in (self._bloom, self._crcs, self._offsets):
            if isinstance(view, memoryview):
                view.release()
        self._data.close()


def sources_of(db_paths: dict[str, Path]) -> dict[str, Any] | None:
    """Annotator -> the header of their counts file, when every one is of their database as it is now (an
    annotator who tagged nothing is left out: a newcomer does not make everyone's index stale)."""
    out = {}
    for name, db in db_paths.items():
        header = counts_header(db)
        if header is None:
            return None
        if header.get("size") != 0:
            out[name] = header
    return out


def build(path: Path, db_paths: dict[str, Path], sources: dict[str, Any]) -> None:
    """Write the index from the counts files (OSError if the disk refuses; ValueError if a file changed)."""
    votes: dict[str, dict[str, int]] = {}
    for name, db in db_paths.items():
        if name not in sources:
            continue  # (nothing tagged)
        rows = read_entity_rows(db, sources[name])
        if rows is None:
            raise ValueError(f"{name}: counts changed while the index was built")
        for _text, label, n, words in rows:
            if not words or len(words) > MAX_WORDS:
                continue
            key = _key(words)
            labels = votes.get(key)
            if labels is None:
                votes[key] = {label: n}
            else:
                labels[label] = labels.get(label, 0) + n
    lines, slots, heads = [], [], {}
    longest = 1
    header_for = {"version": VERSION, "fold": FOLD_STAMP, "sources": sources, "keys": len(votes)}
    for key, labels in votes.items():
        line = dumps([key, [[label, n] for label, n in labels.items()]]) + b"\n"
        lines.append(line)
        words = key.split(SEP)
        heads[words[0]] = None
        longest = max(longest, len(words))
    head_line = dumps(list(heads)) + b"\n"
    probe = dumps({**header_for, "longest": longest, "heads": [0, 0], "bloom": 0, "slots": 0, "crc": 0}) + b"\n"
    width = len(probe) + 60
    offset = width
    for key, line in zip(votes, lines):
        slots.append((zlib.crc32(key.encode("utf-8", "surrogatepass")) << 64) | offset)
        offset += len(line)
    heads_at = offset
    bloom = bytearray(BLOOM_BYTES)
    for slot in slots:
        crc = slot >> 64
        bloom[crc >> 11] |= 1 << ((crc >> 8) & 7)
    bloom_at = heads_at + len(head_line)
    slots_at = bloom_at + BLOOM_BYTES
    slots.sort()
    packed = (_numbers("I", [s >> 64 for s in slots]).tobytes() if slots else b"") + (
        _numbers("Q", [s & ((1 << 64) - 1) for s in slots]).tobytes() if slots else b"")
    crc = zlib.crc32(packed, zlib.crc32(bloom, zlib.crc32(head_line, zlib.crc32(b"".join(lines)))))
    header = dumps({**header_for, "longest": longest, "heads": [heads_at, len(head_line)], "bloom": bloom_at,
                    "slots": slots_at, "crc": crc}).ljust(width - 1) + b"\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic_chunks(path, [header, *lines, head_line, bytes(bloom), packed])


def _build_apart(path: Path, db_paths: dict[str, Path], sources: dict[str, Any],
                 pause: Callable[[], None] | None) -> bool:
    """`build` in a process of its own (`python -m store.assist.tagged_index`), which this one waits for: the
    hundreds of thousands of keys added up (~4 s and ~100 MB at 100,000 articles) never count in a session's
    memory nor hold its interpreter. False if it failed (the caller then adds up the counts itself)."""
    job = json.dumps({"path": str(path), "db_paths": {k: str(v) for k, v in db_paths.items()}, "sources": sources})
    return run_apart("store.assist.tagged_index", job=job.encode("utf-8"), wait=BUILD_WAIT, pause=pause)


def shared_index(workspace_path: Path, db_paths: dict[str, Path],
                 pause: Callable[[], None] | None = None) -> TaggedIndex | None:
    """The workspace's index of every annotator in `db_paths` as their counts files are now: mapped, built
    first if stale (by this session, or by another one this waits for); None when a counts file is not of
    its database (the caller adds the counts up itself, from the records) or the index cannot be written."""
    sources = sources_of(db_paths)
    if sources is None:
        return None
    path = workspace_path / INDEX_PATH
    found = TaggedIndex.open(path, sources)
    if found is not None:
        return found
    try:
        (workspace_path / LOCK_PATH).parent.mkdir(parents=True, exist_ok=True)
        fd = open_lock(workspace_path / LOCK_PATH)
    except OSError:
        return None
    try:
        deadline = time.monotonic() + BUILD_WAIT
        while not try_lock(fd):  # another session builds it: use theirs once written
            if time.monotonic() > deadline:
                return None
            (pause or (lambda: None))()
            time.sleep(0.2)
        found = TaggedIndex.open(path, sources)
        if found is None:
            if not _build_apart(path, db_paths, sources, pause):
                return None
            found = TaggedIndex.open(path, sources)
        return found
    finally:
        os.close(fd)  # (releases the lock)


class SharedMatcher:
    """PhraseMatcher's `best`, `add` and `longest` over a TaggedIndex plus this session's differences."""

    def __init__(self, index: TaggedIndex) -> None:
        self.index = index
        self.longest = index.longest
        self._delta: dict[str, dict[str, int]] = {}
        self._heads: set[str] = set()

    def add(self, text: str, label: str, weight: int = 1) -> None:
        """Count `weight` votes for `label` on `text` (negative: take votes back)."""
        self.add_words(folded_words(text), label, weight)

    def add_words(self, words: tuple[str, ...], label: str, weight: int) -> None:
        if not words or len(words) > MAX_WORDS:
            return
        key = _key(words)
        labels = self._delta.setdefault(key, {})
        labels[label] = labels.get(label, 0) + weight
        self._heads.add(words[0])
        self.longest = max(self.longest, len(words))

    def best(self, words: tuple[str, ...]) -> str | None:
        """The label most voted for these folded words (the first given among equals), or None."""
        if words[0] not in self.index.heads and words[0] not in self._heads:
            return None
        key = SEP.join(words)
        votes = self.index.votes(key)
        delta = self._delta.get(key)
        if delta:
            merged = dict(votes)
            for label, n in delta.items():
                merged[label] = merged.get(label, 0) + n
            votes = list(merged.items())
        best, top = None, 0
        for label, n in votes:
            if n > top:
                best, top = label, n
        return best

    def __len__(self) -> int:
        return self.index._count


if __name__ == "__main__":  # the build of `_build_apart`: its job as JSON on stdin; exit 1 if it failed
    _job = json.loads(sys.stdin.buffer.read())
    try:
        build(Path(_job["path"]), {k: Path(v) for k, v in _job["db_paths"].items()}, _job["sources"])
    except (OSError, ValueError):
        sys.exit(1)
