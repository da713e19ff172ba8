"""Who annotates what: each article to one annotator, a share of them to a second one for agreement."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from store.annotators import HELP as ANNOTATOR_HELP
from store.annotators import valid_name
from store.db.atomic import write_atomic
from store.db.storage import loads
from store.errors import StoreError

ASSIGNMENTS_FILE = "assignments.json"


def split(article_ids: list[str], annotators: list[str], overlap: float, seed: str = "") -> dict[str, list[str]]:
    """article id -> annotators. Deterministic: the same inputs give the same split.

    Articles are ordered by a hash of (seed, id) and dealt round-robin; the first `overlap` share of
    them also goes to the next annotator in the rotation, so pairs are spread evenly.
    """
    names = list(dict.fromkeys(a.strip() for a in annotators if a.strip()))
    if not names:
        raise StoreError("--annotators: give at least one name, e.g. --annotators amina,omar")
    bad = [n for n in names if not valid_name(n)]
    if bad:
        raise StoreError(f"--annotators: {bad[0]!r} is not a valid name ({ANNOTATOR_HELP})")
    if not 0 <= overlap <= 1:
        raise StoreError(f"--overlap must be between 0 and 1, got {overlap}")
    if overlap > 0 and len(names) < 2:
        raise StoreError("--overlap needs at least two annotators")
    order = sorted(article_ids, key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest())
    doubled = round(len(order) * overlap)
    out: dict[str, list[str]] = {}
    for n, article_id in enumerate(order):
        first = names[n % len(names)]
        out[article_id] = [first] if n >= doubled else [first, names[(n + 1) % len(names)]]
    return out


def save(workspace_path: Path, assignment: dict[str, list[str]]) -> None:
    write_atomic(workspace_path / ASSIGNMENTS_FILE,
                 json.dumps(assignment, ensure_ascii=False, indent=0).encode("utf-8"))


def load(workspace_path: Path) -> dict[str, list[str]]:
    """The saved assignment ({} when there is none); a damaged file is a one-line StoreError."""
    path = workspace_path / ASSIGNMENTS_FILE
    try:
        data = loads(path.read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:  # (storage.loads turns nesting too deep into a ValueError)
        raise StoreError(f"{path}: cannot read assignments ({(str(exc).splitlines() or [repr(exc)])[0]})") from exc
    if not isinstance(data, dict):
        raise StoreError(f"{path}: expected an object of article id -> list of annotators")
    for article_id, names in data.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise StoreError(f"{path}: article {article_id!r}: expected a list of annotator names")
    return data


def summary(assignment: dict[str, list[str]]) -> dict[str, dict[str, int]]:
    """Per annotator: articles assigned, and how many of them are shared with someone else."""
    out: dict[str, dict[str, int]] = {}
    for names in assignment.values():
        for name in names:
            row = out.setdefault(name, {"articles": 0, "shared": 0})
            row["articles"] += 1
            row["shared"] += len(names) > 1
    return out
