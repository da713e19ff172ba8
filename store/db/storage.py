"""TinyDB storage that writes atomically, refuses to touch corrupt files, and caches reads.

Also a file's stamp (`file_stamp`: what tells whether a file is still the one something was read from or made
for), and the JSON codec the data layer uses: orjson (a dependency; 3-5x faster than the standard library on big
files), with the standard library's parser for the exact message when a file is not valid JSON.
"""

from __future__ import annotations

import gc
import json
import mmap
import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

from store.db.atomic import write_atomic
from store.errors import CorruptFileError, StoreError


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON. Raises ValueError for what JSON cannot hold (e.g. an unpaired surrogate)."""
    try:
        return orjson.dumps(data)
    except TypeError as exc:  # surrogates, non-str keys
        raise ValueError(str(exc)) from exc


def loads(raw: bytes | str) -> Any:
    """Parse JSON; ValueError (json.JSONDecodeError or orjson's) when it is not valid, or nested so deeply
    that the parser would run out of stack (a RecursionError is never let out)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass  # the standard library's parser, for its exact message (and what orjson refuses: lone surrogates)
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError(TOO_DEEP) from None


TOO_DEEP = "nested too deeply (arrays or objects inside each other hundreds of levels deep)"
"""The reason given for JSON (or TOML) too deeply nested to read: every parser raises RecursionError on it."""


def cannot_save(path: Path, exc: OSError) -> StoreError:
    """The one-line error for a failed write (disk full, read-only folder, I/O error)."""
    return StoreError(f"{path}: cannot save ({exc.strerror or exc}); nothing was changed")


class AtomicJSONStorage(Storage):
    """JSON file storage for TinyDB.

    Writes go through `write_atomic`, so the file is always whole. A file that does not parse raises
    `CorruptFileError` naming it, and since TinyDB writes only after a successful read, the damaged file
    is never overwritten. Reads are cached and reused while the file's inode, mtime and size are unchanged.
    """

    def __init__(self, path: str | os.PathLike[str], create: bool = True) -> None:
        self.path = Path(path)
        self._cache: dict[str, Any] | None = None
        self._stamp: tuple[int, int, int] | None = None
        self.generation = 0
        """Bumped whenever the data may have changed (a write, or a re-read of a changed file)."""
        if create and not self.path.exists():
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(self.path, b"{}")
            except OSError as exc:
                raise StoreError(f"{self.path}: cannot create ({exc.strerror or exc})") from exc


    def read(self) -> dict[str, Any] | None:
        stamp = file_stamp(self.path)
        if stamp is None:
            return None
        if self._cache is not None and stamp == self._stamp:
            return self._cache
        data, stamp = read_tables(self.path)
        self._cache, self._stamp = data, stamp
        self.generation += 1
        return data

    def write(self, data: dict[str, Any]) -> None:
        self._cache = None
        try:
            payload = dumps(data)
        except ValueError as exc:
            raise StoreError(f"{self.path}: cannot save ({exc}); nothing was changed") from exc
        try:
            write_atomic(self.path, payload)
        except OSError as exc:
            raise cannot_save(self.path, exc) from exc
        self._cache, self._stamp = data, file_stamp(self.path)
        self.generation += 1

    def close(self) -> None:
        self._cache = None


def read_tables(path: Path) -> tuple[dict[str, Any], tuple[int, int, int]]:
    """A TinyDB file's tables and the (inode, mtime, size) of the very file read; CorruptFileError if bad."""
    try:
        with open(path, "rb") as handle:
            st = os.fstat(handle.fileno())
            raw = handle.read()
    except OSError as exc:
        raise CorruptFileError(f"{path}: cannot read: {exc.strerror}") from exc
    if not raw.strip():  # every writer writes at least "{}": an empty file is damage, never "no data"
        raise CorruptFileError(f"{path}: empty ({len(raw)} bytes), not a database: emptied by a disk error or "
                               "a crash (run `tahqiq doctor`)")
    try:
        with quiet_gc():
            data: Any = loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CorruptFileError(f"{path}: not a valid database file ({detail})") from exc
    if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
        raise CorruptFileError(f"{path}: not a TinyDB database (top level is not tables)")
    return data, (st.st_ino, st.st_mtime_ns, st.st_size)


Stamp = tuple[int, int, int]
"""(inode, mtime_ns, size) of a file: a file replaced (atomically: a new inode) or written differs."""


_CHUNK = 1 << 20


def mapped_crc32(data: mmap.mmap | bytes, start: int) -> int:
    """crc32 of `data[start:]`, a mapped file, without leaving its pages in this process's resident memory: read
    1 MB at a time, each released once read (the page cache keeps them for whoever reads them next). A check
    of a 30 MB index at open would otherwise count 30 MB more in every session that opens it."""
    if not isinstance(data, mmap.mmap) or not hasattr(data, "madvise"):
        return zlib.crc32(memoryview(data)[start:])
    crc, view, end = 0, memoryview(data), len(data)
    try:
        at = start
        while at < end:
            stop = min(end, (at // _CHUNK + 1) * _CHUNK)
            crc = zlib.crc32(view[at:stop], crc)
            page = at - at % mmap.PAGESIZE
            data.madvise(mmap.MADV_DONTNEED, page, stop - page)
            at = stop
    finally:
        view.release()
    return crc


def file_stamp(path: str | os.PathLike[str]) -> Stamp | None:
    """The stamp of the file at `path` now, or None if there is none."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


_quiet_lock = threading.Lock()
_quiet = [0, False]
"""[how many `quiet_gc` blocks are running now (in any thread), whether collection was on when the first began]."""


@contextmanager
def quiet_gc(freeze: bool = True) -> Iterator[None]:
    """No garbage collection while building a million small dicts that are all kept (it would walk them over
    and over, doubling the load time); afterwards they are frozen out of later collections too (`freeze`: a
    process that runs on, like the app, passes False, so that what it holds now can still be collected when
    it becomes garbage). Collection resumes when the last of the blocks running at once in the process's threads
    ends (a block ending in one thread does not resume it under another's), if it was on when the first began."""
    with _quiet_lock:
        if _quiet[0] == 0:
            _quiet[1] = gc.isenabled()
        _quiet[0] += 1
        gc.disable()
    try:
        yield
    finally:
        with _quiet_lock:
            if freeze:
                gc.freeze()
            _quiet[0] -= 1
            if _quiet[0] == 0 and _quiet[1]:
                gc.enable()
