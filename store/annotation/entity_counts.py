"""How often one annotator tagged each string with each entity label, kept beside their database so that the
suggestions (store.assist.suggest) read a small file per teammate instead of every record.

For `annotations/alice.json`, `alice.entities` is JSON: `{"version": 1, "stamp": [ino, mtime_ns, size],
"counts": [[text, label, count], ...]}`, the counts of the records in the database with that stamp plus its
journal as it was when the file was written. The writer writes it with the summaries (store.annotation.summary):
after each fold, and on taking the lock when it is missing or stale. A reader trusts it only while the database
has that stamp, and then does not read the journal: a teammate's tags since their last fold are counted once
they fold (the app folds on exit and every few MB of saves). Missing, stale or damaged: None, and the caller
reads the records. Derived: `tahqiq doctor` rewrites it."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from store.annotation.record import ANNOTATIONS_TABLE, Kind
from store.db.atomic import write_atomic
from store.db.storage import dumps, loads

ENTITIES_SUFFIX = ".entities"
VERSION = 1


def entities_path(db_path: Path) -> Path:
    return Path(db_path).with_suffix(ENTITIES_SUFFIX)


def count_entities(records: Iterable[Mapping[str, Any]]) -> Counter[tuple[str, str]]:
    """(text, label) -> how many entity records tag that text with that label."""
    entity = Kind.ENTITY
    return Counter((r["text"], r["label"]) for r in records if r["kind"] == entity)


def write_entity_counts(db_path: Path, tables: Mapping[str, Mapping[str, Mapping[str, Any]]],
                        db_stamp: tuple[int, int, int] | None) -> None:
    """Write `alice.entities` from an annotation database's tables (atomically; OSError if the disk refuses)."""
    counts = count_entities(tables.get(ANNOTATIONS_TABLE, {}).values())
    data = {"version": VERSION, "stamp": list(db_stamp) if db_stamp else None,
            "counts": [[text, label, n] for (text, label), n in sorted(counts.items())]}
    write_atomic(entities_path(db_path), dumps(data))


def read_entity_counts(db_path: Path) -> Counter[tuple[str, str]] | None:
    """The counts as of the annotator's last fold, or None when the file is missing, damaged or not of the
    database as it is now."""
    try:
        st = os.stat(db_path)
        data = loads(entities_path(db_path).read_bytes())
        if data["version"] != VERSION or data["stamp"] != [st.st_ino, st.st_mtime_ns, st.st_size]:
            return None
        counts: Counter[tuple[str, str]] = Counter()
        for text, label, n in data["counts"]:
            if type(text) is not str or type(label) is not str or type(n) is not int or n <= 0:
                return None
            counts[(text, label)] = n
        return counts
    except (OSError, ValueError, KeyError, TypeError):
        return None
