"""Lock files: an exclusive `flock` on `<something>.lock` says which one process writes something.

A lock lasts until its descriptor is closed, and dies with the process, so a killed writer never leaves a stale
lock. The writer of an annotator's files keeps "PID HOST" in its lock file (`write_holder`) for the message
another process shows when it is refused (`read_holder`). Used for an annotator's database and journal
(store.db.journal), for the corpus (imports, store.workspace) and by `tahqiq doctor` before it repairs either
(`try_locked`).
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HELD = (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)
"""What `flock` fails with when another process holds the lock."""


def open_lock(path: Path) -> int:
    """A descriptor of the lock file `path` (created if missing, closed on exec); OSError if it cannot be
    opened (a read-only folder). Nothing is locked yet: see `try_lock` and `hold`."""
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)


def try_lock(fd: int) -> bool:
    """Take the exclusive lock of `fd` without waiting: True once it is held (until `fd` is closed), False while
    another process holds it; OSError when `flock` fails for another reason. `fd` stays open either way."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in _HELD:
            return False
        raise
    return True


@contextmanager
def hold(fd: int) -> Iterator[None]:
    """Wait for the exclusive lock of `fd`, hold it for the block, then close `fd` (which releases it); `fd`
    is closed also when waiting fails (OSError)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextmanager
def waited_for(path: Path) -> Iterator[None]:
    """Hold an exclusive `flock` on the existing file `path` for the block, waiting while another process holds
    one. The file is opened read-only: nothing is created or written (no lock file). A missing file, or one that
    cannot be locked so (NFS emulates flock with locks that need a file open for writing), is not waited for."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            pass
        yield
    finally:
        os.close(fd)


@contextmanager
def try_locked(path: Path) -> Iterator[bool]:
    """Hold lock file `path` for the block if no other process does, without waiting; the block gets whether
    it is held (False while another process holds it, or when `flock` fails). True also when the lock file
    cannot be opened (a read-only folder): then no process can hold it to write either."""
    try:
        fd = open_lock(path)
    except OSError:
        yield True
        return
    try:
        try:
            free = try_lock(fd)
        except OSError:
            free = False
        yield free
    finally:
        os.close(fd)


def write_holder(fd: int) -> None:
    """Write "PID HOST" of this process into the lock file of `fd` (held); a failure is ignored, as the text
    only serves the message another process shows."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
    except OSError:
        pass


def read_holder(path: Path) -> list[str]:
    """The words of what the holder of lock file `path` wrote ("PID HOST": two words); empty when there is
    nothing or it cannot be read."""
    try:
        return Path(path).read_bytes()[:256].decode("utf-8", "replace").split()
    except OSError:
        return []
