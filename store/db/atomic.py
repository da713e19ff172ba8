"""Crash-safe file replacement: a kill -9 at any instant leaves the old file or the new one."""

from __future__ import annotations

import io
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO, TextIO

_UMASK = os.umask(0)
os.umask(_UMASK)
"""Read once: os.umask can only be read by setting it, which would race with other threads' file creation."""
STALE_SECONDS = 60
"""A temp file without its writer's pid in its name is left alone until it was untouched this long."""


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


def temp_prefix(path: Path) -> str:
    """The start of a temp file's name beside `path`: `.NAME.PID-` (the writer's pid, so that a temp file whose
    writer is gone can be told from one being written); mkstemp adds 8 random characters and the suffix."""
    return f".{Path(path).name}.{os.getpid()}-"


def _temp_re(name: str, suffix: str) -> re.Pattern[str]:
    return re.compile(rf"^\.{re.escape(name)}\.(?:(\d+)-)?[A-Za-z0-9_]{{8}}{re.escape(suffix)}$")


def pid_alive(pid: int) -> bool:
    """Whether process `pid` exists on this machine (a pid we may not signal still exists)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def stale_temp_files(path: Path, suffix: str = ".tmp", min_age: float = STALE_SECONDS) -> list[Path]:
    """Temp files beside `path` that only `path`'s writers make (`.NAME.PID-XXXXXXXX.tmp`) and that nobody is
    writing any more: their pid is gone, or (a name without a pid, from an older version) they were not
    touched for `min_age` seconds. A temp file of a live process is never listed."""
    path = Path(path)
    legacy = f".{path.name}{suffix}"  # the fixed name older versions used for export's partial file
    return _stale(path.parent, _temp_re(path.name, suffix), legacy, min_age)


def stale_temp_files_in(folder: Path, suffix: str) -> list[Path]:
    """The temp files of every file in `folder` (`.NAME.PID-XXXXXXXX` + `suffix`, a pid in the name) whose
    writer is gone, in one scan: for a folder of many files, where `stale_temp_files` per file would scan it
    once per file."""
    pattern = re.compile(rf"^\..+\.(\d+)-[A-Za-z0-9_]{{8}}{re.escape(suffix)}$")
    return _stale(Path(folder), pattern, None, STALE_SECONDS)


def _stale(folder: Path, pattern: re.Pattern[str], legacy: str | None, min_age: float) -> list[Path]:
    """The entries of `folder` that `pattern` (group 1: the writer's pid, if any) or the name `legacy` matches
    and whose writer is gone: its pid is not alive, or, without a pid, untouched for `min_age` seconds."""
    now = time.time()
    found = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None and entry.name != legacy:
            continue
        if match is not None and match.group(1) is not None:
            pid = int(match.group(1))
            if pid == os.getpid() or pid_alive(pid):
                continue
        else:
            try:
                if now - entry.stat(follow_symlinks=False).st_mtime < min_age:
                    continue
            except OSError:
                continue
        found.append(Path(entry.path))
    return found


def remove_stale_temp_files(path: Path, suffix: str = ".tmp") -> list[Path]:
    """Remove what `stale_temp_files` lists (a symlink is removed, never followed); the paths removed."""
    return _remove(stale_temp_files(path, suffix))


def remove_stale_temp_files_in(folder: Path, suffix: str) -> list[Path]:
    """Remove what `stale_temp_files_in` lists (a symlink is removed, never followed); the paths removed."""
    return _remove(stale_temp_files_in(folder, suffix))


def _remove(paths: list[Path]) -> list[Path]:
    removed = []
    for tmp in paths:
        try:
            os.unlink(tmp)
            removed.append(tmp)
        except OSError:
            pass
    return removed


def _write_temp(path: Path, chunks: Iterable[bytes], pause: Callable[[], None] | None = None) -> str:
    """A fsynced temp file beside `path` holding `chunks` (see `_fill_temp`)."""
    def fill(handle: BinaryIO) -> None:
        for chunk in chunks:
            handle.write(chunk)
            if pause is not None:
                pause()

    return _fill_temp(path, fill)


def _fill_temp(path: Path, fill: Callable[[BinaryIO], object], suffix: str = ".tmp", buffering: int = -1) -> str:
    """A fsynced temp file `.NAME.PID-XXXXXXXX` + `suffix` beside `path`, created exclusively and never through
    a symlink (mkstemp: O_EXCL, O_NOFOLLOW), holding what `fill` writes to its binary handle, with the
    permissions the umask allows (mkstemp makes 0600); removed again if anything fails."""
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=suffix, dir=path.parent)  # O_EXCL|O_NOFOLLOW
    try:
        with os.fdopen(fd, "wb", buffering=buffering) as handle:
            fill(handle)
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


def write_atomic_with(path: Path, fill: Callable[[BinaryIO], object], suffix: str = ".tmp",
                      clean: bool = True) -> None:
    """Replace `path` with what `fill` writes to the binary handle it is given, as `write_atomic` does (temp
    file `.NAME.PID-XXXXXXXX` + `suffix` in the same folder, created exclusively, never through a symlink;
    flush, fsync, rename, fsync folder): `path` holds the old content or the new, never part of it, and the
    temp file is removed if `fill` or the write fails. For data written as it is made (an export).

    `clean`: first remove the temp files with `suffix` that earlier writers of `path` left behind and whose
    process is gone (`remove_stale_temp_files`). A writer of many files in one folder passes False and calls
    `remove_stale_temp_files_in` once instead."""
    path = Path(path)
    if clean:
        remove_stale_temp_files(path, suffix)
    tmp = _fill_temp(path, fill, suffix, io.DEFAULT_BUFFER_SIZE * 16)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    fsync_dir(path.parent)


def write_atomic_text(path: Path, fill: Callable[[TextIO], object], suffix: str = ".tmp",
                      clean: bool = True) -> None:
    """As `write_atomic_with`, `fill` writing text: UTF-8, line ends as written (no newline translation)."""
    def fill_bytes(handle: BinaryIO) -> None:
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        fill(text)
        text.flush()
        text.detach()  # the binary handle stays open for _fill_temp's fsync

    write_atomic_with(path, fill_bytes, suffix, clean)


def keep_version(path: Path, keep: Path) -> bool:
    """Make `keep` the current version of `path` (a file only ever replaced, never edited in place), atomically:
    a hard link when the file system has them (no copy), else a copy. False if `path` does not exist."""
    path, keep = Path(path), Path(keep)
    tmp = f"{keep.parent}/{temp_prefix(keep)}{os.urandom(4).hex()}.tmp"
    try:
        os.link(path, tmp, follow_symlinks=False)
    except FileNotFoundError:
        return False
    except OSError:  # no hard links here: a copy
        try:
            with open(path, "rb") as handle:
                write_atomic(keep, handle.read())
        except FileNotFoundError:
            return False
        return True
    try:
        os.replace(tmp, keep)
    finally:
        _unlink(tmp)  # left by a failed rename, or by a rename between two links of one file (a no-op)
    fsync_dir(keep.parent)
    return True


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
