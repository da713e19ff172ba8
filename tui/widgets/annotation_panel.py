"""The side panel: this annotator's annotations on the article, in text order; Enter jumps to one.

An article can hold thousands of annotations and suggestions: each row is one line whose text is laid out by
the bidi engine only when the row is first drawn (`Row`), so showing the panel costs what is on screen."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.content import Content
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from store import Annotation, Schema
from store.annotation.record import Kind
from store.assist.suggest import Suggestion
from store.wording import counted
from tui.bidi import DisplayOptions, display_options

SNIPPET = 26
"""Cells of a row's text where the panel's width is not known yet (`str(row)`)."""
TAG = 12
"""Cells of a row's label (or claim verdict), before its text."""


class Row(Visual):
    """One line of the panel: a label and the start of a text, laid out when drawn at the width it is drawn at
    (the text cut at its logical end, so an Arabic snippet keeps its first word, at the right)."""

    def __init__(self, options: DisplayOptions, tag: str, tag_style: str, text: str, text_style: str = "") -> None:
        self.options, self.tag, self.tag_style, self.text, self.text_style = options, tag, tag_style, text, text_style
        self._drawn: dict[int, Content] = {}

    def line(self, width: int) -> Text:
        """The row at `width` cells: the label padded to TAG cells, a space, the text's snippet."""
        tag = self.options.snippet(self.tag, TAG)
        snippet = self.options.snippet(self.text, max(1, width - TAG - 1))
        return Text.assemble((tag + " " * (TAG - cell_len(tag)) + " ", self.tag_style), (snippet, self.text_style),
                             no_wrap=True, end="")

    def __str__(self) -> str:
        return self.line(TAG + 1 + SNIPPET).plain

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return TAG + 1 + SNIPPET

    def get_height(self, rules: RulesMap, width: int) -> int:
        return 1

    def render_strips(self, width: int, height: int | None, style: Style, options: RenderOptions) -> list[Strip]:
        content = self._drawn.get(width)
        if content is None:
            content = self._drawn[width] = Content.from_rich_text(self.line(width))
        return content.render_strips(width, 1, style, options)


class AnnotationPanel(OptionList):
    """Lists annotations: credibility first, then entities and claims by position, then suggestions."""

    DEFAULT_CSS = """
    AnnotationPanel { width: 38; height: 1fr; border: none; border-left: solid $primary; }
    AnnotationPanel:focus { border: none; border-left: thick $accent; }
    """

    def show(self, rows: list[Annotation], schema: Schema, suggestions: list[Suggestion] = (),
             body: str = "") -> None:
        """Replace the list (annotations, then suggestions apart), keeping the highlighted item. Nothing is laid
        out here: a row's text is when the row is drawn."""
        options_ = display_options(self)
        keep = self.highlighted_option.id if self.highlighted_option is not None else None
        options = []
        for row in rows:
            if row["kind"] == Kind.CREDIBILITY:
                a = row["attributes"]
                score = f"{a['score']}/5" if a.get("score") is not None else "no score"
                label = Text.assemble(("★ ", "bold yellow"), f"credibility {score}",
                                      f"  {counted(len(a.get('indicators') or []), 'indicator')}",
                                      "  · note" if a.get("note") else "")
            else:
                colour = schema.entities[row["label"]].color if row["label"] in schema.entities else "default"
                entity = row["kind"] == Kind.ENTITY
                # a claim shows its verdict (from labels.toml)
                tag = row["label"] if entity else (row["attributes"].get("verdict") or "claim")
                label = Row(options_, tag, f"bold {colour}" if entity else "underline", row["text"])
            options.append(Option(label, id=row["id"]))
        if suggestions:
            options.append(Option(Text(f"── {counted(len(suggestions), 'suggestion')} (a accept, x reject, A all) ──",
                                       style="dim"), disabled=True))
        for s in suggestions:
            options.append(Option(Row(options_, s.label, "dim italic", body[s.start:s.end], "dim"),
                                  id=f"suggestion:{s.start}:{s.end}:{s.label}"))
        self.clear_options()
        self.add_options(options)
        if keep is not None:
            try:
                self.highlighted = self.get_option_index(keep)
            except Exception:  # noqa: BLE001 - the option was removed
                pass
