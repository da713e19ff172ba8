"""Moving one edge of a span of text by a character: what adjusting an entity's edges in the reader does."""

from __future__ import annotations

import unicodedata

from store.errors import ValidationError


def _joins(ch: str) -> bool:
    """A combining mark (harakat among them): it belongs to the character before it."""
    return unicodedata.category(ch).startswith("M")


def moved_edge(body: str, start: int, end: int, edge: str, step: int) -> tuple[int, int]:
    """The span [start, end) of `body` after moving one edge ("start" or "end") by one character, `step`
    +1 (towards the end of the text) or -1. A character moves with its combining marks, and white space is
    never left at an edge: growing skips it to the next character, shrinking drops it."""
    if edge not in ("start", "end") or step not in (1, -1):
        raise ValidationError(f"cannot move edge {edge!r} by {step!r}")
    n = len(body)
    if edge == "end":
        end += step
        if step > 0:
            while end < n and (body[end - 1].isspace() or _joins(body[end])):
                end += 1
        else:
            while start < end and (body[end - 1].isspace() or (end < n and _joins(body[end]))):
                end -= 1
    else:
        start += step
        if step < 0:
            while start > 0 and (body[start].isspace() or _joins(body[start])):
                start -= 1
        else:
            while start < end and (body[start].isspace() or _joins(body[start])):
                start += 1
    return start, end
