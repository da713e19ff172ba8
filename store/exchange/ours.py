"""Our own format: `jsonl` (one record a line) and `json` (an array of the same records).

Each record is validated by tahqiq.schema.json; offsets count code points into `text`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from typing import Any, TextIO

from store.db.storage import dumps
from store.exchange.records import Context, Item, json_safe, to_record


def _dumps(record: dict[str, Any]) -> str:
    """One record as compact JSON (orjson when installed: export is mostly this)."""
    return json_safe(dumps(record).decode("utf-8"))  # no raw DEL, C1 or bidi control on a terminal


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) shipped with the package, for a record or an array of records."""
    return json.loads(resources.files(__package__).joinpath("tahqiq.schema.json").read_text("utf-8"))


def write_jsonl(items: Iterable[Item], out: TextIO, ctx: Context) -> None:
    write = out.write
    for item in items:
        ctx.saw(item)
        write(_dumps(to_record(item)))
        write("\n")


def write_json(items: Iterable[Item], out: TextIO, ctx: Context) -> None:
    write = out.write
    sep = "[\n"
    for item in items:
        ctx.saw(item)
        write(sep)
        write(_dumps(to_record(item)))
        sep = ",\n"
    write("[]\n" if sep == "[\n" else "\n]\n")
