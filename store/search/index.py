"""A folded copy of every title and body in one file, so that a corpus search is one pass of bytes.find.

Each import batch appends its articles (`keep_up`, called by the workspace under the corpus lock), so the first
search finds it built; a search still brings it up to date first if it is behind (a workspace imported by an
older version, or an append that failed), and `tahqiq doctor` rebuilds it. Bodies never change once imported,
so the index only grows, in import order. `search/folded.bin` holds, per article, quick_fold(title) + "\\n" +
quick_fold(body) + "\\0" in UTF-8; `search/ids.json` holds (id, end byte, crc32 of the article's bytes) per
article and the stamp (inode, size, mtime_ns) of folded.bin as written, and is replaced atomically after the
append. A folded.bin that is not as ids.json last saw it (a crash between the two, or damage) is checked
against the checksums and only the whole articles before the first bad one are kept; bytes past the last
recorded end are overwritten by the next append. A writer holds `search/index.lock`.
"""

from __future__ import annotations

import bisect
import mmap
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from store.db.atomic import write_atomic
from store.db.lock import hold, open_lock, try_locked
from store.db.storage import dumps, file_stamp, loads
from store.errors import StoreError
from store.text.normalize import quick_fold

INDEX_DIR = "search"
_VERSION = 2



class SearchIndex:
    """Which articles contain a query (and how often), under the forgiving rules of `quick_fold`."""

    def __init__(self, workspace_path: Path) -> None:
        self.folder = Path(workspace_path) / INDEX_DIR
        self.data_path = self.folder / "folded.bin"
        self.ids_path = self.folder / "ids.json"
        self.lock_path = self.folder / "index.lock"
        self.ids: list[str] = []
        self.ends: list[int] = []
        self.crcs: list[int] = []
        self._seen: tuple[int, int, int] | None = None
        self.refresh()

    def _read(self) -> tuple[list, list | None]:
        """(rows, folded.bin's recorded stamp) of ids.json; ([], None) if it is missing, old or malformed."""
        try:
            saved = loads(self.ids_path.read_bytes())
            rows, stamp = saved["rows"], saved["data"]
            if saved["v"] != _VERSION or not isinstance(rows, list):
                return [], None
            last = 0
            for article_id, end, crc in rows:
                if not (type(article_id) is str and type(end) is int and type(crc) is int and end > last):
                    return [], None
                last = end
        except (OSError, ValueError, KeyError, TypeError):
            return [], None
        return rows, stamp

    def refresh(self) -> None:
        """Take up ids.json again if it changed since it was read (another process appended)."""
        seen = file_stamp(self.ids_path)
        if seen is not None and seen == self._seen:
            return
        self._seen = seen
        rows, stamp = self._read()
        self.ids, self.ends, self.crcs = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
        if rows and (stamp is None or tuple(stamp) != file_stamp(self.data_path)):
            whole = self._whole()
            del self.ids[whole:], self.ends[whole:], self.crcs[whole:]
            if whole == len(rows):  # intact (bytes past the end, or only touched): remember it as it is now
                with try_locked(self.lock_path) as free:
                    if free and self.folder.is_dir():
                        self._save()

    def _whole(self) -> int:
        """How many of the recorded articles are intact in folded.bin (their bytes match their checksums)."""
        try:
            handle = open(self.data_path, "rb", buffering=1 << 20)  # noqa: SIM115
        except OSError:
            return 0
        with handle:
            start = 0
            for i, (end, crc) in enumerate(zip(self.ends, self.crcs)):
                chunk = handle.read(end - start)
                if len(chunk) != end - start or zlib.crc32(chunk) != crc:
                    return i
                start = end
        return len(self.ends)

    def _save(self) -> None:
        try:
            write_atomic(self.ids_path, dumps({"v": _VERSION, "data": file_stamp(self.data_path),
                                               "rows": list(zip(self.ids, self.ends, self.crcs))}))
        except OSError:
            return
        self._seen = file_stamp(self.ids_path)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with hold(open_lock(self.lock_path)):
            self.refresh()
            yield

    def sync(self, ids: list[str], texts: Callable[[str], tuple[str, str]]) -> int:
        """Make the index cover `ids` (the corpus in import order); returns how many were added.

        `texts(id)` gives (title, body). If the index is not a prefix of the corpus it is rebuilt.
        """
        if self.ids == ids:  # (the common case, without the lock)
            self.refresh()
            if self.ids == ids:
                return 0
        with self._writing():
            if self.ids != ids[: len(self.ids)]:
                self.ids, self.ends, self.crcs = [], [], []
            return self._append(ids[len(self.ids):], texts)

    def rebuild(self, ids: list[str], texts: Callable[[str], tuple[str, str]]) -> int:
        """Build the index again from nothing (`tahqiq doctor`); how many articles it holds."""
        with self._writing():
            self.ids, self.ends, self.crcs = [], [], []
            return self._append(ids, texts)

    def _append(self, missing: list[str], texts: Callable[[str], tuple[str, str]]) -> int:
        if not missing:
            return 0
        end = self.ends[-1] if self.ends else 0
        if not end and self.data_path.exists():
            self.data_path.unlink()  # (a search mapping the old file keeps reading it whole)
        with self.data_path.open("r+b" if end else "wb") as out:
            out.seek(end)
            out.truncate()
            for article_id in missing:
                title, body = texts(article_id)
                chunk = (quick_fold(title) + "\n" + quick_fold(body) + "\0").encode("utf-8")
                out.write(chunk)
                end += len(chunk)
                self.ids.append(article_id)
                self.ends.append(end)
                self.crcs.append(zlib.crc32(chunk))
            out.flush()
            os.fsync(out.fileno())
        self._save()
        return len(missing)

    def problem(self, ids: list[str]) -> str | None:
        """Why the index is not a whole copy of the corpus `ids` (missing, damaged, stale), or None."""
        if not self.ids_path.exists():
            return "missing"
        rows, _ = self._read()
        if not rows and ids:
            return "damaged or from an older version (ids.json unreadable)"
        self.ids, self.ends, self.crcs = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
        whole = self._whole()
        if whole < len(rows):
            return f"damaged (the text of article {rows[whole][0]!r} in folded.bin fails its checksum)"
        if self.ids != ids:
            return f"stale (covers {len(self.ids)} article(s) where the corpus has {len(ids)}, or in another order)"
        return None

    def counts(self, query: str) -> Hits:
        """The articles that contain `query`, and how often (counted when asked: see `Hits`).

        One pass over folded.bin, as `grep -c` makes one over lines: each article is searched up to its first
        occurrence only, then the search goes on from the article's end."""
        self.refresh()
        key = quick_fold(query).strip().encode("utf-8")
        if not key or not self.ends or b"\0" in key:
            return Hits(self.data_path, key, {}, [], [])
        found: dict[str, int] = {}
        with self.data_path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            limit = min(self.ends[-1], len(data))
            ends, find, after = self.ends, data.find, bisect.bisect_right
            at = find(key, 0, limit)
            while at != -1:
                i = after(ends, at)
                found[self.ids[i]] = i
                at = find(key, ends[i], limit)
        return Hits(self.data_path, key, found, self.ends, self.crcs)

class Hits(Mapping[str, int]):
    """Article id -> occurrences of a query, for the articles that contain it, in index (corpus) order.

    Which articles match is known at once; an article's number of occurrences is counted the first time it is
    asked for, from its own bytes in folded.bin (a library shows the count of the highlighted article only).
    An article whose bytes are no longer the ones the search read (folded.bin rebuilt since) counts as 1: it
    did match."""

    def __init__(self, path: Path, key: bytes, positions: dict[str, int], ends: list[int], crcs: list[int]) -> None:
        self._path, self._key, self._positions = path, key, positions
        self._ends, self._crcs = ends, crcs  # (the index's lists as searched: later appends only add to them)
        self._counted: dict[str, int] = {}

    def __getitem__(self, article_id: str) -> int:
        count = self._counted.get(article_id)
        if count is None:
            count = self._counted[article_id] = self._count(self._positions[article_id])  # (KeyError: no hit)
        return count

    def _count(self, position: int) -> int:
        start = self._ends[position - 1] if position else 0
        try:
            with self._path.open("rb") as handle:
                chunk = os.pread(handle.fileno(), self._ends[position] - start, start)
        except OSError:
            return 1
        return chunk.count(self._key) if zlib.crc32(chunk) == self._crcs[position] else 1

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._positions

    def __iter__(self) -> Iterator[str]:
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)


def keep_up(workspace_path: Path, ids: list[str], texts: Callable[[str], tuple[str, str]]) -> int:
    """Bring the search index of a workspace up to date after an import batch (articles added: the batch's,
    or all when it was missing); 0 if it cannot be written (a search later brings it up to date instead)."""
    try:
        return SearchIndex(workspace_path).sync(ids, texts)
    except (OSError, StoreError):
        return 0


def texts_from(articles: Iterable[tuple[str, str, str]]) -> tuple[list[str], Callable[[str], tuple[str, str]]]:
    """(ids, texts) for `SearchIndex.sync` from (id, title, body) triples held in memory."""
    table = {i: (t, b) for i, t, b in articles}
    return list(table), table.__getitem__
