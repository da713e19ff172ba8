"""Review one article: every annotator's entities, claims and credibility side by side; build the gold set."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header

from store import StoreError
from store.annotators import GOLD
from store.team.review import majority, reviewers_view, set_gold, take_version
from store.wording import counted
from tui.bidi import display_options
from tui.screens.base import AppScreen
from tui.widgets.bidi_label import BidiLabel
from tui.widgets.footer import Footer


class ReviewScreen(AppScreen):
    """Disagreements are marked ≠. 1-9 take an annotator's version as gold, m the majority, space toggles
    one item in gold. Gold is saved at once, with who decided."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="review-back"),
        Binding("m", "majority", "Majority → gold", id="review-majority"),
        Binding("space", "toggle", "Toggle in gold", id="review-toggle"),
        *[Binding(str(n), f"take({n})", f"Take annotator {n}", show=n == 1, id=f"review-take-{n}")
          for n in range(1, 10)],
    ]
    DEFAULT_CSS = "ReviewScreen DataTable { height: 1fr; }"

    def __init__(self, article_id: str) -> None:
        super().__init__()
        self.article = self.app.workspace.article(article_id)

    def compose(self) -> ComposeResult:
        yield Header()
        yield BidiLabel(self.article.title, bold=True)
        yield DataTable(id="review", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_table()
        self.query_one(DataTable).focus()

    def refresh_table(self) -> None:
        """Rebuild the comparison from what is saved (annotators' work and the current gold)."""
        ws = self.app.workspace
        self.comparison = reviewers_view(ws, self.article.id)
        gold = reviewers_view(ws, self.article.id, [GOLD])
        self.gold_items = {(i.kind, i.start, i.end): i.labels[GOLD] for i in gold.items}
        table = self.query_one(DataTable)
        table.clear(columns=True)
        options = display_options(self)
        names = self.comparison.annotators
        table.add_column("", key="mark", width=1)
        table.add_column("kind", key="kind", width=6)
        table.add_column("text", key="text", width=34)
        for n, name in enumerate(names, 1):
            table.add_column(f"{n} {options.snippet(name, 16)}", key=f"a:{name}")
        table.add_column("gold", key="gold")
        scores = self.comparison.credibility
        table.add_row("≠" if len(set(scores.values())) > 1 else "", "cred", "credibility 1-5",
                      *[str(scores.get(n, "-")) for n in names], str(gold.credibility.get(GOLD, "-")), key="cred")
        for item in self.comparison.items:
            key = (item.kind, item.start, item.end)
            table.add_row(Text("" if item.agreed(names) else "≠", style="bold red"), item.kind,
                          options.cell(item.text, 34),
                          *[Text(options.snippet(item.labels.get(n, "·"), 32)) for n in names],  # file text: no markup
                          Text(options.snippet(self.gold_items.get(key, "·"), 32)),
                          key=f"{item.kind}:{item.start}:{item.end}")
        disagreements = sum(not i.agreed(names) for i in self.comparison.items)
        self.sub_title = f"{counted(len(names), 'annotator')} · {counted(disagreements, 'disagreement')}"

    def _gold_now(self) -> tuple[int | None, list[tuple[str, int, int, str]]]:
        gold = reviewers_view(self.app.workspace, self.article.id, [GOLD])
        return gold.credibility.get(GOLD), [(i.kind, i.start, i.end, i.labels[GOLD]) for i in gold.items]

    def _save(self, change, *args) -> None:
        try:
            change(*args)
        except StoreError as exc:
            self.notify(str(exc), severity="error")
        self.refresh_table()

    def action_take(self, n: int) -> None:
        names = self.comparison.annotators
        if not 1 <= n <= len(names):
            self.notify(f"No annotator {n} on this article", severity="warning")
            return
        self._save(take_version, self.app.workspace, self.article.id, names[n - 1], self.app.annotator)
        self.notify(f"Gold = {names[n - 1]}'s version", timeout=2)

    def action_majority(self) -> None:
        score, items, ties = majority(self.comparison)
        self._save(set_gold, self.app.workspace, self.article.id, self.app.annotator, score,
                   [(i.kind, i.start, i.end, i.labels["majority"]) for i in items])
        for tie in ties:
            self.notify(tie, severity="warning", timeout=6)

    @on(DataTable.RowSelected)
    def action_toggle(self) -> None:
        """Put the highlighted item into gold (with its majority label), or take it out."""
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return
        key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        if key == "cred":
            return
        kind, start, end = key.split(":")
        target = (kind, int(start), int(end))
        score, items = self._gold_now()
        kept = [i for i in items if i[:3] != target]
        if len(kept) == len(items):
            item = next(i for i in self.comparison.items if (i.kind, i.start, i.end) == target)
            label = max(sorted(set(item.labels.values())), key=list(item.labels.values()).count)
            kept.append((*target, label))
        self._save(set_gold, self.app.workspace, self.article.id, self.app.annotator, score, kept)
