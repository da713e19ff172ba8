"""The one list of exchange formats. export(), the labelled import (detection and reading) and the CLI's
help and choices all read FORMATS; each format is its own module's FORMAT (see store.exchange.format).

Order matters twice: it is the order of `--format` choices and help, and the order in which the formats
with a `sniff` are asked what a labelled file is (a record with both spaCy `spans` and doccano `label`
triples is spaCy's).
"""

from __future__ import annotations

from store.exchange import brat, conll, doccano, label_studio, ours, spacy_fmt
from store.exchange.format import Format

FORMATS: dict[str, Format] = {f.name: f for f in (
    ours.JSONL, ours.JSON, label_studio.FORMAT, spacy_fmt.FORMAT, doccano.FORMAT, conll.FORMAT, brat.FORMAT,
)}


def importable() -> dict[str, Format]:
    """The formats `tahqiq import` reads, by the name detect() gives their files (`imported_as`, else `name`),
    in FORMATS order; where two share a name (json and jsonl: `tahqiq`), the first listed."""
    out: dict[str, Format] = {}
    for f in FORMATS.values():
        if f.read is not None:
            out.setdefault(f.imported_as or f.name, f)
    return out


def import_help() -> str:
    """The labelled files tahqiq imports, for help and messages: "tahqiq json/jsonl, Label Studio JSON, ..."."""
    return ", ".join(dict.fromkeys(f.import_help or f.name for f in importable().values()))
