"""A folded copy of every title and body in one file, so that a corpus search is one pass of bytes.find.

Bodies never change once imported, so the index only grows: new articles are appended in import order.
`search/folded.bin` holds, per article, quick_fold(title) + "\\n" + quick_fold(body) + "\\0" in UTF-8;
`search/ids.json` lists (id, end byte) and is replaced atomically after the append, so a crash between
the two leaves bytes past the last recorded end, which are ignored and overwritten next time.
"""

from __future__ import annotations

import bisect
import json
import mmap
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from store.db.atomic import write_atomic
from store.text.normalize import quick_fold

INDEX_DIR = "search"


class SearchIndex:
    """Which articles contain a query (and how often), under the forgiving rules of `quick_fold`."""

    def __init__(self, workspace_path: Path) -> None:
        self.folder = Path(workspace_path) / INDEX_DIR
        self.data_path = self.folder / "folded.bin"
        self.ids_path = self.folder / "ids.json"
        self.ids: list[str] = []
        self.ends: list[int] = []
        try:
            loaded = json.loads(self.ids_path.read_text(encoding="utf-8"))
            self.ids, self.ends = [row[0] for row in loaded], [row[1] for row in loaded]
        except (OSError, ValueError, IndexError, TypeError):
            self.ids, self.ends = [], []
        if self.ends and (not self.data_path.exists() or self.data_path.stat().st_size < self.ends[-1]):
            self.ids, self.ends = [], []  # the data file lost bytes: rebuild

    def sync(self, ids: list[str], texts: Callable[[str], tuple[str, str]]) -> int:
        """Make the index cover `ids` (the corpus in import order); returns how many were added.

        `texts(id)` gives (title, body). If the index is not a prefix of the corpus it is rebuilt.
        """
        if self.ids != ids[: len(self.ids)]:
            self.ids, self.ends = [], []
        missing = ids[len(self.ids):]
        if not missing:
            return 0
        self.folder.mkdir(parents=True, exist_ok=True)
        end = self.ends[-1] if self.ends else 0
        mode = "r+b" if self.data_path.exists() else "wb"
        with self.data_path.open(mode) as out:
            out.seek(end)
            out.truncate()
            for article_id in missing:
                title, body = texts(article_id)
                chunk = (quick_fold(title) + "\n" + quick_fold(body) + "\0").encode("utf-8")
                out.write(chunk)
                end += len(chunk)
                self.ids.append(article_id)
                self.ends.append(end)
            out.flush()
            os.fsync(out.fileno())
        write_atomic(self.ids_path, json.dumps([[i, e] for i, e in zip(self.ids, self.ends)]).encode("utf-8"))
        return len(missing)

    def counts(self, query: str) -> dict[str, int]:
        """Article id -> number of occurrences of `query`, for the articles that contain it."""
        key = quick_fold(query).strip().encode("utf-8")
        if not key or not self.ends or b"\0" in key:
            return {}
        found: dict[str, int] = {}
        with self.data_path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            limit = self.ends[-1]
            at = data.find(key, 0, limit)
            while at != -1:
                article = self.ids[bisect.bisect_right(self.ends, at)]
                found[article] = found.get(article, 0) + 1
                at = data.find(key, at + len(key), limit)
        return found


def texts_from(articles: Iterable[tuple[str, str, str]]) -> tuple[list[str], Callable[[str], tuple[str, str]]]:
    """(ids, texts) for `SearchIndex.sync` from (id, title, body) triples held in memory."""
    table = {i: (t, b) for i, t, b in articles}
    return list(table), table.__getitem__
