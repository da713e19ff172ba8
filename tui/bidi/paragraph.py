"""Lay out one paragraph: graphemes, greedy line breaks on the logical text, per-line reordering.

Levels are resolved once for the whole paragraph and shaping uses the whole paragraph, so a
line break changes neither; each line then gets L1, L2 (by grapheme, = L3) and L4.

The unit drawn in one cell is an extended grapheme cluster (UAX #29, the `regex` module's \\X): an emoji
ZWJ sequence, a flag (regional-indicator pair or tag sequence), an emoji with a skin tone, VS16 or keycap,
a Hangul syllable from jamo, a base with its combining marks (harakat included). Its code points are drawn in
logical order, never reversed, even in a right-to-left run; its width is rich's `cell_len` of the whole
cluster (what Textual's compositor measures). Two exceptions keep the bidi algorithm whole:

- a cluster whose code points do not all have the same embedding level (e.g. U+0600 ARABIC NUMBER SIGN,
  a Prepend character of class AN, before a Latin letter in a left-to-right paragraph) is cut where the
  level changes: each piece is a unit, reordered with its own level (bidi controls never sit inside a
  cluster: UAX #29 breaks around them);
- format characters of class BN (ZWJ, ZWNJ, tags) stay undrawn as before, except inside an emoji
  cluster (one holding an Extended_Pictographic character): there ZWJ and tag characters are part of
  the picture. A ZWJ or ZWNJ ending a cluster joins nothing that follows in it and is a hidden unit.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import repeat
from operator import add

import regex
from bidi.mirror import MIRRORED
from rich.cells import cell_len

from tui.bidi.direction import Direction
from tui.bidi.levels import REMOVED_CLASSES, resolve
from tui.bidi.lines import Cell, VisualLine, make_cells
from tui.bidi.reorder import line_levels, reorder
from tui.bidi.sanitize import BIDI_CONTROLS, REVEAL_SYMBOLS
from tui.bidi.shaping import ALEFS, LAM_LIKE, lam_alef, shape

TAB_WIDTH = 4
BREAK_SPACES = frozenset(" \t\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u205f\u3000")
# Zero-width characters that are not marks and would vanish: drawn as a visible stand-in.
_ZERO_WIDTH_SYMBOLS = {"\u2028": "↵", "\u2029": "¶"}
DOTTED_CIRCLE = "\u25cc"
_GRAPHEME = regex.compile(r"\X")
_NOT_OTHERS = regex.compile(r"[^\p{Grapheme_Cluster_Break=Other}]+")
"""Code points that may share a grapheme cluster: two code points of Grapheme_Cluster_Break Other are always in
two clusters (rule GB999)."""
_PICTOGRAPHIC = regex.compile(r"\p{Extended_Pictographic}")
_JOINERS = frozenset("\u200c\u200d")
_SLOW = re.compile("[" + re.escape("".join(sorted(BIDI_CONTROLS | set(MIRRORED)))) + "\t]|[" + LAM_LIKE
                   + "](?=[" + ALEFS + "])")
"""What make_units leaves to `_unit_at` besides clusters and X9-removed characters: bidi controls, TAB, a
character that may be mirrored, a lam before an alef (a lam-alef ligature if the lam is shaped initial or medial,
see `lam_alef`)."""

VIS, SPACE, HIDDEN = 0, 1, 2


Unit = tuple[int, int, int, int, str]
"""(kind, start, end, width, drawn text): a grapheme (VIS), a break space (SPACE) or an undrawn control (HIDDEN)
covering text[start:end]; drawn text is shaped and mirrored. Plain tuples: a paragraph makes one per grapheme."""
KIND, START, END, WIDTH, TEXT = range(5)


@lru_cache(maxsize=8192)
def _visible(text: str) -> tuple[str, int]:
    """Text and width to draw for a grapheme, never zero-width."""
    w = cell_len(text)
    if w > 0:
        return text, w
    ch = text[0]
    sub = _ZERO_WIDTH_SYMBOLS.get(ch) or (DOTTED_CIRCLE + text if unicodedata.category(ch)[0] == "M"
                                        else "\ufffd" + text[1:])
    return sub, max(1, cell_len(sub))


@lru_cache(maxsize=8192)
def _plain_unit(ch: str, form: str) -> tuple[int, int, str]:
    """(kind, width, drawn text) of the unit of a code point `ch`, shaped as `form`, that is a grapheme on its own
    and not left to `_unit_at` (`_SLOW`): a break space or a visible code point, never mirrored."""
    if ch in BREAK_SPACES:
        return SPACE, 1, " "
    drawn, w = _visible(form)
    return VIS, w, drawn


def multi_clusters(text: str) -> list[tuple[int, int]]:
    """Spans [start, end) of the extended grapheme clusters (UAX #29) of `text` holding more than one code point.

    Only stretches around code points that are not Other (`_NOT_OTHERS`) are split into clusters: each run of
    them with the code point either side, stretches that overlap merged. A stretch then starts and ends between
    two Others (or at an end of the text), where no rule looks across."""
    if text.isascii() and "\r\n" not in text:
        return []
    stretches: list[list[int]] = []
    for run in _NOT_OTHERS.finditer(text):
        a, b = max(0, run.start() - 1), run.end() + 1
        if stretches and a < stretches[-1][1]:
            stretches[-1][1] = b
        else:
            stretches.append([a, b])
    spans = []
    for a, b in stretches:
        for cluster in _GRAPHEME.findall(text[a:b]):
            if len(cluster) > 1:
                spans.append((a, a + len(cluster)))
            a += len(cluster)
    return spans


def cluster_ends(text: str, clusters: list[tuple[int, int]]) -> list[int]:
    """For each code point of `text`, the end of the extended grapheme cluster holding it, given the clusters of
    more than one code point (`multi_clusters`)."""
    ends = list(range(1, len(text) + 1))
    for s, e in clusters:
        ends[s:e] = repeat(e, e - s)
    return ends


@lru_cache(maxsize=4096)
def _is_emoji(cluster: str) -> bool:
    return _PICTOGRAPHIC.search(cluster) is not None


def make_units(text: str, levels: list[int], classes: list[str], shaped: list[str],
               width: int, reveal: bool, mirror: bool = True) -> list[Unit]:
    """Split a paragraph into units, one per grapheme cluster (see the module doc for the exceptions).
    Brackets are mirrored here (L4): their level is not changed by L1.

    Code points that are a grapheme on their own, neither a bidi control, X9-removed, a TAB, mirrored nor a lam
    that may join an alef, make one unit each, in bulk (`_plain_unit`); `_unit_at` makes the others one by one."""
    clusters = multi_clusters(text)
    ends = cluster_ends(text, clusters)
    n = len(text)
    special = [m.start() for m in _SLOW.finditer(text)]
    if not REMOVED_CLASSES.isdisjoint(classes):
        special += [k for k in range(n) if classes[k] in REMOVED_CLASSES]
    for s, e in clusters:  # a cluster of more than one code point: all but its last code point
        special += range(s, e - 1)
    special.sort()
    special.append(n)
    units: list[Unit] = []
    i = 0
    for s in special:
        if s < i:
            continue  # inside the unit made last
        if s > i:
            kinds, widths, drawn = zip(*map(_plain_unit, text[i:s], shaped[i:s]))
            units += zip(kinds, range(i, s), range(i + 1, s + 1), widths, drawn)
        if s == n:
            break
        unit = _unit_at(text, levels, classes, shaped, ends, s, min(TAB_WIDTH, width), reveal, mirror)
        units.append(unit)
        i = unit[END]
    return units


def _unit_at(text: str, levels: list[int], classes: list[str], shaped: list[str], ends: list[int], i: int,
             tab: int, reveal: bool, mirror: bool) -> Unit:
    """The unit starting at code point i."""
    ch = text[i]
    n = len(text)
    if ch in BIDI_CONTROLS or classes[i] in REMOVED_CLASSES:
        if reveal and ch in BIDI_CONTROLS:
            return VIS, i, i + 1, 1, REVEAL_SYMBOLS[ch]
        return HIDDEN, i, i + 1, 0, ""
    if ch == "\t":
        return SPACE, i, i + 1, tab, " " * tab
    j, emoji = _grapheme_end(text, levels, classes, ends, i)
    ligature = lam_alef(shaped[i], text[j]) if j < n and levels[j] == levels[i] else None
    if ligature is not None:  # lam (+ its marks) and alef (+ its marks) drawn as one cell
        k, _ = _grapheme_end(text, levels, classes, ends, j)
        drawn, w = _visible(ligature + _drawn(text, classes, i + 1, j, False)
                            + _drawn(text, classes, j + 1, k, False))
        return VIS, i, k, w, drawn
    if j == i + 1:
        if ch in BREAK_SPACES:
            return SPACE, i, j, 1, " "
        base = shaped[i]
    else:
        base = shaped[i] + _drawn(shaped, classes, i + 1, j, emoji)
    if mirror and levels[i] % 2 and ch in MIRRORED:
        base = MIRRORED[ch] + base[1:]
    drawn, w = _visible(base)
    return VIS, i, j, w, drawn


def _grapheme_end(text: str, levels: list[int], classes: list[str], ends: list[int],
                  i: int) -> tuple[int, bool]:
    """End of the unit starting at i (not a removed character), and whether it is an emoji cluster: the
    rest of i's grapheme cluster, cut where the embedding level changes, less a trailing ZWJ/ZWNJ (any
    trailing BN character outside emoji clusters), which is left to be a hidden unit."""
    e = ends[i]
    if e == i + 1:
        return e, False
    lv = levels[i]
    j = i + 1
    while j < e and text[j] not in BIDI_CONTROLS and (classes[j] in REMOVED_CLASSES or levels[j] == lv):
        j += 1
    emoji = _is_emoji(text[i:j])
    while j > i + 1 and classes[j - 1] in REMOVED_CLASSES and (text[j - 1] in _JOINERS or not emoji):
        j -= 1
    return j, emoji


def _drawn(chars: str | list[str], classes: list[str], a: int, b: int, emoji: bool) -> str:
    """chars[a:b] as drawn inside a cluster: BN format characters only inside emoji clusters."""
    if emoji:
        return "".join(chars[a:b])
    return "".join(chars[k] for k in range(a, b) if classes[k] not in REMOVED_CLASSES)


def break_lines(units: list[Unit], width: int) -> list[tuple[int, int]]:
    """Greedy line breaks as unit index ranges: break after spaces, hard-split words that don't fit."""
    lines = []
    a = i = 0
    used, cand, seen = 0, None, False
    n = len(units)
    while i < n:
        kind, _, _, w, _ = units[i]
        if kind == HIDDEN:
            i += 1
            continue
        if kind == SPACE:
            if seen:
                cand = i + 1
        elif used + w > width and (seen or used > 0):
            b = cand if cand is not None else i
            lines.append((a, b))
            a = i = b
            used, cand, seen = 0, None, False
            continue
        else:
            seen = True
        used += w
        i += 1
    lines.append((a, n))
    return lines


def _hung(units: list[Unit], a: int, b: int, last: bool, width: int) -> set[int]:
    """Indices of trailing break spaces of a line that are not drawn."""
    hung = set()
    if b <= a or units[b - 1][KIND] == VIS:
        return hung
    used = sum([u[WIDTH] for u in units[a:b]]) if last else 0  # only the last line keeps spaces that fit
    k = b - 1
    while k >= a and units[k][KIND] != VIS:
        if units[k][KIND] == SPACE and (not last or used > width):
            hung.add(k)
            used -= units[k][WIDTH]
        k -= 1
    return hung


def layout_paragraph(text: str, offset: int, index: int, width: int, direction: Direction,
                     shape_arabic: bool, reveal: bool, reorder_lines: bool = True) -> list[VisualLine]:
    """Visual lines of paragraph `text` (no newline), whose first code point is at `offset`.

    With `reorder_lines` False the cells of each line stay in logical order, unmirrored and
    left-aligned, for terminals that apply the bidi algorithm themselves.
    """
    info = resolve(text, direction)
    rtl = info.base_level % 2 == 1
    shaped = shape(text) if shape_arabic else list(text)
    units = make_units(text, info.levels, info.classes, shaped, width, reveal, mirror=reorder_lines)
    if not units:
        return [VisualLine([], width if rtl else 0, rtl, offset, offset, index)]
    ranges = break_lines(units, width)
    classes = info.classes
    # No X9-removed character and no bidi control: every unit is drawn and has a level (the common case).
    plain = REMOVED_CLASSES.isdisjoint(classes) and BIDI_CONTROLS.isdisjoint(text)
    out = []
    for r, (a, b) in enumerate(ranges):
        last = r == len(ranges) - 1
        start = units[a][START] if a < len(units) else len(text)
        end = len(text) if last else units[b][START]
        final = line_levels(info.levels, classes, info.para_levels, start, end)
        hung = _hung(units, a, b, last, width)
        if plain:
            line = units[a:b]
            if not reorder_lines:
                order = range(len(line))
            elif len(line) == end - start:  # one code point per unit
                order = reorder(final)
            else:
                order = reorder([final[u[START] - start] for u in line])
            if hung:  # hung spaces: the last units of the line
                order = filter((len(line) - len(hung)).__gt__, order)
            drawn = list(map(line.__getitem__, order))
        else:
            items = [k for k in range(a, b)
                     if units[k][KIND] != HIDDEN or classes[units[k][START]] not in REMOVED_CLASSES]
            item_levels = [None if classes[units[k][START]] in REMOVED_CLASSES else final[units[k][START] - start]
                           for k in items]
            if None in item_levels:  # revealed X9 characters
                item_levels = _fill_removed(item_levels, info.base_level)
            order = reorder(item_levels) if reorder_lines else range(len(items))
            drawn = [units[items[pos]] for pos in order
                     if units[items[pos]][KIND] != HIDDEN and items[pos] not in hung]
        cells, used = _cells(drawn, offset)
        indent = max(0, width - used) if rtl and reorder_lines else 0
        out.append(VisualLine(cells, indent, rtl, offset + start, offset + end, index))
    return out


def _cells(drawn: list[Unit], offset: int) -> tuple[list[Cell], int]:
    """The cells of units `drawn` (of a paragraph starting at `offset`), and their width."""
    if not drawn:
        return [], 0
    _, starts, ends, widths, texts = zip(*drawn)
    if offset:
        starts, ends = map(add, starts, repeat(offset)), map(add, ends, repeat(offset))
    return make_cells(texts, starts, ends, widths), sum(widths)


def _fill_removed(levels: list[int | None], base: int) -> list[int]:
    """Give revealed X9 characters the lower of their neighbours' levels: equal to a neighbour,
    so the others keep their order, and outside the run they open or close."""
    after: list[int | None] = []
    nxt = None
    for lv in reversed(levels):
        nxt = lv if lv is not None else nxt
        after.append(nxt)
    after.reverse()
    out: list[int] = []
    prev = None
    for lv, nxt in zip(levels, after):
        if lv is None:
            lv = min((x for x in (prev, nxt) if x is not None), default=base)
        else:
            prev = lv
        out.append(lv)
    return out
