"""Word geometry on a laid-out text: which words a row shows, where a word is drawn, and where the arrow keys
take a word cursor. Pure (no Textual): the reader widget keeps the cursor and asks a Navigator where to go.

Left/right move on screen: to the next word drawn left/right of the cursor's word on its row, else to the
next row in text order (an RTL row continues on the row below when going left, an LTR row when going right),
entering it from the side the move goes in. Up/down move to the nearest row that shows a word, onto the word
whose middle is nearest the goal column (the cursor word's middle when the vertical moves began, kept over
short rows). A word drawn over several rows (wider than the row) is left, never re-entered by its next
piece. No move past the first or last word.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from tui.bidi.layout import Layout

MOVES = ("left", "right", "up", "down")

RowWords = list[tuple[int, int, int]]
"""(first column, last column, word index) of each word drawn on a row, left to right."""


def word_at(starts: Sequence[int], offset: int) -> int:
    """Index of the word at or just before a logical offset, given the words' (sorted) start offsets."""
    return max(0, bisect_right(starts, offset) - 1)


class Navigator:
    """Words `words` (sorted, non-overlapping logical spans [start, end)) as `layout` draws them. Rows are
    measured once, as they are asked for: build a new Navigator for a new layout."""

    def __init__(self, layout: Layout, words: Sequence[tuple[int, int]]) -> None:
        self.layout = layout
        self.words = words
        self._starts = [s for s, _ in words]
        self._rows: dict[int, RowWords] = {}

    def word_at(self, offset: int) -> int:
        """Index of the word at or just before a logical offset."""
        return word_at(self._starts, offset)

    def words_on_row(self, row: int) -> RowWords:
        """(first column, last column, word index) of each word shown on `row`, left to right; [] for a row
        with no word (or past the last row)."""
        if row not in self._rows:
            try:
                line = self.layout.line(row)
            except IndexError:
                return []
            spans: dict[int, list[int]] = {}
            column = line.indent
            for cell in line.cells:
                index = self.word_at(cell.start)
                start, end = self.words[index]
                if start <= cell.start < end:
                    cols = spans.setdefault(index, [column, column])
                    cols[0], cols[1] = min(cols[0], column), max(cols[1], column + cell.width - 1)
                column += cell.width
            self._rows[row] = sorted((a, b, i) for i, (a, b) in spans.items())
        return self._rows[row]

    def place(self, word: int) -> tuple[int, int, int]:
        """(row, first column, last column) of word `word` on screen (its first row if it wraps)."""
        row, col = self.layout.row_of(self.words[word][0])
        for a, b, i in self.words_on_row(row):
            if i == word:
                return row, a, b
        return row, col, col

    def next_row(self, row: int, step: int) -> int | None:
        """The nearest row after `row` (`step` 1) or before it (-1) that shows a word; None if none."""
        rows = len(self.layout)
        row += step
        while 0 <= row < rows:
            if self.words_on_row(row):
                return row
            row += step
        return None

    def target(self, word: int, move: str, goal_column: int | None = None) -> tuple[int | None, int | None]:
        """Where `move` (one of MOVES) takes a cursor on word `word`: (word index or None when it cannot
        move, the goal column to keep for the next move). Up/down keep `goal_column` (or start one at the
        word's middle); left/right forget it."""
        if move not in MOVES:
            raise ValueError(f"move must be one of {', '.join(MOVES)}, not {move!r}")
        row, first, last = self.place(word)
        if move in ("up", "down"):
            goal = goal_column if goal_column is not None else (first + last) // 2
            others = self._other_words(row, -1 if move == "up" else 1, word)
            if not others:
                return None, goal
            return min(others, key=lambda w: abs((w[0] + w[1]) / 2 - goal))[2], goal
        words = self.words_on_row(row)
        if move == "right":
            target = next((i for a, _, i in words if a > last), None)
        else:
            target = next((i for _, b, i in reversed(words) if b < first), None)
        if target is None:
            forward_in_text = (move == "right") != self.layout.line(row).rtl
            others = self._other_words(row, 1 if forward_in_text else -1, word)
            if others:
                target = others[0][2] if move == "right" else others[-1][2]
        return target, None

    def _other_words(self, row: int, step: int, word: int) -> RowWords:
        """The words of the nearest row past `row` that shows a word other than `word` (a word wider than
        the row goes on over several rows: the cursor leaves it, never lands on its own next piece)."""
        other = self.next_row(row, step)
        while other is not None:
            words = [w for w in self.words_on_row(other) if w[2] != word]
            if words:
                return words
            other = self.next_row(other, step)
        return []
