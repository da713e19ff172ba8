"""Lazy layout of a whole text: paragraphs split on "\\n", laid out only as rows are asked for.

`direction` is "ltr", "rtl", "auto" (UAX #9 P2-P3) or a rule callable (see tui.bidi.direction), e.g. the
workspace's `store.text.direction.paragraph_rule("arabic")`: a paragraph holding any character of class AL or R is
right to left, else P2-P3 decide.
"""
from __future__ import annotations

from bisect import bisect_right

from rich.cells import cell_len

from tui.bidi.direction import DIRECTIONS as DIRECTIONS  # re-exported: the directions known by name
from tui.bidi.direction import Direction, base_direction, check_direction
from tui.bidi.lines import VisualLine
from tui.bidi.paragraph import layout_paragraph
from tui.bidi.sanitize import sanitize


class Layout:
    """Rows of `text` at `width` columns; `paragraphs_laid_out` counts the work done so far."""

    def __init__(self, text: str, width: int, direction: Direction = "auto", shape: bool = True,
                 reveal_controls: bool = False, reorder: bool = True) -> None:
        if width < 1:
            raise ValueError("width must be at least 1")
        self.text = sanitize(text)
        self.width = width
        self.direction = check_direction(direction)  # ValueError unless one of DIRECTIONS or a rule
        self.shape = shape
        self.reveal_controls = reveal_controls
        self.reorder = reorder
        self._starts = [0]
        pos = self.text.find("\n")
        while pos != -1:
            self._starts.append(pos + 1)
            pos = self.text.find("\n", pos + 1)
        self._rows: list[VisualLine] = []
        self._first_row: list[int] = []  # first row of each laid-out paragraph
        self.paragraphs_laid_out = 0
        self._directions: list[str] | None = None

    def _para_end(self, p: int) -> int:
        return self._starts[p + 1] - 1 if p + 1 < len(self._starts) else len(self.text)

    def _lay_out_next(self) -> bool:
        p = self.paragraphs_laid_out
        if p >= len(self._starts):
            return False
        start = self._starts[p]
        lines = layout_paragraph(self.text[start:self._para_end(p)], start, p, self.width,
                                 self.direction, self.shape, self.reveal_controls, self.reorder)
        self._first_row.append(len(self._rows))
        self._rows.extend(lines)
        self.paragraphs_laid_out = p + 1
        return True

    def __len__(self) -> int:
        while self._lay_out_next():
            pass
        return len(self._rows)

    def __iter__(self):
        row = 0
        while row < len(self._rows) or self._lay_out_next():
            if row < len(self._rows):
                yield self._rows[row]
                row += 1

    def line(self, row: int) -> VisualLine:
        """Row `row` (0-based), laying out only the paragraphs needed to reach it."""
        if row < 0:
            row += len(self)
        while row >= len(self._rows) and self._lay_out_next():
            pass
        if not 0 <= row < len(self._rows):
            raise IndexError(f"row {row} out of range")
        return self._rows[row]

    def row_of(self, offset: int) -> tuple[int, int]:
        """(row, column) showing logical `offset`; undrawn offsets go to the next drawn cell of
        their line, else to the line's logical end (right of an LTR line, left of an RTL one)."""
        offset = max(0, min(offset, len(self.text)))
        p = bisect_right(self._starts, offset) - 1
        while self.paragraphs_laid_out <= p:
            self._lay_out_next()
        first = self._first_row[p]
        last = self._first_row[p + 1] - 1 if p + 1 < len(self._first_row) else len(self._rows) - 1
        row = first
        while row < last and offset >= self._rows[row].end:
            row += 1
        line = self._rows[row]
        col = line.column_of(offset)
        if col is None:
            col = self._fallback_column(line, offset)
        return row, col

    def _fallback_column(self, line: VisualLine, offset: int) -> int:
        after = [c for c in line.cells if c.start > offset]
        if after:
            return line.column_of(min(after, key=lambda c: c.start).start)
        if line.rtl:
            return max(0, line.indent - 1)
        return min(line.width, self.width - 1) if line.cells else 0

    def offset_at(self, row: int, column: int) -> int | None:
        """Logical offset drawn at (row, column), None if blank or past the last row."""
        try:
            line = self.line(row)
        except IndexError:
            return None
        return line.offset_at(column)

    @property
    def paragraph_directions(self) -> list[str]:
        """"rtl" or "ltr" for each paragraph under the direction rule (P2/P3 where the rule leaves it to them)."""
        if self._directions is None:
            self._directions = [base_direction(self.text[s:self._para_end(p)], self.direction)
                                for p, s in enumerate(self._starts)]
        return self._directions


def layout(text: str, width: int, direction: Direction = "auto", shape: bool = True,
           reveal_controls: bool = False, reorder: bool = True) -> Layout:
    """Lay out `text` for a terminal `width` columns wide (lazily).

    `reorder=False` keeps logical order on each line (the `--bidi terminal` mode).
    """
    return Layout(text, width, direction, shape, reveal_controls, reorder)


def visual_snippet(text: str, width: int, **kw) -> str:
    """One line of `text` in visual order, at most `width` cells, for table cells and labels.

    Newlines become spaces; text that does not fit is cut at a word on its logical end (the left
    side of an RTL line) and marked with an ellipsis.
    """
    flat = " ".join(text.split())
    if not flat:
        return ""
    rows = layout(flat, max(1, width - 1), **kw)
    first = rows.line(0)
    drawn = "".join(c.text for c in first.cells)
    if first.end >= len(rows.text):
        return drawn
    return "…" + drawn if first.rtl and kw.get("reorder", True) else drawn + "…"


def visual_line(text: str, direction: Direction = "auto", **kw) -> str:
    """Each line of `text` in visual order without wrapping (for messages that the UI wraps itself)."""
    out = []
    for paragraph in text.split("\n"):
        if not paragraph:
            out.append("")
            continue
        rows = layout(paragraph, cell_len(paragraph) + 4, direction=direction, **kw)
        out.append("".join(c.text for c in rows.line(0).cells))
    return "\n".join(out)
