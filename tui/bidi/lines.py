"""Screen lines: `Cell` (one drawn grapheme) and `VisualLine` (one row, with its column maps)."""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate


@dataclass(frozen=True, slots=True)
class Cell:
    """One drawn grapheme: shaped, mirrored text covering logical code points [start, end)."""

    text: str
    start: int
    end: int
    width: int


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
