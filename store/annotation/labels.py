"""The label schema (`labels.toml` in the workspace): entity types, claim attributes, credibility indicators."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from store.db.storage import TOO_DEEP
from store.errors import StoreError
from store.text.direction import DEFAULT_PARAGRAPH_DIRECTION, PARAGRAPH_DIRECTIONS

DEFAULT_LABELS_TOML = """\
# tahqiq label schema. Edit to add labels or change colours and keys; tahqiq checks it on start.
# Entity types follow ANERcorp (which spells PER as PERS). A key is one character, unique.
# Set nested_entities = true to allow an entity inside another (crossing spans are always refused).
nested_entities = false
# Which way a paragraph reads: "arabic" (any Arabic-script letter makes it right to left, even when it
# opens with "Apple" or a flag), "first-strong" (its first strong letter decides: Unicode bidi P2-P3),
# "rtl" or "ltr". Exports state the direction used; offsets are logical and never change with it.
paragraph_direction = "arabic"

[entities.PER]
name = "Person"
color = "#e06c75"
key = "p"

[entities.ORG]
name = "Organisation"
color = "#61afef"
key = "o"

[entities.LOC]
name = "Location"
color = "#98c379"
key = "l"

[entities.MISC]
name = "Miscellaneous"
color = "#c678dd"
key = "m"

[claims]
check_worthiness = ["check-worthy", "not check-worthy"]
type = ["statistic", "quote", "causal", "prediction", "other"]
verdict = ["unverified", "true", "false", "misleading", "unverifiable"]

[credibility]
indicators = ["named sources", "anonymous sources", "clickbait title", "emotional language", "verifiable numbers"]
"""

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class EntityLabel:
    """One entity type: its label (as exported), display name, colour and hotkey."""

    label: str
    name: str
    color: str
    key: str


@dataclass(frozen=True)
class Schema:
    """What can be tagged in this workspace."""

    entities: dict[str, EntityLabel]
    claim_attributes: dict[str, list[str]] = field(default_factory=dict)
    indicators: list[str] = field(default_factory=list)
    nested_entities: bool = False
    paragraph_direction: str = DEFAULT_PARAGRAPH_DIRECTION
    """How a paragraph's direction is decided: one of store.text.direction.PARAGRAPH_DIRECTIONS."""


def _line_of(text: str, table: str, key: str | None = None) -> int:
    """Line number of `[table]` (or of `key = ...` inside it) in the TOML text, for error messages."""
    lines = text.splitlines()
    header = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]") if table else None
    start = next((i for i, line in enumerate(lines) if header and header.match(line)), -1)
    if key is None:
        return start + 1 if start >= 0 else 1
    assignment = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for i in range(start + 1, len(lines)):
        if header and lines[i].lstrip().startswith("["):
            break
        if assignment.match(lines[i]):
            return i + 1
    return max(start, 0) + 1


def parse_schema(text: str, path: Path | str = "labels.toml") -> Schema:
    """Parse and check a schema; any problem is a StoreError naming the file, line and field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StoreError(f"{path}: {exc}") from exc
    except RecursionError:
        raise StoreError(f"{path}: {TOO_DEEP}") from None

    def fail(table: str, key: str | None, message: str) -> StoreError:
        return StoreError(f"{path}:{_line_of(text, table, key)}: {message}")

    entities: dict[str, EntityLabel] = {}
    keys: dict[str, str] = {}
    raw_entities = data.get("entities", {})
    if not isinstance(raw_entities, dict) or not raw_entities:
        raise fail("", None, "field 'entities': define at least one entity type, e.g. [entities.PER]")
    for label, spec in raw_entities.items():
        where = f"entities.{label}"
        if not _LABEL.match(label):
            raise fail(where, None, f"entity label {label!r}: use letters, digits, '-' or '_' (max 32)")
        if not isinstance(spec, dict):
            raise fail(where, None, f"entities.{label}: expected a table with name, color and key")
        color, key = spec.get("color", "#abb2bf"), spec.get("key")
        if not isinstance(color, str) or not _COLOR.match(color):
            raise fail(where, "color", f"entities.{label}.color: {color!r} is not a #rrggbb colour")
        if not isinstance(key, str) or len(key) != 1:
            raise fail(where, "key", f"entities.{label}.key: {key!r} must be one character")
        if key in keys:
            raise fail(where, "key", f"entities.{label}.key: {key!r} is already the key of {keys[key]}")
        keys[key] = label
        entities[label] = EntityLabel(label, str(spec.get("name", label)), color, key)

    claims = data.get("claims", {})
    if not isinstance(claims, dict):
        raise fail("claims", None, "field 'claims': expected a table")
    attributes: dict[str, list[str]] = {}
    for name, values in claims.items():
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            raise fail("claims", name, f"claims.{name}: expected a non-empty list of strings")
        attributes[name] = list(values)

    credibility = data.get("credibility", {})
    if not isinstance(credibility, dict):
        raise fail("", "credibility", "field 'credibility': expected a table, e.g. [credibility] with indicators")
    indicators = credibility.get("indicators", [])
    if not isinstance(indicators, list) or not all(isinstance(v, str) for v in indicators):
        raise fail("credibility", "indicators", "credibility.indicators: expected a list of strings")
    nested = data.get("nested_entities", False)
    if not isinstance(nested, bool):
        raise fail("", "nested_entities", "nested_entities: expected true or false")
    direction = data.get("paragraph_direction", DEFAULT_PARAGRAPH_DIRECTION)
    if direction not in PARAGRAPH_DIRECTIONS:
        choices = ", ".join(f'"{d}"' for d in PARAGRAPH_DIRECTIONS)
        raise fail("", "paragraph_direction", f"paragraph_direction: {direction!r} is not one of {choices}")
    return Schema(entities, attributes, list(indicators), nested, direction)


def load_schema(path: Path) -> Schema:
    """Read `labels.toml`; an unreadable file is a one-line StoreError."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path}: cannot read label schema ({exc})") from exc
    return parse_schema(text, path)
