"""Work done by a process of its own, which the caller waits for: what it reads and makes (hundreds of MB and
seconds at 100,000 articles) never counts in the caller's memory nor holds its interpreter. A session rebuilds
derived files so: the team's tagged index (store.assist.tagged_index) and a stale summary
(store.annotation.summary)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
"""The folder holding the `store` package: where `python -m store...` finds it, installed or not."""


def run_apart(module: str, args: Sequence[str] = (), job: bytes | None = None, wait: float = 60.0,
              pause: Callable[[], None] | None = None) -> bool:
    """`python -m MODULE ARGS` with `job` on its stdin, waited for: True when it exits with 0 within `wait`
    seconds (it is killed then); False when it fails, or cannot be started. `pause()` is called between looks at
    it (every 50 ms)."""
    try:
        child = subprocess.Popen([sys.executable, "-m", module, *args],
                                 stdin=subprocess.DEVNULL if job is None else subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    except OSError:
        return False
    if job is not None:
        try:
            with child.stdin:  # (a few kB: the pipe takes it at once)
                child.stdin.write(job)
        except OSError:
            pass  # (it ended already: its exit status says how)
    deadline = time.monotonic() + wait
    while child.poll() is None:
        if time.monotonic() > deadline:
            child.kill()
            child.wait()
            return False
        if pause is not None:
            pause()
        time.sleep(0.05)
    return child.returncode == 0
