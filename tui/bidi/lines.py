"""Screen lines: `Cell` (one drawn grapheme) and `VisualLine` (one row, with its column maps)."""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import accumulate


@dataclass(frozen=True, slots=True)
class Cell:
    """One drawn grapheme: shaped, mirrored text covering logical code points [start, end)."""

    text: str
    start: int
    end: int
    width: int


_SET_TEXT, _SET_START, _SET_END, _SET_WIDTH = (getattr(Cell, f).__set__ for f in ("text", "start", "end", "width"))
_new = object.__new__


def _cell(text: str, start: int, end: int, width: int) -> Cell:
    cell = _new(Cell)
    _SET_TEXT(cell, text)
    _SET_START(cell, start)
    _SET_END(cell, end)
    _SET_WIDTH(cell, width)
    return cell


def make_cells(texts: Iterable[str], starts: Iterable[int], ends: Iterable[int], widths: Iterable[int]) -> list[Cell]:
    """`[Cell(*fields) for fields in zip(texts, starts, ends, widths)]`, twice as fast: the fields are set through
    their slots, not by the frozen dataclass's `__init__`, which calls `object.__setattr__` for each."""
    return list(map(_cell, texts, starts, ends, widths))


@dataclass
class VisualLine:
    """One screen row of a laid-out paragraph, cells in left-to-right screen order."""

    cells: list[Cell]
    indent: int
    rtl: bool
    start: int
    end: int
    paragraph: int
    _columns: list[int] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.cells:
            self._columns = list(accumulate([c.width for c in self.cells[:-1]], initial=self.indent))

    @property
    def width(self) -> int:
        """Columns used by indent plus cells."""
        return self._columns[-1] + self.cells[-1].width if self.cells else self.indent

    @property
    def text(self) -> str:
        """The row exactly as drawn: indent spaces then every cell's text."""
        return " " * self.indent + "".join(c.text for c in self.cells)

    def offset_at(self, column: int) -> int | None:
        """Logical offset of the cell drawn at screen `column` (indent counted), None if blank."""
        if column < self.indent or not self.cells:
            return None
        i = bisect_right(self._columns, column) - 1
        cell = self.cells[i]
        return cell.start if column < self._columns[i] + cell.width else None

    def column_of(self, offset: int) -> int | None:
        """Screen column of the cell showing logical `offset`, None if no cell shows it."""
        for col, cell in zip(self._columns, self.cells):
            if cell.start <= offset < cell.end:
                return col
        return None
