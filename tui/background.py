"""Work nobody is waiting for (building the suggestions' index, reading the team's figures for the library, warming
up the reader) waits for a spare core before it starts. On a shared server it gives way to what people are waiting
for: twenty `tahqiq serve` sessions opened at once drew their first screens only after 8.5 s when each session's
background work, started as soon as its own screen was drawn, took turns with the others' first screens
(bench/load_serve.py at 100,000 articles, 2 cores). On a machine with a core to spare it starts at once.

Why waiting and not a lower priority: a low-priority thread starved by other processes while it holds the
interpreter's lock (a Python thread holds it while it runs) would freeze its own session's screen until the
scheduler let it run again (tried: a nice 19 thread got 14 ms of CPU in 3 s beside six busy processes).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
SPARE = 1.0
"""How much of a core must have been idle over the last `LOOK` seconds for background work to start (a whole one
over 0.3 s: half a core over 0.1 s let it in during the short lulls of twenty sessions starting)."""
LOOK = 0.3
MAX_WAIT = 10.0
"""Background work starts after this many seconds whatever the load (a server busy for good still gets it done);
the environment variable TAHQIQ_BACKGROUND_WAIT sets another (0: at once, as the test suite runs, on a machine
its own processes keep busy)."""
WAIT_ENV = "TAHQIQ_BACKGROUND_WAIT"


def max_wait() -> float:
    """MAX_WAIT, or TAHQIQ_BACKGROUND_WAIT's seconds when it holds a number of them."""
    try:
        return max(0.0, float(os.environ[WAIT_ENV]))
    except (KeyError, ValueError):
        return MAX_WAIT


def _idle_and_total() -> tuple[int, int] | None:
    """(idle, total) clock ticks of all cores since boot, from /proc/stat; None where there is none."""
    try:
        with open("/proc/stat", "rb") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return fields[3] + (fields[4] if len(fields) > 4 else 0), sum(fields[:8])


def spare_cores(look: float = LOOK) -> float | None:
    """How many cores were idle on average over the next `look` seconds (None if this system does not say)."""
    before = _idle_and_total()
    if before is None:
        return None
    time.sleep(look)
    after = _idle_and_total()
    if after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1]) * (os.cpu_count() or 1)


def when_a_core_is_spare(work: Callable[[], T], wait: float | None = None) -> T:
    """`work()` once at least SPARE of a core is idle (waiting at most `wait` seconds, `max_wait()` if None): for a
    thread worker, which sleeps meanwhile without holding the interpreter."""
    deadline = time.monotonic() + (max_wait() if wait is None else wait)
    while time.monotonic() < deadline:
        spare = spare_cores()
        if spare is None or spare >= SPARE:
            break
    return work()
