"""How text reaches the screen, decided once per app: bidi mode, letter joining, paragraph direction.

Every widget that draws text a user reads or types (the reader, labels, table cells, inputs, forms,
notifications) lays it out through one `DisplayOptions`, so `--bidi terminal`, `--no-shaping` and the
workspace's paragraph direction apply everywhere alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len

from tui.bidi.direction import Direction
from tui.bidi.layout import Layout, layout, visual_line, visual_snippet


@dataclass(frozen=True)
class DisplayOptions:
    """`reorder`: we put each line in visual order (`--bidi app`), else logical order for terminals that do
    bidi themselves; `shape`: join Arabic letters; `direction`: "ltr", "rtl", "auto" or the paragraph direction
    rule as a callable (see `tui.bidi.direction`; the app passes `store.text.direction.paragraph_rule(name)`)."""

    reorder: bool = True
    shape: bool = True
    direction: Direction = "auto"

    def layout(self, text: str, width: int, reveal_controls: bool = False) -> Layout:
        """Rows of `text` at `width` columns, laid out lazily."""
        return layout(text, width, direction=self.direction, shape=self.shape, reveal_controls=reveal_controls,
                      reorder=self.reorder)

    def snippet(self, text: str, width: int) -> str:
        """One line of at most `width` cells, cut at its logical end (see `visual_snippet`)."""
        return visual_snippet(text, width, direction=self.direction, shape=self.shape, reorder=self.reorder)

    def cell(self, text: str, width: int) -> str:
        """A snippet padded to `width` cells: right-aligned when it reads right to left (table cells)."""
        snippet = self.snippet(text, width)
        pad = " " * max(0, width - cell_len(snippet))
        return pad + snippet if self.reorder and self.is_rtl(text) else snippet + pad

    def line(self, text: str, direction: Direction = "ltr") -> str:
        """Each line of `text` in visual order, unwrapped (messages the UI wraps itself)."""
        return visual_line(text, direction, shape=self.shape, reorder=self.reorder)

    def is_rtl(self, text: str) -> bool:
        """Whether `text`'s first paragraph reads right to left under this direction rule."""
        flat = " ".join(text.split())
        return bool(flat) and layout(flat, 1, direction=self.direction).paragraph_directions[0] == "rtl"


DEFAULT_DISPLAY = DisplayOptions()
"""For widgets used outside a TahqiqApp (tests of a single widget)."""


def display_options(node: Any) -> DisplayOptions:
    """The display options of the app that `node` (a widget or screen) runs in: the app's `display_options`,
    or DEFAULT_DISPLAY in an app without them (a widget tested on its own)."""
    return getattr(node.app, "display_options", DEFAULT_DISPLAY)
