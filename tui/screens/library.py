"""The library: every article with its state and figures; sort, filter, search, triage, open."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Header, Input, Label, ProgressBar

from store import StoreError
from store.search.index import SearchIndex
from store.search.query import context, corpus_counts, first_hit
from store.team.rows import EMPTY, SORTS, Filters, Rows, View, visible
from store.team.stats import LibraryRows, article_rows, workspace_stamp
from store.wording import counted
from tui.background import when_a_core_is_spare
from tui.bidi import display_options
from tui.screens.base import AppScreen
from tui.triage import Triage
from tui.widgets.article_table import ArticleTable, columns_for
from tui.widgets.bidi_input import BidiInput
from tui.widgets.bidi_label import BidiLabel
from tui.widgets.footer import Footer

POLL_SECONDS = 2.0
"""How often the library checks for teammates' saves."""
TEAM_IN_BACKGROUND_FROM = 5000
"""From this many articles, the first screen shows this annotator's figures and the team's (every other
annotator's database) follow from a background thread."""


class LibraryScreen(AppScreen):
    """The article list. `/` searches the corpus as you type; Enter opens; `t` starts triage."""

    BINDINGS = [
        Binding("slash", "search", "Search", id="search"),
        Binding("f", "filters", "Filter", id="filters"),
        Binding("s", "sort_next", "Sort", id="sort"),
        Binding("r", "sort_reverse", "Reverse", show=False, id="sort-reverse"),
        Binding("t", "triage", "Triage", id="triage"),
        Binding("v", "review", "Review", id="review"),
        Binding("a", "agreement", "Agreement", id="agreement"),
        Binding("e", "export", "Export", id="export"),
        Binding("escape", "clear_search", "Clear search", show=False, id="clear-search"),
        Binding("question_mark", "app.toggle_keys", "Keys", id="library-help"),
    ]

    def __init__(self) -> None:
        super().__init__()
        state = self.app.session.get("library", {})
        self.sort_key: str = state.get("sort", "state") if state.get("sort") in SORTS else "state"
        self.sort_reverse: bool = bool(state.get("reverse", False))
        self.filters = Filters(**{k: v for k, v in state.get("filters", {}).items()
                                  if k in Filters.__dataclass_fields__})
        self.rows: Rows | None = None
        """Every article's row (None until the first read, in on_mount)."""
        self._team_rows = LibraryRows(self.app.workspace, self.app.annotator)
        """Everyone's figures, kept: a refresh recomputes only the rows whose summaries changed."""
        self.query_text = ""
        self.hits: Mapping[str, int] = {}
        """Article id -> number of hits of the current search."""
        self._index: SearchIndex | None = None
        """The search index, opened by the first search (its list of ids is read then, not at start)."""
        self._told_problems: set[str] = set()
        """Problems with workspace files already shown (each is said once, not at every reload)."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield BidiInput(placeholder="/ search titles and bodies (Arabic spelling variants and harakat ignored)",
                        id="search")
        with Horizontal(id="status"):
            yield ProgressBar(id="progress", show_eta=False)
            yield Label("", id="progress-text", markup=False)
            yield Label("", id="filter-text", markup=False)
        yield ArticleTable(columns_for(self.app.size.width), id="articles")
        yield BidiLabel("", id="hit-context")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(ArticleTable)
        self._large = len(self.app.workspace.catalog().ids) >= TEAM_IN_BACKGROUND_FROM
        self.reload(team=not self._large)
        if self._large:
            self.query_one("#progress-text", Label).update(" loading the team's figures… ")
            self.app.when_idle(self._load_team)  # not while the user acts: the thread competes for the interpreter
        self.set_interval(POLL_SECONDS, self._poll)
        table.focus()
        last = self.app.session.get("last_article")
        if last is not None:
            self._select(last)

    def on_resize(self, event: events.Resize) -> None:
        table = self.query_one(ArticleTable)
        columns = columns_for(event.size.width)
        if columns != table.columns:
            table.columns = columns  # the cursor stays on its article

    def on_screen_resume(self) -> None:
        if workspace_stamp(self.app.workspace) != self._stamp:  # (not on the first show, right after mount)
            self._reread()

    def _reread(self) -> None:
        """The figures again, after the workspace changed on disk: a large one's off the UI thread (see
        TEAM_IN_BACKGROUND_FROM); a teammate starting a session at the same time as this one's start changes it."""
        self._load_team() if self._large else self.reload()

    @work(thread=True, exclusive=True, group="team")
    def _load_team(self) -> None:
        """Everyone's figures, read off the UI thread once a core is spare (tui.background); shown when ready."""
        when_a_core_is_spare(self._read_team)

    def _read_team(self) -> None:
        """(In that thread, with what the table shows of them: at 100,000 articles, ~50 ms of filtering,
        sorting and counting kept off the UI thread.)"""
        stamp = workspace_stamp(self.app.workspace)
        problems: list[str] = []
        rows = self._team_rows.rows(problems)
        view = self._view()
        shown = (view, self._visible(rows), rows.progress(self.app.annotator))
        self.app.call_from_thread(self._show_rows, rows, stamp, problems, shown)

    def _show_rows(self, rows: Rows, stamp: tuple, problems: list[str] = (), shown: tuple = ()) -> None:
        self.rows, self._stamp = rows, stamp
        self._tell(problems)
        self.refresh_table(shown[1:] if shown and shown[0] == self._view() else None)  # (unless changed since)

    def _view(self) -> tuple:
        """What decides which rows the table shows, and in which order, besides the rows."""
        return (tuple(vars(self.filters).items()), self.sort_key, self.sort_reverse, self.query_text, id(self.hits))

    def _tell(self, problems: list[str]) -> None:
        """Say each problem with a workspace file (a damaged assignments.json) once, not at every reload."""
        for problem in problems:
            if problem not in self._told_problems:
                self._told_problems.add(problem)
                self.notify(problem, severity="error", timeout=15)

    # ----- rows ---------------------------------------------------------------------------------
    def reload(self, team: bool = True) -> None:
        """Re-read figures from the workspace (after annotating, or what others saved); `team=False`: only
        this annotator's (see TEAM_IN_BACKGROUND_FROM)."""
        self._stamp = workspace_stamp(self.app.workspace)
        problems: list[str] = []
        self.rows = (self._team_rows.rows(problems) if team
                     else article_rows(self.app.workspace, self.app.annotator, team=False, problems=problems))
        self._tell(problems)
        self.refresh_table()

    def _poll(self) -> None:
        """Show what teammates saved within seconds, without a restart (re-read off the UI thread when large)."""
        if self.is_current and workspace_stamp(self.app.workspace) != self._stamp:
            self._reread()

    def visible_rows(self) -> View:
        """The rows the filters and the search keep, in the chosen order, those assigned to me first."""
        return self._visible(self.rows)

    def _visible(self, rows: Rows | None) -> View:
        if rows is None:
            return EMPTY
        return visible(rows, self.filters, self.sort_key, self.sort_reverse, self.hits if self.query_text else None)

    def refresh_table(self, shown: tuple | None = None) -> None:
        """Show the rows of the current sort, filter and search; the cursor stays on its article. `shown`: those
        rows and the progress figures, made already (`_read_team`)."""
        table = self.query_one(ArticleTable)
        view, (mine, team, total) = shown or (self.visible_rows(), self.rows.progress(self.app.annotator)
                                                if self.rows is not None else (0, 0, 0))
        table.show(view, keep=table.current_id or self.app.session.get("last_article"))
        bar = self.query_one(ProgressBar)
        bar.update(total=max(total, 1), progress=mine)
        self.query_one("#progress-text", Label).update(f" done: me {mine}/{total} · team {team}/{total} ")
        arrow = "↓" if self.sort_reverse else "↑"
        described = self.filters.describe()
        self.query_one("#filter-text", Label).update(display_options(self).line(
            f"sort {self.sort_key}{arrow}" + (f" · {described}" if described else "")
            + (f" · {counted(len(self.hits), 'article')} match" if self.query_text else "")))
        self.app.session.set("library", {"sort": self.sort_key, "reverse": self.sort_reverse,
                                         "filters": {k: v for k, v in vars(self.filters).items() if v is not None}})
        self._show_context()

    def current_id(self) -> str | None:
        return self.query_one(ArticleTable).current_id

    def _select(self, article_id: str) -> None:
        self.query_one(ArticleTable).select(article_id)  # False: the article is filtered out

    # ----- search -------------------------------------------------------------------------------
    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        self.run_search(event.value)

    @work(thread=True, exclusive=True, group="search")
    def run_search(self, query: str) -> None:
        """Search in a thread so typing stays responsive; only the latest query's result is shown."""
        if self._index is None:
            self._index = SearchIndex(self.app.workspace.path)
        hits = corpus_counts(self._index, self.app.workspace, query) if query.strip() else {}
        self.app.call_from_thread(self._show_hits, query, hits)

    def _show_hits(self, query: str, hits: Mapping[str, int]) -> None:
        self.query_text = query.strip()
        self.hits = hits
        self.refresh_table()

    @on(Input.Submitted, "#search")
    def search_submitted(self) -> None:
        self.query_one(ArticleTable).focus()

    def action_clear_search(self) -> None:
        box = self.query_one("#search", Input)
        if box.value:
            box.value = ""
        self.query_one(ArticleTable).focus()

    @on(ArticleTable.Highlighted)
    def _show_context(self, event: ArticleTable.Highlighted | None = None) -> None:
        label = self.query_one("#hit-context", BidiLabel)
        article_id = self.current_id()
        count = self.hits.get(article_id or "", 0) if self.query_text else 0
        hit = None
        if count:
            article = self.app.workspace.article(article_id)
            hit = first_hit(article.title, article.body, self.query_text)
        if hit is not None:
            text = article.title if hit.field == "title" else article.body
            excerpt, _, _ = context(text, hit.start, hit.end)
            label.text = f"{excerpt}  \u2066({counted(count, 'hit')})\u2069"  # (isolated: "(3 hits)", not "(hits 3)")
        else:
            label.text = ""
        label.refresh(layout=True)

    # ----- sort and filter ----------------------------------------------------------------------
    @on(ArticleTable.HeaderSelected)
    def header_clicked(self, event: ArticleTable.HeaderSelected) -> None:
        key = event.key
        self.sort_reverse = not self.sort_reverse if key == self.sort_key else False
        self.sort_key = key
        self.refresh_table()

    def action_sort_next(self) -> None:
        self.sort_key = SORTS[(SORTS.index(self.sort_key) + 1) % len(SORTS)]
        self.refresh_table()

    def action_sort_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self.refresh_table()

    def action_filters(self) -> None:
        from tui.dialogs.filter_form import FilterForm  # (this and the other screens' modules: not at the top,
        # where they cost the first screen ~20 ms)

        def apply(filters: Filters | None) -> None:
            if filters is not None:
                self.filters = filters
                self.refresh_table()

        sources = sorted({s for s in self.app.workspace.catalog().sources if s})
        self.app.push_screen(FilterForm(self.filters, sources, list(self.app.workspace.schema.entities) + ["CLAIM"],
                                        self.app.workspace.annotators()), apply)

    # ----- open and triage ----------------------------------------------------------------------
    @on(ArticleTable.Selected)
    def open_article(self, event: ArticleTable.Selected) -> None:
        article_id = event.article_id
        # The box may be ahead of the last finished search: open with what the user typed.
        typed = self.query_one("#search", Input).value.strip() if self.query_text else ""
        if self._open_reader(article_id, query=typed or None):
            self.app.session.set("last_article", article_id)

    def action_agreement(self) -> None:
        """Inter-annotator agreement on the articles more than one annotator did."""
        from tui.screens.agreement import AgreementScreen

        self.app.push_screen(AgreementScreen())

    def action_review(self) -> None:
        """Compare every annotator's work on the highlighted article and build the gold version."""
        from tui.screens.review import ReviewScreen

        article_id = self.current_id()
        if article_id is not None:
            self.app.push_screen(ReviewScreen(article_id))

    def action_export(self) -> None:
        """Export everyone's annotations as tahqiq JSONL: a download in a browser, ~/Downloads in a terminal."""
        from tui.screens.deliver import export_jsonl  # not at the top: it and store.exchange cost the start ~65 ms

        export_jsonl(self)

    def action_triage(self) -> None:
        """Go through the unfinished articles (of the current filter and search) one key per decision."""
        # (not done; only those assigned to me when any is: triage follows the assignment)
        queue = self.rows.unfinished(self.visible_rows().order) if self.rows is not None else []
        triage = Triage.resume(self.app.session, queue)
        if triage.current is None:
            self.notify("Nothing left to triage here", severity="information")
            return
        self._open_reader(triage.current, triage=triage)

    def _open_reader(self, article_id: str, **kwargs: Any) -> bool:
        """Open the reader on an article; if its text cannot be read (a damaged corpus.json or bodies.bin),
        say why in one line instead."""
        # Not at the top: the reader (its widgets and dialogs) adds ~45 ms to the app's start; the library comes first.
        from tui.screens.reader import ReaderScreen

        try:
            reader = ReaderScreen(article_id, **kwargs)
        except StoreError as exc:
            self.notify(str(exc), severity="error", timeout=15)
            return False
        self.app.push_screen(reader)
        return True
