"""Terminal bidi modes (terminal-wg BiDi recommendation): stop VTE-style terminals reordering our output."""

from __future__ import annotations

import atexit
import sys
from collections.abc import Iterator
from contextlib import contextmanager

EXPLICIT = "\x1b[8l\x1b[1 k"
"""BDSM explicit (CSI 8 l): the terminal keeps our visual order; SCP LTR (CSI 1 SP k)."""
IMPLICIT = "\x1b[8h\x1b[0 k"
"""Back to the terminal's implicit bidi (CSI 8 h) and default direction (CSI 0 SP k)."""


def _tty():
    for stream in (sys.__stderr__, sys.__stdout__):
        if stream is not None and stream.isatty():
            return stream
    return None


@contextmanager
def explicit_bidi(enabled: bool = True) -> Iterator[None]:
    """While the app runs, ask the terminal not to reorder; restore on exit, also after a crash."""
    stream = _tty() if enabled else None
    if stream is None:
        yield
        return
    restored = False

    def restore() -> None:
        nonlocal restored
        if not restored:
            restored = True
            stream.write(IMPLICIT)
            stream.flush()

    atexit.register(restore)
    stream.write(EXPLICIT)
    stream.flush()
    try:
        yield
    finally:
        restore()
        atexit.unregister(restore)
