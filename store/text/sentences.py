"""Arabic sentence spans: a sentence ends at . ؟ ! ؛ (also ? and ;) or at the end of a paragraph."""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"(?:[^\n.؟?!؛;]|(?<=\d)\.(?=\d))*(?:[.؟?!؛;]+[»”\"')\]]*|(?=\n)|$)")


def sentences(body: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence, without surrounding whitespace; empty ones left out."""
    spans = []
    for m in _SENTENCE.finditer(body):
        start, end = m.span()
        while start < end and body[start].isspace():
            start += 1
        while end > start and body[end - 1].isspace():
            end -= 1
        if end > start and (not spans or spans[-1] != (start, end)):
            spans.append((start, end))
    return spans


def sentence_at(body: str, offset: int) -> tuple[int, int] | None:
    """The sentence containing `offset` (or the nearest one before it)."""
    best = None
    for start, end in sentences(body):
        if start > offset:
            break
        best = (start, end)
    return best
