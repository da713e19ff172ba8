"""How often one annotator tagged each string with each entity label, kept beside their database so that the
suggestions (store.assist.suggest) read a small file per teammate instead of every record, and fold nothing.

For `annotations/alice.json`, `alice.entities` is JSON: `{"version": 3, "stamp": [ino, mtime_ns, size], "fold":
FOLD_STAMP, "journal": [inode, bytes], "size": rows, "counts": [[text, label, count, [folded word, ...]], ...]}`
(written ROWS_PER_LINE rows a line, so that it can be read a part at a time: `_encoded`),
the counts of the records in the database with that stamp plus the first bytes of the journal with that inode,
each text's folded words (store.text.normalize.folded_words) beside it. The writer writes it with the summaries
(store.annotation.summary): after each fold, and on taking the lock when it is missing or stale; texts it folded
before are not folded again. A reader trusts it only while the database has that stamp and the folding is the
same, and then does not read the journal: a teammate's tags since their last fold are counted once they fold (the
app folds on exit and every few MB of saves). Missing, stale or damaged: None, and the caller reads the records.
Derived: `tahqiq doctor` rewrites it. The writer's own suggestions start from it too when it covers the database
alone (written at a fold: journal bytes 0), adding what the journal changed since (`read_entity_counts(...,
of_database=...)`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from sys import intern
from typing import Any

from store.annotation.record import ANNOTATIONS_TABLE, Kind
from store.db.atomic import write_atomic_chunks
from store.db.storage import dumps, file_stamp, loads
from store.text.normalize import FOLD_STAMP, folded_words

ENTITIES_SUFFIX = ".entities"
VERSION = 3
Key = tuple[tuple[str, ...], str]
"""(the folded words of a tagged text, its label)."""


def entities_path(db_path: Path) -> Path:
    return Path(db_path).with_suffix(ENTITIES_SUFFIX)


def count_entities(records: Iterable[Mapping[str, Any]],
                   pause: Callable[[], None] | None = None) -> Counter[tuple[str, str]]:
    """(text, label) -> how many entity records tag that text with that label; `pause()` called every 500
    records (see store.annotation.summary.summarize)."""
    entity = Kind.ENTITY
    if pause is None:
        return Counter((r["text"], r["label"]) for r in records if r["kind"] == entity)
    counts: Counter[tuple[str, str]] = Counter()
    for n, r in enumerate(records):
        if r["kind"] == entity:
            counts[(r["text"], r["label"])] += 1
        if n % 500 == 0:
            pause()
    return counts


def fold_counts(counts: Mapping[tuple[str, str], int], known: Mapping[str, tuple[str, ...]] | None = None
                ) -> Counter[Key]:
    """(folded words, label) -> count, each distinct text folded once (`known`: texts already folded)."""
    folded: dict[str, tuple[str, ...]] = dict(known or {})
    out: Counter[Key] = Counter()
    for (text, label), n in counts.items():
        words = folded.get(text)
        if words is None:
            words = folded[text] = folded_words(text)
        out[(words, label)] += n
    return out


def write_entity_counts(db_path: Path, tables: Mapping[str, Mapping[str, Mapping[str, Any]]],
                        at: tuple, pause: Callable[[], None] | None = None,
                        folded: dict[str, tuple[str, ...]] | None = None) -> None:
    """Write `alice.entities` from an annotation database's tables as of `at` (store.annotation.summary.Position:
    the database's stamp, the journal's inode and the bytes of it the tables hold; atomically, OSError if the
    disk refuses); `pause` as in `count_entities`; `folded`: text -> folded words kept by the caller between
    writes (filled from the last file when empty, and with what this write folds)."""
    counts = count_entities(tables.get(ANNOTATIONS_TABLE, {}).values(), pause)
    if folded is None:
        folded = {}
    if not folded:
        folded.update(_folded_texts(db_path, pause))
    rows = []
    for i, ((text, label), n) in enumerate(sorted(counts.items())):
        if pause is not None and i % 500 == 0:
            pause()
        words = folded.get(text)
        if words is None:
            words = folded[text] = folded_words(text)
        rows.append([text, label, n, list(words)])
    header = {"version": VERSION, "stamp": list(at[0]) if at[0] else None, "fold": FOLD_STAMP,
              "journal": [at[1], at[2]], "size": len(rows)}
    write_atomic_chunks(entities_path(db_path), _encoded(header, rows), pause)


ROWS_PER_LINE = 500
"""Rows written on one line of the file (see `_encoded`)."""
_COUNTS = b',"counts":[\n'


def _encoded(header: dict[str, Any], rows: list[list]) -> Iterator[bytes]:
    """The file's bytes: the header, then ROWS_PER_LINE rows a line. The same JSON as one dumps of the whole (JSON
    strings hold no line break), which a reader can parse a line at a time (`_load`): parsing the whole in one
    call held the interpreter ~0.1 s at 100,000 articles, and a save waiting for a fold's thread waited that long."""
    yield dumps(header)[:-1] + _COUNTS
    for i in range(0, len(rows), ROWS_PER_LINE):
        yield (b",\n" if i else b"") + dumps(rows[i:i + ROWS_PER_LINE])[1:-1]
    yield b"\n]}"


def _load(path: Path, pause: Callable[[], None] | None = None) -> Any:
    """The file's JSON: a line at a time when it is laid out as `_encoded` writes it (`pause()` between lines;
    as many rows as its header says), else whole. ValueError if it is not JSON, or rows are missing."""
    raw = path.read_bytes()
    head, cut, rest = raw.partition(_COUNTS)
    if not cut or not rest.endswith(b"\n]}") or b"\n" in head:
        return loads(raw)
    data = loads(head + b"}")
    rows: list = []
    body = rest[:-3]
    for line in body.split(b",\n") if body else ():
        rows += loads(b"[" + line + b"]")
        if pause is not None:
            pause()
    if not isinstance(data, dict) or data.get("size") != len(rows):
        raise ValueError(f"{path.name}: not the {len(rows)} rows its header says")
    data["counts"] = rows
    return data


def _folded_texts(db_path: Path, pause: Callable[[], None] | None = None) -> dict[str, tuple[str, ...]]:
    """Text -> folded words, as the file written last says (whatever its stamp), when the folding is the same."""
    try:
        data = _load(entities_path(db_path), pause)
        if data.get("version") in (2, VERSION) and data.get("fold") == FOLD_STAMP:  # (2: without "journal")
            return {row[0]: tuple(row[3]) for row in data["counts"]}
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        pass
    return {}


def entity_counts_fresh(db_path: Path) -> bool:
    """Whether `alice.entities` is of the database as it is now and folded the same way (`counts_header`)."""
    return counts_header(db_path) is not None


def read_entity_counts(db_path: Path, of_database: tuple | None = None,
                       pause: Callable[[], None] | None = None) -> Counter[Key] | None:
    """(folded words, label) -> count as of the annotator's last fold, or None when the file is missing,
    damaged, not of the database as it is now, or folded otherwise. `of_database`: (database stamp, journal
    inode): None unless the file counts that database alone (no journal line). `pause()`: called between the
    file's lines (a background thread lets the screen's thread run)."""
    try:
        stamp = file_stamp(db_path)
        data = _load(entities_path(db_path), pause)
        if (stamp is None or data["version"] != VERSION or data["stamp"] != list(stamp)
                or data["fold"] != FOLD_STAMP):
            return None
        if of_database is not None and (list(of_database[0]) != list(stamp)
                                        or data["journal"] != [of_database[1], 0]):
            return None
        counts: Counter[Key] = Counter()
        for text, label, n, words in data["counts"]:
            if (type(text) is not str or type(label) is not str or type(n) is not int or n <= 0
                    or not all(type(w) is str for w in words)):
                return None
            counts[(tuple(map(intern, words)), intern(label))] += n  # (shared: the same words recur in many texts)
        return counts
    except (OSError, ValueError, KeyError, TypeError):
        return None


def counts_header(db_path: Path) -> dict[str, Any] | None:
    """The header of `alice.entities` (version, stamp, fold, journal) when it is of the database as it is now and
    folded the same way, else None (only its first bytes are read: the file is written header first)."""
    try:
        stamp = file_stamp(db_path)
        with open(entities_path(db_path), "rb") as handle:
            head = handle.read(512)
        cut = head.find(b',"counts":')
        data = loads(head[:cut] + b"}") if cut > 0 else None
        if (isinstance(data, dict) and data.get("version") == VERSION and data.get("fold") == FOLD_STAMP
                and stamp is not None and data.get("stamp") == list(stamp)):
            return data
    except (OSError, ValueError):
        pass
    return None


def read_entity_rows(db_path: Path, header: Mapping[str, Any],
                     pause: Callable[[], None] | None = None) -> list[list] | None:
    """The rows [text, label, count, [folded word, ...]] of `alice.entities`, if its header is still `header`;
    `pause` as in `read_entity_counts`."""
    try:
        data = _load(entities_path(db_path), pause)
        if any(data.get(k) != v for k, v in header.items()):
            return None
        rows = data["counts"]
        for text, label, n, words in rows:
            if (type(text) is not str or type(label) is not str or type(n) is not int or n <= 0
                    or not all(type(w) is str for w in words)):
                return None
        return rows
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
