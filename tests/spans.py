"""Spans the store accepts (no white space at either end, a letter or digit inside), for storage tests."""

from __future__ import annotations

import re

WORD = re.compile(r"\w+")


def word_span(body: str, i: int) -> tuple[int, int]:
    """The span of the `i`-th word of `body`, counting round when `i` passes the last one."""
    spans = [m.span() for m in WORD.finditer(body)]
    return spans[i % len(spans)]

