"""Work nobody is waiting for runs at the lowest CPU priority: building the suggestions' index, reading the team's
figures for the library, warming up the reader. On a shared server it gives way to what people are waiting for:
twenty `tahqiq serve` sessions opened at once drew their first screens only after 8.5 s when each session's
background work, started as soon as its own screen was drawn, took turns with the others' first screens
(bench/load_serve.py at 100,000 articles, 2 cores). On a machine with a core to spare it changes nothing.
"""

from __future__ import annotations

import contextvars
import os
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
LOWEST = 19
"""The nice value of background work (the lowest priority)."""


def at_low_priority(work: Callable[[], T]) -> T:
    """`work()` run in a new thread at the lowest priority (on Linux a thread has its own nice value), waited for
    here; its result, or its exception, is this call's. A new thread because its priority cannot be raised back
    without privileges, and Textual's thread workers take turns in one pool whose threads later run what the user
    does wait for (a search, an export). Elsewhere than Linux, `work()` runs here as it is."""
    if not sys.platform.startswith("linux"):
        return work()
    context = contextvars.copy_context()  # (Textual's active app and worker)
    outcome: list = []

    def run() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST)
        except OSError:
            pass
        try:
            outcome.append((True, context.run(work)))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, who raises it
            outcome.append((False, exc))

    thread = threading.Thread(target=run, name=f"low-{getattr(work, '__name__', 'work')}", daemon=True)
    thread.start()
    thread.join()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value
