"""Crash-safe file replacement: a kill -9 at any instant leaves the old file or the new one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

_UMASK = os.umask(0)
os.umask(_UMASK)
"""Read once: os.umask can only be read by setting it, which would race with other threads' file creation."""


def fsync_dir(folder: Path) -> None:
    """Make a rename inside `folder` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(path: Path, chunks: Iterable[bytes], pause: Callable[[], None] | None = None) -> str:
    """A fsynced temp file beside `path` holding `chunks`, with the permissions the umask allows (mkstemp
    makes 0600); removed again if anything fails."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                if pause is not None:
                    pause()
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def _unlink(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: temp file in the same folder, flush, fsync, rename, fsync folder."""
    write_atomic_chunks(path, (data,))


def write_atomic_chunks(path: Path, chunks: Iterable[bytes], pause: Callable[[], None] | None = None) -> None:
    """As `write_atomic`, for data given as an iterable of bytes (never held whole in memory).

    `pause`, if given, is called between chunks (a background writer uses it to let other threads run).
    """
    path = Path(path)
    tmp = _write_temp(path, chunks, pause)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    fsync_dir(path.parent)


def create_exclusive(path: Path, data: bytes) -> bool:
    """Create `path` holding `data` only if it does not exist, atomically (never replaces a file another
    process created meanwhile). Returns False if it already existed."""
    path = Path(path)
    tmp = _write_temp(path, (data,))
    try:
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:  # no hard links on this file system: best effort
            if path.exists():
                return False
            os.replace(tmp, path)
    finally:
        _unlink(tmp)
    fsync_dir(path.parent)
    return True
