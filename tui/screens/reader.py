"""The reader screen: an article's metadata, the bidi-correct text, and everything to annotate it.

One file because ReaderScreen is one Textual screen: its key actions all work on the same article, cursor and
annotation display (`_do` applies a change, `refresh_annotations` shows it); the copying itself is tui.clipboard's
and the pages and forms it opens live in tui.dialogs and tui.screens.deliver."""

from __future__ import annotations

import json
from typing import Any

from rich.style import Style
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Header, Label, OptionList

from store import Annotation, StoreError
from store.annotation.history import History
from store.annotation.record import Kind, state_of
from store.assist.claim_rules import candidates
from store.assist.suggest import Suggestion
from store.search.query import find
from store.text.normalize import find_all
from store.text.sentences import sentence_at
from store.text.span_edges import moved_edge
from store.wording import counted
from tui import clipboard
from tui.bidi import BIDI_CONTROLS, inert
from tui.dialogs.claim_form import ClaimForm
from tui.dialogs.confirm import Confirm
from tui.dialogs.credibility_form import CredibilityForm
from tui.screens.base import AppScreen
from tui.screens.deliver import open_article_url
from tui.triage import Triage
from tui.widgets.annotation_panel import AnnotationPanel
from tui.widgets.article_view import ArticleView, Highlight
from tui.widgets.bidi_label import BidiLabel
from tui.widgets.footer import Footer

PANEL_MIN_WIDTH = 100
"""Below this many columns the side panel starts hidden (the panel key shows it)."""
CLAIM_STYLE = Style(underline=True)
SEARCH_STYLE = Style(bgcolor="#806000")


class ReaderScreen(AppScreen):
    """One article: read it, tag entities and claims, rate its credibility. Every change is saved at once."""

    BINDINGS = [
        Binding("escape,backspace", "app.pop_screen", "Back", id="back"),
        Binding("c", "claim", "Claim", id="claim"),
        Binding("1", "credibility(1)", "Cred 1", show=False, id="credibility-1"),
        Binding("2", "credibility(2)", "Cred 2", show=False, id="credibility-2"),
        Binding("3", "credibility(3)", "Cred 3", show=False, id="credibility-3"),
        Binding("4", "credibility(4)", "Cred 4", show=False, id="credibility-4"),
        Binding("5", "credibility(5)", "Cred 5", show=False, id="credibility-5"),
        Binding("i", "indicators", "Indicators", id="indicators"),
        Binding("x", "remove", "Remove", id="remove"),
        Binding("u", "undo", "Undo", id="undo"),
        Binding("ctrl+r", "redo", "Redo", id="redo"),
        Binding("g", "tag_everywhere", "Tag all", id="tag-everywhere"),
        Binding("less_than_sign", "adjust('start', 1)", "Shrink start", show=False, id="shrink-start"),
        Binding("greater_than_sign", "adjust('start', -1)", "Grow start", show=False, id="grow-start"),
        Binding("comma", "adjust('end', -1)", "Shrink end", show=False, id="shrink-end"),
        Binding("full_stop", "adjust('end', 1)", "Grow end", show=False, id="grow-end"),
        Binding("d", "done", "Done", id="done"),
        Binding("question_mark", "app.toggle_keys", "Keys", id="help"),
        Binding("n", "next_hit(1)", "Next hit", show=False, id="next-hit"),
        Binding("N", "next_hit(-1)", "Previous hit", show=False, id="previous-hit"),
        Binding("Y", "copy_citation", "Copy citation", show=False, id="copy-citation"),
        Binding("ctrl+e", "copy_annotations", "Copy annotations", show=False, id="copy-annotations"),
        Binding("ctrl+o", "open_url", "Open link", show=False, id="open-url"),
        Binding("a", "accept", "Accept", id="accept-suggestion"),
        Binding("A", "accept_all", "Accept all", show=False, id="accept-all-suggestions"),
        Binding("s", "triage_skip", "Skip", id="triage-skip"),
        Binding("b", "triage_back", "Back one", id="triage-back"),
        Binding("backslash", "toggle_panel", "Panel", id="toggle-panel"),
    ]

    def __init__(self, article_id: str, query: str | None = None, triage: Triage | None = None) -> None:
        super().__init__()
        self.search_query = query
        """The library search that opened this article: its hits are highlighted, n/N jump."""
        self.triage = triage
        """The triage session this article belongs to, if any: 1-5 and d decide and advance."""
        app = self.app
        self.article = app.workspace.article(article_id)
        self.body = self.article.body
        """The text, read (and checksum-checked) once: every later use takes it from here, not from disk.
        A text that cannot be read raises StoreError here, before the screen is shown."""
        self._controls = sum(ch in BIDI_CONTROLS for ch in self.body)
        self.schema = app.workspace.schema
        self.notes = app.workspace.annotations(app.annotator)
        self.history: History = app.history
        self.suggestions: list[Suggestion] = []
        """The suggestions shown (none until the annotations are first shown, just after the first paint)."""
        self._annotations_shown = False
        for entity in self.schema.entities.values():
            shown = inert(entity.key)  # a key from labels.toml may be any character: never drawn raw
            binding = Binding(entity.key, f"tag('{entity.label}')", entity.label, id=f"tag-{entity.label}",
                              key_display=shown if shown != entity.key else None)
            self._bindings.key_to_bindings.setdefault(binding.key, []).append(binding)

    def compose(self) -> ComposeResult:
        a = self.article
        yield Header()
        with Horizontal(id="reader-body"):
            with Vertical(id="main"):
                with Vertical(id="meta"):
                    yield BidiLabel(a.title, bold=True, id="title")
                    yield BidiLabel(self._meta_text(), id="byline")
                    if self.triage is not None:
                        yield Label("", id="triage-keys")
                yield ArticleView(self.body, id="article")
            yield AnnotationPanel(id="panel")
        yield Footer()

    def _meta_text(self) -> str:
        a = self.article
        parts = [a.source or "", a.date or "", a.byline or "", f"[{self._state()}]"]
        if self._controls:
            parts.append(f"⚠ {self._controls} bidi control characters (ctrl+t shows them)")
        return "  ·  ".join(p for p in parts if p)

    def _state(self) -> str:
        """This annotator's progress on the article: from the records once they are shown, before that from the
        summary the library read (the same answer, without reading every record of a large workspace first)."""
        if not self._annotations_shown:
            summary = self.app.workspace.summaries(self.app.annotator).get(self.article.id)
            return state_of(summary.state if summary else None, bool(summary and summary.records))
        return self.notes.state(self.article.id)

    def on_mount(self) -> None:
        self.view.focus()
        self.hits = find(self.body, self.search_query) if self.search_query else []
        if self.hits:
            self.view.set_highlights("search", [Highlight(s, e, SEARCH_STYLE) for s, e in self.hits])
            self.view.move_to_offset(self.hits[0][0])
            self.notify(f"{counted(len(self.hits), 'hit')} for {self.search_query!r}: n / N to move", timeout=3)
        else:
            saved = self.app.session.cursor(self.article.id)
            if saved is not None:
                self.view.move_to_offset(saved)
        if self.triage is not None:
            self.sub_title = self.triage.summary()
            self.query_one("#triage-keys", Label).update(self._triage_keys())
        # After the first paint: the text and its metadata are drawn first, then annotations, suggestions and
        # claim marks (their colours come a frame later; a large workspace's records may be read first).
        self.call_after_refresh(self._after_first_paint)

    def _after_first_paint(self) -> None:
        if not self.is_attached:
            return
        self.refresh_annotations()
        slow: list[str] = []
        try:
            marks = candidates(self.body, self.app.claim_rules, slow)
        except StoreError as exc:
            self.notify(str(exc), severity="error")
            marks = []
        for problem in slow:  # a rule that ran out of time: said once, then skipped for good
            self.notify(problem, severity="error", timeout=15)
        self.view.set_marks([(c.start, c.end) for c in marks])
        broken = self.notes.mismatches(self.article.id)
        if broken:
            self.notify(f"{counted(len(broken), 'saved annotation')} no longer match the text at their offsets; "
                        "they are shown as saved, not shifted", severity="warning", timeout=10)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("triage_skip", "triage_back"):
            return self.triage is not None
        if action in ("next_hit",):
            return bool(getattr(self, "hits", None))
        return True

    @on(ArticleView.CursorMoved)
    def remember_cursor(self, event: ArticleView.CursorMoved) -> None:
        self.app.session.set_cursor(self.article.id, event.start)  # in memory; saved on leaving and after a pause

    def on_unmount(self) -> None:
        self.app.session.save()

    def _keys(self, action: str) -> str:
        """The keys bound to `action` now (after keymap.toml), as the footer shows them."""
        keys = {self.app.get_key_display(b.binding)
                for b in self.active_bindings.values() if b.binding.action == action}
        return "/".join(sorted(keys)) or "?"

    def _triage_keys(self) -> str:
        """The triage keys line, from the bindings themselves."""
        rate = [self._keys(f"credibility({n})") for n in range(1, 6)]
        rate = "1-5" if rate == list("12345") else " ".join(rate)
        return (f"triage: {rate} rate and next · {self._keys('done')} done and next · "
                f"{self._keys('triage_skip')} skip · {self._keys('triage_back')} back one · "
                f"{self._keys('app.pop_screen')} stop")

    _panel_choice: bool | None = None
    """The panel shown (True) or hidden (False) by the panel key; None: by the terminal's width."""

    def on_resize(self, event: events.Resize) -> None:
        if self._panel_choice is None:
            self.query_one(AnnotationPanel).display = event.size.width >= PANEL_MIN_WIDTH

    def action_toggle_panel(self) -> None:
        """Show or hide the side panel (hidden by itself below PANEL_MIN_WIDTH columns)."""
        panel = self.query_one(AnnotationPanel)
        self._panel_choice = not panel.display
        panel.display = self._panel_choice
        if not panel.display and panel.has_focus:
            self.view.focus()

    @property
    def view(self) -> ArticleView:
        return self.query_one(ArticleView)

    # ----- showing annotations ------------------------------------------------------------------
    def refresh_annotations(self) -> None:
        """Repaint annotation colours and the side panel from what is saved."""
        rows = self.notes.for_article(self.article.id)
        spans = []
        for row in rows:
            if row["kind"] == Kind.CLAIM:
                spans.append(Highlight(row["start"], row["end"], CLAIM_STYLE))
            elif row["kind"] == Kind.ENTITY:
                colour = self.schema.entities[row["label"]].color if row["label"] in self.schema.entities else None
                spans.append(Highlight(row["start"], row["end"], Style(color=colour, bold=True)))
        # Claims first so an entity inside a claim keeps its colour and gains the underline.
        self.view.set_highlights("annotations", sorted(spans, key=lambda h: h.style is not CLAIM_STYLE))
        self.suggestions = self._suggestions(rows)
        self.view.set_highlights("suggestions", [
            Highlight(s.start, s.end, Style(color=self._colour(s.label), dim=True, italic=True))
            for s in self.suggestions])
        self.query_one(AnnotationPanel).show(rows, self.schema, suggestions=self.suggestions, body=self.body)
        self._annotations_shown = True
        self.query_one("#byline", BidiLabel).text = self._meta_text()
        self.query_one("#byline", BidiLabel).refresh(layout=True)

    def _colour(self, label: str) -> str | None:
        entity = self.schema.entities.get(label)
        return entity.color if entity else None

    _suggestions_waiting = False
    """The suggestion index was still being built when the annotations were last shown (so none were shown)."""

    def _suggestions(self, rows: list[Annotation]) -> list[Suggestion]:
        """Suggestions not overlapping this annotator's entities (a broken patterns file is reported once)."""
        try:
            taken = [(r["start"], r["end"]) for r in rows if r["kind"] == Kind.ENTITY]
            suggester = self.app.suggester_or_none()  # never waits: the app calls suggestions_ready later
            self._suggestions_waiting = suggester is None
            if suggester is None:
                return []
            found = suggester.for_article(self.article.id, taken)
            for problem in suggester.take_problems():  # a pattern that ran out of time: said once, then skipped
                self.notify(problem, severity="error", timeout=15)
            return found
        except StoreError as exc:
            if not getattr(self, "_suggest_error_shown", False):
                self._suggest_error_shown = True
                self.notify(str(exc), severity="error")
            return []

    def suggestions_ready(self) -> None:
        """A build of the suggestion index ended (the app calls this): show the suggestions, or why there are
        none, if this screen showed none for want of it; else what it shows is already what the index gives."""
        if self._suggestions_waiting:
            self.refresh_annotations()

    def suggestion_under_cursor(self) -> Suggestion | None:
        start, end = self.view.cursor_range()
        return next((s for s in self.suggestions if s.start < end and start < s.end), None)

    def annotation_under_cursor(self, kinds: tuple[Kind, ...] = (Kind.ENTITY, Kind.CLAIM)) -> Annotation | None:
        """The innermost span annotation covering the cursor word (entities before claims)."""
        start, end = self.view.cursor_range()
        hits = [r for r in self.notes.for_article(self.article.id)
                if r["kind"] in kinds and r["start"] is not None and r["start"] < end and start < r["end"]]
        hits.sort(key=lambda r: (r["kind"] != Kind.ENTITY, r["end"] - r["start"]))
        return hits[0] if hits else None

    def _do(self, change, *args: Any, refresh: bool = True, **kwargs: Any) -> Any:
        """Apply a change through the history and show the result (unless not `refresh`: the screen is about to
        be left); a refusal becomes a notice, never a crash."""
        try:
            result = change(*args, **kwargs)
        except StoreError as exc:
            self.notify(str(exc), severity="error")
            return None
        if refresh:
            self.refresh_annotations()
        if self.notes.unsaved:
            self.app.check_saved()
        return result

    # ----- actions ------------------------------------------------------------------------------
    def action_tag(self, label: str) -> None:
        """Tag the selection, or the word under the cursor, with an entity label."""
        start, end = self.view.cursor_range()
        record = self._do(self.history.add_entity, self.article.id, start, end, label)
        if record:
            self.view.anchor = None
            self.notify(f"{label}: {record['text']}", timeout=2)

    def action_accept(self) -> None:
        """Accept the suggestion under the cursor: it becomes this annotator's entity."""
        suggestion = self.suggestion_under_cursor()
        if suggestion is None:
            self.notify("No suggestion under the cursor", severity="warning", timeout=2)
            return
        self._do(self.history.add_entity, self.article.id, suggestion.start, suggestion.end, suggestion.label)

    def action_accept_all(self) -> None:
        """Accept every suggestion of the article (one undo step), after a confirmation."""
        pending = list(self.suggestions)
        if not pending:
            self.notify("No suggestions in this article", timeout=2)
            return

        def answer(yes: bool | None) -> None:
            if yes:
                by_label: dict[str, list[tuple[int, int]]] = {}
                for s in pending:
                    by_label.setdefault(s.label, []).append((s.start, s.end))
                added = sum(len(self._do(self.history.add_entities, self.article.id, spans, label) or [])
                            for label, spans in by_label.items())
                self.notify(f"Accepted {counted(added, 'suggestion')}")

        self.app.push_screen(Confirm(f"Accept all {counted(len(pending), 'suggestion')} in this article?"), answer)

    def action_tag_everywhere(self) -> None:
        """Tag every other occurrence of the entity under the cursor with its label."""
        entity = self.annotation_under_cursor((Kind.ENTITY,))
        if entity is None:
            self.notify("Put the cursor on a tagged entity first", severity="warning")
            return
        spans = [s for s in find_all(self.body, entity["text"], clitics=True)
                 if s != (entity["start"], entity["end"])]
        added = self._do(self.history.add_entities, self.article.id, spans, entity["label"])
        if added is not None:
            self.notify(f"Tagged {len(added)} more {entity['label']} ({len(spans) - len(added)} already tagged "
                        "or overlapping)")

    def action_adjust(self, edge: str, step: int) -> None:
        """Move one end of the entity under the cursor by one character (for clitics like و ب ال)."""
        entity = self.annotation_under_cursor((Kind.ENTITY,))
        if entity is None:
            self.notify("Put the cursor on a tagged entity first", severity="warning")
            return
        start, end = moved_edge(self.body, entity["start"], entity["end"], edge, step)
        self._do(self.history.update, entity["id"], start=start, end=end)

    def action_claim(self) -> None:
        """Mark the selection, or the sentence under the cursor, as a claim and open its form."""
        selection = self.view.selection_range()
        span = selection or sentence_at(self.body, self.view.cursor_range()[0])
        if span is None:
            return
        start, end = span
        claimants = [(f"{r['label']} {r['text']}", r["id"]) for r in self.notes.for_article(self.article.id)
                     if r["kind"] == Kind.ENTITY]

        def save(values: dict[str, Any] | None) -> None:
            if values is not None and self._do(self.history.add_claim, self.article.id, start, end, **values):
                self.view.anchor = None

        self.app.push_screen(ClaimForm(self.body[start:end], self.schema.claim_attributes, claimants), save)

    def action_credibility(self, score: int) -> None:
        """Rate the article; in triage, go on to the next one (this screen is only redrawn if it stays)."""
        if self._do(self.history.set_credibility, self.article.id, score, refresh=self.triage is None):
            self.notify(f"Credibility {score}/5", timeout=2)
            if self.triage is not None and not self._triage_next(decided=True):
                self.refresh_annotations()

    def action_indicators(self) -> None:
        """Open the credibility form: score (unset until chosen), indicators and a note."""
        current = next((r for r in self.notes.for_article(self.article.id) if r["kind"] == Kind.CREDIBILITY), None)
        attrs = current["attributes"] if current else {}

        def save(values: dict[str, Any] | None) -> None:
            if values is None:
                return
            if values["score"] is None and not values["indicators"] and not values["note"]:
                if current is not None:  # everything cleared: the record goes (undo brings it back)
                    self._do(self.history.remove, current["id"])
                else:
                    self.notify("Nothing saved: no score, indicator or note chosen", timeout=3)
                return
            self._do(self.history.set_credibility, self.article.id, values["score"],
                     indicators=values["indicators"], note=values["note"])

        self.app.push_screen(CredibilityForm(self.schema.indicators, attrs.get("score"),
                                             attrs.get("indicators") or [], attrs.get("note")), save)

    def action_remove(self) -> None:
        """Remove the annotation under the cursor, or else reject the suggestion there (for good)."""
        target = self.annotation_under_cursor()
        if target is not None:
            self._do(self.history.remove, target["id"])
            return
        suggestion = self.suggestion_under_cursor()
        if suggestion is None:
            self.notify("Nothing to remove under the cursor", severity="warning")
            return
        self._do(self.app.suggester.rejections.add, self.article.id, *suggestion.key)

    def action_undo(self) -> None:
        if self._do(self.history.undo) is None:
            self.notify("Nothing to undo", timeout=2)

    def action_redo(self) -> None:
        if self._do(self.history.redo) is None:
            self.notify("Nothing to redo", timeout=2)

    def action_done(self) -> None:
        """Mark the article done (or back in progress); in triage, marking it done goes on to the next one (this
        screen is only redrawn if it stays)."""
        done = self.notes.state(self.article.id) == "done"
        advance = self.triage is not None and not done
        self._do(self.notes.set_state, self.article.id, "in progress" if done else "done", refresh=not advance)
        if advance and not self._triage_next(decided=True):
            self.refresh_annotations()

    # ----- search hits, clipboard, triage -------------------------------------------------------
    def action_next_hit(self, step: int) -> None:
        """Jump to the next (or previous) search hit after the cursor, wrapping around."""
        here = self.view.words[self.view.cursor][0]
        starts = [s for s, _ in self.hits]
        later = [s for s in starts if (s > here if step > 0 else s < here)]
        target = (min(later) if step > 0 else max(later)) if later else (starts[0] if step > 0 else starts[-1])
        self.view.move_to_offset(target)

    def _copy(self, text: str, what: str) -> None:
        """Copy through OSC 52 (works over SSH) and the local clipboard where there is one (tui.clipboard);
        say which."""
        local = "local clipboard" if clipboard.copy(self.app, text) else "no local clipboard"
        self.notify(f"Copied {what} ({len(text)} characters) via terminal (OSC 52) · {local}", timeout=3)

    def action_copy_citation(self) -> None:
        """Copy the selection or word with where it comes from: id, outlet, date, offsets, text."""
        start, end = self.view.cursor_range()
        a = self.article
        self._copy(f"«{self.body[start:end]}» — {a.source or '?'}, {a.date or 'n.d.'}, article {a.id}, "
                   f"characters {start}-{end}", "citation")

    def action_copy_annotations(self) -> None:
        """Copy this article's annotations as our JSON record (the `json` export format)."""
        from store.exchange.records import Item, to_record  # not at the top: store.exchange costs opening ~50 ms

        item = Item(self.article, self.notes.annotator, self.notes.state(self.article.id),
                    self.notes.for_article(self.article.id), self.schema.paragraph_direction)
        self._copy(json.dumps(to_record(item), ensure_ascii=False, indent=1), "annotations")

    def action_open_url(self) -> None:
        """Open the article's URL: a new tab in a browser session; in a terminal, copy it (and open it where
        a desktop browser can be)."""
        open_article_url(self, self.article.url)

    def _triage_next(self, decided: bool) -> bool:
        """Go on to the triage's next article; whether this screen was left (see `_triage_show`)."""
        assert self.triage is not None
        following = self.triage.advance(decided)
        return self._triage_show(following)

    def _triage_show(self, article_id: str | None) -> bool:
        """Show `article_id` in place of this screen, or end the triage when None; False if this screen stays (the
        article's text cannot be read)."""
        if article_id is None:
            self.notify(f"Triage finished: {self.triage.decided} decided", timeout=5)  # type: ignore[union-attr]
            self.app.pop_screen()
            return True
        try:
            following = ReaderScreen(article_id, triage=self.triage)
        except StoreError as exc:  # a text that cannot be read: say so, stay here
            self.notify(str(exc), severity="error", timeout=15)
            return False
        self.app.switch_screen(following)
        return True

    def action_triage_skip(self) -> None:
        self._triage_next(decided=False)

    def action_triage_back(self) -> None:
        assert self.triage is not None
        self._triage_show(self.triage.back())

    @on(OptionList.OptionSelected, "#panel")
    def jump_to(self, event: OptionList.OptionSelected) -> None:
        option_id = str(event.option.id)
        if option_id.startswith("suggestion:"):
            self.view.move_to_offset(int(option_id.split(":")[1]))
        else:
            try:
                row = self.notes.get(option_id)
            except StoreError:
                return
            if row["start"] is not None:
                self.view.move_to_offset(row["start"])
        self.view.focus()
