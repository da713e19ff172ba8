"""Per-code-point bidi levels from python-bidi's debug dump.

python-bidi 0.6 has no public levels API; `get_display(debug=True)` prints the Rust `BidiInfo`
(levels per UTF-8 byte, resolved up to but not including rule L1). We parse it strictly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import chain, compress, repeat

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


_FIRST_BYTE = bytes(int(b & 0xC0 != 0x80) for b in range(256))
_DIGITS = bytes(b - 48 if 48 <= b <= 57 else b for b in range(256))  # ASCII digit -> its value
_ENTRY = len("\n        Level(\n            0,\n        ),")
_DIGIT = len("\n        Level(\n            ")


def _parse_levels(block: str, count: int) -> list[int]:
    """Levels from the (already validated) `levels` block; fast path when all are one digit."""
    if len(block) == _ENTRY * count:
        return list(block[_DIGIT::_ENTRY].encode("ascii").translate(_DIGITS))
    return [int(x[:-1]) for x in block.split()[1::3]]  # tokens "Level(", "N,", "),"


_TEXT = re.compile(r'(?:[^"\\\n]|\\.)*')
_TEXT_AT = len('BidiInfo {\n    text: "')
_CLASSES_AT = '",\n    original_classes: ['
_LEVELS_AT = '\n    ],\n    levels: ['
_LEVEL_FIRST = "\n        Level(\n            "
_LEVEL_NEXT, _LEVEL_LAST = ",\n        )," + _LEVEL_FIRST, ",\n        ),"
_ONE_PARAGRAPH = ("\n    ],\n    paragraphs: [\n        ParagraphInfo {{\n            range: 0..{n},\n"
                  "            level: Level(\n                {level},\n            ),\n        }},\n    ],\n}}")

_PARAGRAPH_LEVEL_AT = _ONE_PARAGRAPH.format(n="", level="\0").index("\0")


def _parse_common(dump: str, n: int) -> tuple[list[str], list[int], list[tuple[int, int, int]]] | None:
    """(classes, levels, paragraphs) of a dump of `n` UTF-8 bytes in the common shape: one paragraph, levels of
    one digit. Accepts only what `_DUMP` accepts, checking each part by rebuilding it (faster than the pattern);
    None for any other dump, which is then matched against `_DUMP`."""
    if not dump.startswith('BidiInfo {\n    text: "'):
        return None
    text_end = dump.find(_CLASSES_AT)  # the text holds no raw newline: its end is the first '",\n'
    if text_end < 0 or _TEXT.fullmatch(dump, _TEXT_AT, text_end) is None:
        return None
    at = text_end + len(_CLASSES_AT)
    levels_at = dump.find(_LEVELS_AT, at)
    if levels_at < 0:
        return None
    classes = dump[at:levels_at].replace(",", " ").split()
    joined = "".join(classes)
    if (len(classes) != n or not (joined.isascii() and joined.isalpha() and joined.isupper())
            or dump[at:levels_at] != "\n        " + ",\n        ".join(classes) + ","):
        return None
    at = levels_at + len(_LEVELS_AT)
    end = at + _ENTRY * n
    digits = dump[at + _DIGIT:end:_ENTRY]
    if not (digits.isascii() and digits.isdigit() and len(digits) == n) \
            or dump[at:end] != _LEVEL_FIRST + _LEVEL_NEXT.join(digits) + _LEVEL_LAST:
        return None
    level_at = end + _PARAGRAPH_LEVEL_AT + len(str(n))
    level = dump[level_at:level_at + 1]  # the paragraph's level, if the rest is _ONE_PARAGRAPH
    if not (level.isascii() and level.isdigit()) or dump[end:] != _ONE_PARAGRAPH.format(n=n, level=level):
        return None
    return classes, list(digits.encode("ascii").translate(_DIGITS)), [(0, n, int(level))]


LETTER_RUNS = re.compile("[\u0621-\u064a\u0671-\u06d3](?: ?[\u0621-\u064a\u0671-\u06d3])+"
                         "|[A-Za-z](?: ?[A-Za-z])+")
"""Two or more Arabic letters (all of class AL) or Latin ones (class L), with at most one space (WS) between two
letters: a "letter run", which python-bidi is given cut to its first letter.

UAX #9 gives each letter of a run the level of the first: the W rules change a class the same way for each (AL to
R) and ask whether a strong class comes before a number or inside brackets, never how many; a space between two
letters of the same class takes their direction (N1), hence their level (I1-I2). Cutting a run changes no other
character's level either: what each sees around it (the nearest strong classes, brackets, separators between
numbers) stays the same."""
_RUN_CLASS = {True: "L", False: "AL"}  # by whether the run is ASCII


def _shorten(text: str, runs: list[tuple[int, int]]) -> str:
    """`text` with each of `runs` cut to its first letter."""
    pieces = []
    done = 0
    for s, e in runs:
        pieces.append(text[done:s + 1])
        done = e
    pieces.append(text[done:])
    return "".join(pieces)


def _lengthen(text: str, runs: list[tuple[int, int]], short: Levels) -> Levels | None:
    """`short`, the levels of `text` with each of `runs` cut to its first letter, for the whole of `text`; None if
    python-bidi gave a run's letter an unexpected class."""
    counts = [1] * len(short.levels)  # how many code points of `text` each one of the short text stands for
    cut = 0
    for s, e in runs:
        if short.classes[s - cut] != _RUN_CLASS[text[s].isascii()]:
            return None
        counts[s - cut] = e - s
        cut += e - s - 1
    classes = list(chain.from_iterable(map(repeat, short.classes, counts)))
    space = text.find(" ")
    while space != -1:  # the spaces inside runs (U+0020 is WS everywhere)
        classes[space] = "WS"
        space = text.find(" ", space + 1)
    paras = short.para_levels
    if paras.count(short.base_level) == len(paras):  # every paragraph at the first one's level
        paras = [short.base_level] * len(text)
    else:
        paras = list(chain.from_iterable(map(repeat, paras, counts)))
    return Levels(list(chain.from_iterable(map(repeat, short.levels, counts))), classes, paras, short.base_level)


def resolve(text: str, direction: Direction = "auto") -> Levels:
    """Resolve bidi levels of `text` under `direction` (see tui.bidi.direction): "auto" = rules P2/P3 for each
    paragraph; a rule that imposes a direction on `text` fixes the base level of the whole text, which is then
    resolved with it forced.

    python-bidi resolves `text` with each letter run (`LETTER_RUNS`) cut to its first letter, whose level the
    rest of the run takes (`_lengthen`): a shorter dump to make and read."""
    forced = imposed_direction(text, direction)
    if not text:
        return Levels([], [], [], 1 if forced == "rtl" else 0)
    runs = [m.span() for m in LETTER_RUNS.finditer(text)]
    if runs:
        levels = _lengthen(text, runs, _resolve_dump(_shorten(text, runs), forced))
        if levels is not None:
            return levels
    return _resolve_dump(text, forced)


def _resolve_dump(text: str, forced: str | None) -> Levels:
    """`resolve` of non-empty `text` from python-bidi's dump of it."""
    dump = get_display(text, base_dir=_BASE_DIR[forced], debug=True)
    data = text.encode("utf-8", "surrogatepass")
    n = len(data)
    parsed = _parse_common(dump, n) if isinstance(dump, str) else None
    if parsed is not None:
        byte_classes, byte_levels, paras = parsed
    else:
        m = _DUMP.fullmatch(dump) if isinstance(dump, str) else None
        if m is None:
            raise BidiDumpError(
                "unexpected python-bidi get_display(debug=True) format; "
                "tui.bidi.levels needs python-bidi>=0.6,<0.7: " + repr(str(dump)[:200])
            )
        byte_classes = m.group(1).replace(",", " ").split()
        byte_levels = _parse_levels(m.group(2), len(byte_classes))
        paras = [(int(a), int(b), int(lv)) for a, b, lv in _RANGE.findall(m.group(3))]
    if len(byte_classes) != n or len(byte_levels) != n or not paras:
        raise BidiDumpError(f"python-bidi dump has {len(byte_classes)} classes / {len(byte_levels)} "
                            f"levels for {n} UTF-8 bytes ({len(paras)} paragraphs)")
    if len(data) == len(text):  # ASCII: bytes are code points
        classes, levels = byte_classes, byte_levels
    else:
        first_bytes = data.translate(_FIRST_BYTE)  # 1 for the first byte of a code point, else 0
        classes = list(compress(byte_classes, first_bytes))
        levels = list(compress(byte_levels, first_bytes))
        if len(classes) != len(text):
            raise BidiDumpError("code point / UTF-8 byte mismatch")
    if len(paras) == 1:
        if paras[0][:2] != (0, n):
            raise BidiDumpError(f"paragraph range {paras[0][:2]} does not cover {n} bytes")
        para_levels = [paras[0][2]] * len(text)
    else:
        para_levels = []
        p = 0
        for s in (i for i, b in enumerate(data) if b & 0xC0 != 0x80):  # the first byte of each code point
            while s >= paras[p][1]:
                p += 1
            para_levels.append(paras[p][2])
    return Levels(levels, classes, para_levels, paras[0][2])
