"""Corpus search that forgives Arabic spelling: diacritics and tatweel ignored, letter variants equal."""

from __future__ import annotations

from dataclasses import dataclass

from store.search.index import Hits, SearchIndex
from store.text.normalize import FOLD_TABLE, fold, quick_fold
from store.workspace import Workspace


@dataclass(frozen=True)
class Hit:
    """One occurrence of the query: in the title or body of an article, with [start, end) offsets."""

    article_id: str
    field: str
    start: int
    end: int


def find(text: str, query: str) -> list[tuple[int, int]]:
    """Every occurrence of `query` in `text` under the forgiving rules, as offsets into `text`."""
    key = quick_fold(query).strip()
    if not key or key not in quick_fold(text):
        return []
    folded, origin = fold(text)
    spans = []
    at = folded.find(key)
    while at != -1:
        start, end = origin[at], origin[at + len(key) - 1] + 1
        while end < len(text) and FOLD_TABLE.get(ord(text[end]), "") is None:
            end += 1  # marks on the last letter belong to the hit
        spans.append((start, end))
        at = folded.find(key, at + len(key))
    return spans


def corpus_counts(index: SearchIndex, workspace: Workspace, query: str) -> Hits:
    """Article id -> occurrences of `query` in its title and body, bringing the index up to date first (imports
    keep it so: then nothing is added, and only the corpus's ids are read, from its catalog)."""
    index.sync(workspace.catalog().ids, lambda i: (workspace.article(i).title, workspace.article(i).body))
    return index.counts(query)


def first_hit(title: str, body: str, query: str) -> Hit | None:
    """The first occurrence in the title, else in the body (article_id left empty)."""
    for field, text in (("title", title), ("body", body)):
        spans = find(text, query)
        if spans:
            return Hit("", field, *spans[0])
    return None


def context(text: str, start: int, end: int, around: int = 30) -> tuple[str, int, int]:
    """A one-line excerpt around a hit: (excerpt, hit start, hit end) with offsets into the excerpt."""
    left = max(0, start - around)
    right = min(len(text), end + around)
    while left > 0 and not text[left - 1].isspace() and start - left < around + 10:
        left -= 1
    excerpt = text[left:right].replace("\n", " ")
    prefix = "…" if left > 0 else ""
    suffix = "…" if right < len(text) else ""
    return prefix + excerpt + suffix, len(prefix) + start - left, len(prefix) + end - left
