"""The side panel: this annotator's annotations on the article, in text order; Enter jumps to one."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from store import Annotation, Schema
from store.annotation.record import Kind
from store.assist.suggest import Suggestion
from store.wording import counted
from tui.bidi import display_options

SNIPPET = 26


class AnnotationPanel(OptionList):
    """Lists annotations: credibility first, then entities and claims by position."""

    DEFAULT_CSS = """
    AnnotationPanel { width: 38; height: 1fr; border: none; border-left: solid $primary; }
    AnnotationPanel:focus { border: none; border-left: thick $accent; }
    """

    def show(self, rows: list[Annotation], schema: Schema, suggestions: list[Suggestion] = (),
             body: str = "") -> None:
        """Replace the list (annotations, then suggestions apart), keeping the highlighted item."""
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
                tag = row["label"] if row["kind"] == Kind.ENTITY else (row["attributes"].get("verdict") or "claim")
                snippet = options_.snippet(row["text"], SNIPPET)
                style = f"bold {colour}" if row["kind"] == Kind.ENTITY else "underline"
                # a verdict from labels.toml
                label = Text.assemble((f"{options_.snippet(tag, 12):<12} ", style), snippet)
            options.append(Option(label, id=row["id"]))
        if suggestions:
            options.append(Option(Text(f"── {counted(len(suggestions), 'suggestion')} (a accept, x reject, A all) ──",
                                       style="dim"), disabled=True))
        for s in suggestions:
            snippet = options_.snippet(body[s.start:s.end], SNIPPET)
            label = Text.assemble((f"{options_.snippet(s.label, 12):<12} ", "dim italic"), (snippet, "dim"))
            options.append(Option(label, id=f"suggestion:{s.start}:{s.end}:{s.label}"))
        self.clear_options()
        self.add_options(options)
        if keep is not None:
            try:
                self.highlighted = self.get_option_index(keep)
            except Exception:  # noqa: BLE001 - the option was removed
                pass
