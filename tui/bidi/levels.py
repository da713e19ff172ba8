"""Per-code-point bidi levels from python-bidi's debug dump.

python-bidi 0.6 has no public levels API; `get_display(debug=True)` prints the Rust `BidiInfo`
(levels per UTF-8 byte, resolved up to but not including rule L1). We parse it strictly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bidi import get_display

from tui.bidi.direction import Direction, imposed_direction

# Classes whose characters rule X9 removes (they get no level of their own).
REMOVED_CLASSES = frozenset({"BN", "LRE", "RLE", "LRO", "RLO", "PDF"})
_BASE_DIR = {"ltr": "L", "rtl": "R", None: None}

_DUMP = re.compile(
    r'BidiInfo \{\n'
    r'    text: "(?:[^"\\\n]|\\.)*",\n'
    r'    original_classes: \[((?:\n        [A-Z]+,)*)(?:\n    )?\],\n'
    r'    levels: \[((?:\n        Level\(\n            \d+,\n        \),)*)(?:\n    )?\],\n'
    r'    paragraphs: \[((?:\n        ParagraphInfo \{\n            range: \d+\.\.\d+,\n'
    r'            level: Level\(\n                \d+,\n            \),\n        \},)*)(?:\n    )?\],\n'
    r'\}'
)
_RANGE = re.compile(r"range: (\d+)\.\.(\d+),\n            level: Level\(\n                (\d+),")


class BidiDumpError(RuntimeError):
    """python-bidi's debug output no longer has the format this parser was written for."""


@dataclass(frozen=True, slots=True)
class Levels:
    """Resolved levels (before L1), bidi classes and paragraph levels, one entry per code point."""

    levels: list[int]
    classes: list[str]
    para_levels: list[int]
    base_level: int  # level of the first paragraph (0 when the text is empty and not forced RTL)


_ENTRY = len("\n        Level(\n            0,\n        ),")
_DIGIT = len("\n        Level(\n            ")


def _parse_levels(block: str, count: int) -> list[int]:
    """Levels from the (already validated) `levels` block; fast path when all are one digit."""
    if len(block) == _ENTRY * count:
        return [b - 48 for b in block[_DIGIT::_ENTRY].encode("ascii")]
    return [int(x[:-1]) for x in block.split()[1::3]]  # tokens "Level(", "N,", "),"


def resolve(text: str, direction: Direction = "auto") -> Levels:
    """Resolve bidi levels of `text` under `direction` (see tui.bidi.direction): "auto" = rules P2/P3 for each
    paragraph; a rule that imposes a direction on `text` fixes the base level of the whole text, which is then
    resolved with it forced."""
    forced = imposed_direction(text, direction)
    if not text:
        return Levels([], [], [], 1 if forced == "rtl" else 0)
    dump = get_display(text, base_dir=_BASE_DIR[forced], debug=True)
    m = _DUMP.fullmatch(dump) if isinstance(dump, str) else None
    if m is None:
        raise BidiDumpError(
            "unexpected python-bidi get_display(debug=True) format; "
            "tui.bidi.levels needs python-bidi>=0.6,<0.7: " + repr(str(dump)[:200])
        )
    byte_classes = m.group(1).replace(",", " ").split()
    byte_levels = _parse_levels(m.group(2), len(byte_classes))
    paras = [(int(a), int(b), int(lv)) for a, b, lv in _RANGE.findall(m.group(3))]
    data = text.encode("utf-8", "surrogatepass")
    n = len(data)
    if len(byte_classes) != n or len(byte_levels) != n or not paras:
        raise BidiDumpError(f"python-bidi dump has {len(byte_classes)} classes / {len(byte_levels)} "
                            f"levels for {n} UTF-8 bytes ({len(paras)} paragraphs)")
    if len(data) == len(text):  # ASCII: bytes are code points
        starts = range(n)
        classes, levels = byte_classes, byte_levels
    else:
        starts = [i for i, b in enumerate(data) if b & 0xC0 != 0x80]
        if len(starts) != len(text):
            raise BidiDumpError("code point / UTF-8 byte mismatch")
        classes = [byte_classes[i] for i in starts]
        levels = [byte_levels[i] for i in starts]
    if len(paras) == 1:
        if paras[0][:2] != (0, n):
            raise BidiDumpError(f"paragraph range {paras[0][:2]} does not cover {n} bytes")
        para_levels = [paras[0][2]] * len(text)
    else:
        para_levels = []
        p = 0
        for s in starts:
            while s >= paras[p][1]:
                p += 1
            para_levels.append(paras[p][2])
    return Levels(levels, classes, para_levels, paras[0][2])
