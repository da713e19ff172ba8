"""A short piece of text (title, metadata) laid out by the bidi engine at the widget's width."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from tui.bidi import DisplayOptions, display_options


class BidiLabel(Widget):
    """Static text that wraps and aligns like the reader: RTL right-aligned, each line in visual order, drawn
    with the app's display options."""

    DEFAULT_CSS = "BidiLabel { height: auto; }"

    def __init__(self, text: str, *, bold: bool = False, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.text, self.bold = text, bold

    @property
    def options(self) -> DisplayOptions:
        return display_options(self)

    def _rows(self, width: int) -> list[str]:
        lines = self.options.layout(self.text, max(1, width))
        return [lines.line(r).text for r in range(len(lines))]

    def get_content_height(self, container, viewport, width: int) -> int:  # noqa: ANN001
        return max(1, len(self._rows(width)))

    def render(self) -> Text:
        return Text("\n".join(self._rows(self.content_region.width or 1)), no_wrap=True,
                    style=Style(bold=self.bold), end="")
