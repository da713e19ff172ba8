"""The key walk: every binding of every screen and dialog, pressed from every state a user gets into.

Pressing `4` then `i` in the reader crashed the app while every test passed: the tests exercised what we
built, not what a user does. This file presses *every* key that is bound where a key press goes, taken
from the bindings themselves (the app's, the screen's, the focused widget's and its ancestors', the class
BINDINGS, the ones added at run time such as the reader's entity keys from labels.toml, the screen's
active bindings), from each state below, and checks after each press that:

* the app still runs (no exception in an action, a handler or a worker: Textual records the first one in
  `app._exception`, sets `return_code`, exits, and `run_test` re-raises it on exit; all three are checked);
* any dialog it opened closes with escape, and the screen stack is one we expect;
* every saved record is consistent (offsets inside the body, text == body[start:end], credibility without
  offsets and a score in 1..5 or None, entity labels from the schema);
* nothing changed that the user did not choose: a key whose actions cannot change annotations changed
  none, `4` gives a score of 4, `p` adds PER.

Every (state, key) pair is pressed from that state: each state is built in a fresh app on a fresh copy of a
workspace prepared for it, and its `fingerprint` taken (screens, focus, widgets' cursors, selection and
scroll, everyone's saved annotations, undo history, session, theme, suggestions, triage). Before each key the
fingerprint must be that one again: if a key changed anything, the state is put back in place (the saved
records written back as they were, cursors, scroll, focus), or entered again from the library in the same
app, or else built in a fresh app; a state is never used unless its fingerprint is equal. A key that opens
a dialog is closed with escape; each dialog's own keys are walked in `test_every_key_of_every_dialog`.
All failures of a state are collected and reported at once, naming state, key and error.

Only `ctrl+q` is not pressed in the walk (it ends the app by design): `test_ctrl_q_quits_cleanly` presses it.
`ctrl+o` (open the article's link) and `e` (export) are pressed; the browser, the clipboard and the downloads
folder are replaced by harmless stand-ins so the walk never leaves this process or writes outside tmp.
"""

from __future__ import annotations

import ast
import asyncio
import copy
import json
import os
import re
import shutil
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import until_quiet, until_suggestions_built
from textual.binding import Binding, BindingsMap
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable

from store import Workspace
from store.db import journal
from store.text.sentences import sentence_at
from tui.app import make_app
from tui.screens.agreement import AgreementScreen
from tui.screens.library import LibraryScreen
from tui.screens.reader import ReaderScreen
from tui.screens.review import ReviewScreen
from tui.widgets.article_table import ArticleTable

SIZE = (120, 24)
"""The terminal the walk runs in: 24 rows (a classic terminal's height: every dialog still fits, the article and
the library's keys panel scroll) cost ~15% less per key than 36, as each key redraws fewer rows; 120 columns
keep the reader's side panel shown (below 100 it starts hidden)."""
ARTICLE = "52f015e52f40b84e"     # the seed the reader states use
OTHER = "73d8cda007db96f7"       # a seed where ARTICLE's tagged DGSN comes back as a suggestion
DGSN = "المديرية العامة للأمن الوطني"
PERSON = "بوبكر سبيك"
PLAIN_WORD = "تويتر"              # a word nothing is on in the fresh workspace
CLAIM_WORD = "الأخيرة"

NOT_WALKED = {
    "ctrl+q": "quits the app by design: test_ctrl_q_quits_cleanly",
}
"""Keys the walk does not press, with the reason (and where they are tested instead)."""

ANNOTATING_ACTIONS = {
    # reader
    "tag", "credibility", "indicators", "claim", "remove", "undo", "redo", "tag_everywhere", "adjust",
    "accept", "accept_all", "done",
    # review (writes gold, never the user's own annotations; listed for completeness)
    "take", "majority", "toggle",
}
"""Actions allowed to change the annotator's saved annotations. A key bound only to other actions (moving,
copying, sorting, opening a dialog that is then cancelled...) must leave them exactly as they were."""

PRESS_TIMEOUT = 20.0
"""Seconds one press (with the pause and the workers it starts) may take before it counts as a hang."""

SKIP_IN_FINGERPRINT = {"ToastRack", "Toast", "Tooltip", "Footer", "Header", "LoadingIndicator"}
"""Widgets whose state is not part of "the state" (notifications come and go, the footer rebuilds its keys)."""


# ----- the workspace prepared for a state -------------------------------------------------------------
def _span(ws: Workspace, article_id: str, text: str) -> tuple[int, int]:
    start = ws.article(article_id).body.index(text)
    return start, start + len(text)


def prepare_nothing(ws: Workspace) -> None:
    pass


def prepare_entity(ws: Workspace) -> None:
    ws.annotations("alice").add_entity(ARTICLE, *_span(ws, ARTICLE, PERSON), "PER")


def prepare_claim(ws: Workspace) -> None:
    body = ws.article(ARTICLE).body
    start, end = sentence_at(body, body.index(CLAIM_WORD))
    ws.annotations("alice").add_claim(ARTICLE, start, end)


def prepare_suggestion(ws: Workspace) -> None:
    ws.annotations("alice").add_entity(ARTICLE, *_span(ws, ARTICLE, DGSN), "ORG")


def prepare_disagreement(ws: Workspace) -> None:
    """alice and bob both did ARTICLE and disagree on a label, an entity and the score."""
    alice, bob = ws.annotations("alice"), ws.annotations("bob")
    alice.add_entity(ARTICLE, *_span(ws, ARTICLE, PERSON), "PER")
    bob.add_entity(ARTICLE, *_span(ws, ARTICLE, PERSON), "ORG")
    bob.add_entity(ARTICLE, *_span(ws, ARTICLE, PLAIN_WORD), "ORG")
    alice.set_credibility(ARTICLE, 2)
    bob.set_credibility(ARTICLE, 4)
    alice.set_state(ARTICLE, "done")
    bob.set_state(ARTICLE, "done")


# ----- one app, brought to a state ---------------------------------------------------------------------
@dataclass
class Run:
    """An app on its own copy of the state's workspace, inside `run_test`."""

    app: Any
    pilot: Any
    context: Any
    folder: Path
    error: BaseException | None = None

    @property
    def crashed(self) -> bool:
        return self.app._exception is not None or self.app.return_code is not None

    def crash_text(self) -> str:
        exc = self.app._exception
        if exc is None:
            return f"the app exited (return code {self.app.return_code})"
        return _last_lines(exc)

    async def stop(self) -> BaseException | None:
        """Leave run_test (which re-raises an exception the app died of) and close the workspace."""
        raised = None
        try:
            await self.context.__aexit__(None, None, None)
        except BaseException as exc:  # noqa: BLE001 - the app's own exception, reported by the caller
            raised = exc
        finally:
            self.app.workspace.close()
            shutil.rmtree(self.folder, ignore_errors=True)
        return raised


def _last_lines(exc: BaseException) -> str:
    """Where an exception was raised (the last frame) and what it says."""
    text = "".join(traceback.format_exception(exc)).rstrip().splitlines()
    where = [line.strip() for line in text if line.strip().startswith("File ")]
    return " | ".join(where[-1:] + text[-1:]) if where else text[-1]


@pytest.fixture(autouse=True)
def _quiet(quiet_waits: None) -> None:
    """Every press and pause here waits for the app to be done, not for 20 ms sleeps (conftest.quiet_waits)."""


async def settle(pilot) -> None:
    """Let every message, callback, refresh and worker started by the last step finish."""
    await until_quiet(pilot.app)


async def press(run: Run, key: str) -> None:
    await asyncio.wait_for(_press(run, key), PRESS_TIMEOUT)


async def _press(run: Run, key: str) -> None:
    await run.pilot.press(key)
    await settle(run.pilot)


async def select_row(run: Run, article_id: str) -> None:
    """Put the library's cursor on an article (where the arrow keys would take it)."""
    screen = run.app.screen
    assert isinstance(screen, LibraryScreen), screen
    assert screen.query_one(ArticleTable).select(article_id)
    await settle(run.pilot)
    assert screen.current_id() == article_id


async def open_article(run: Run, article_id: str = ARTICLE) -> ReaderScreen:
    await select_row(run, article_id)
    await press(run, "enter")
    screen = run.app.screen
    assert isinstance(screen, ReaderScreen) and screen.article.id == article_id, screen
    return screen


async def cursor_to(run: Run, text: str) -> None:
    screen = run.app.screen
    screen.view.move_to_offset(screen.article.body.index(text))
    await settle(run.pilot)


# The states: how each is entered once the app shows the library.
async def enter_library(run: Run) -> None:
    assert isinstance(run.app.screen, LibraryScreen)


async def enter_library_no_match(run: Run) -> None:
    """The library searched for a word no article holds: the table empty, and focused."""
    screen = run.app.screen
    screen.query_one("#search").value = "zzqqxx"
    await run.app.workers.wait_for_complete()
    await settle(run.pilot)
    table = screen.query_one(ArticleTable)
    table.focus()
    await settle(run.pilot)
    assert not table.rows and screen.query_text == "zzqqxx"


async def enter_reader_empty(run: Run) -> None:
    await open_article(run)
    await cursor_to(run, PLAIN_WORD)


async def enter_reader_entity(run: Run) -> None:
    screen = await open_article(run)
    await cursor_to(run, PERSON)
    assert screen.annotation_under_cursor(("entity",)) is not None


async def enter_reader_claim(run: Run) -> None:
    screen = await open_article(run)
    await cursor_to(run, CLAIM_WORD)
    under = screen.annotation_under_cursor()
    assert under is not None and under["kind"] == "claim", under


async def enter_reader_credibility(run: Run) -> None:
    await open_article(run)
    await cursor_to(run, PLAIN_WORD)
    await press(run, "4")
    assert any(r["kind"] == "credibility" for r in _notes(run.app, "alice"))


async def enter_reader_selection(run: Run) -> None:
    screen = await open_article(run)
    await cursor_to(run, PERSON)
    await press(run, "shift+left")
    assert screen.view.selection_range() is not None


async def enter_reader_suggestion(run: Run) -> None:
    screen = await open_article(run, OTHER)
    await cursor_to(run, DGSN)
    await until_suggestions_built(run.pilot, run.app)  # (built in the background once the user is idle)
    for _ in range(10):
        if screen.suggestion_under_cursor() is not None:
            return
        await run.pilot.pause(0.05)
        screen.refresh_annotations()
    raise AssertionError(f"no suggestion under the cursor; suggestions: {screen.suggestions}")


async def enter_reader_undo(run: Run) -> None:
    await open_article(run)
    await cursor_to(run, PLAIN_WORD)
    await press(run, "o")
    await press(run, "u")
    assert not [r for r in _notes(run.app, "alice") if r["kind"] == "entity"]


async def enter_reader_triage(run: Run) -> None:
    await press(run, "t")
    screen = run.app.screen
    assert isinstance(screen, ReaderScreen) and screen.triage is not None, screen


async def enter_review(run: Run) -> None:
    await select_row(run, ARTICLE)
    await press(run, "v")
    assert isinstance(run.app.screen, ReviewScreen)
    assert run.app.screen.comparison.annotators[:2] == ["alice", "bob"]


async def enter_agreement(run: Run) -> None:
    await press(run, "a")
    assert isinstance(run.app.screen, AgreementScreen)


@dataclass(frozen=True)
class State:
    name: str
    prepare: Callable[[Workspace], None]
    enter: Callable[[Run], Awaitable[None]]
    screen: type[Screen]
    must_bind: frozenset[str] = frozenset()
    """Keys the collection must find here: tests the collection itself."""


LIBRARY_KEYS = frozenset({"slash", "f", "s", "r", "t", "v", "a", "e", "f2", "ctrl+p", "question_mark", "enter",
                          "up", "down", "pageup", "pagedown", "home", "end", "ctrl+home", "ctrl+end"})
READER_KEYS = frozenset({"4", "i", "p", "o", "l", "m", "less_than_sign", "greater_than_sign", "comma",
                         "full_stop", "shift+left", "ctrl+p", "question_mark", "escape", "u", "ctrl+r", "A"})
STATES = [
    State("library", prepare_nothing, enter_library, LibraryScreen, LIBRARY_KEYS),
    State("library-no-match", prepare_nothing, enter_library_no_match, LibraryScreen, LIBRARY_KEYS),
    State("reader-empty", prepare_nothing, enter_reader_empty, ReaderScreen, READER_KEYS),
    State("reader-entity", prepare_entity, enter_reader_entity, ReaderScreen, READER_KEYS),
    State("reader-claim", prepare_claim, enter_reader_claim, ReaderScreen, READER_KEYS),
    State("reader-credibility", prepare_nothing, enter_reader_credibility, ReaderScreen, READER_KEYS),
    State("reader-selection", prepare_nothing, enter_reader_selection, ReaderScreen, READER_KEYS),
    State("reader-suggestion", prepare_suggestion, enter_reader_suggestion, ReaderScreen, READER_KEYS),
    State("reader-after-undo", prepare_nothing, enter_reader_undo, ReaderScreen, READER_KEYS),
    State("reader-triage", prepare_nothing, enter_reader_triage, ReaderScreen, READER_KEYS | {"s", "b"}),
    State("review", prepare_disagreement, enter_review, ReviewScreen, frozenset({"m", "space", "1", "9"})),
    State("agreement", prepare_disagreement, enter_agreement, AgreementScreen, frozenset({"r", "escape"})),
]
BY_NAME = {s.name: s for s in STATES}


@dataclass
class Walker:
    """Builds a state (and, for a dialog walk, opens the dialog on it) in fresh apps, presses keys from
    it, and collects every failure."""

    state: State
    seed: Path
    scratch: Path
    dialog: Dialog | None = None
    failures: list[str] = field(default_factory=list)
    opened: dict[str, str] = field(default_factory=dict)
    """Dialogs and panels keys opened: class name -> the first (state, key) that opened it."""
    launches: int = 0
    run: Run | None = None
    pre: Any = None
    """The data (`capture`) before the state is entered from the library."""
    base: Any = None
    base_data: Any = None
    """The fingerprint and the data of the state as built."""
    baseline: Any = None
    data: Any = None
    """What each key is pressed from: the state, or the dialog just opened on it."""

    @property
    def name(self) -> str:
        return self.state.name + (f" + {self.dialog.name}" if self.dialog else "")

    def prepared(self) -> Path:
        folder = self.scratch / f"prepared-{self.state.name}"
        if not folder.exists():
            shutil.copytree(self.seed, folder)
            ws = Workspace.open(folder)
            try:
                self.state.prepare(ws)
            finally:
                ws.close()
        return folder

    async def launch(self) -> Run:
        """A fresh app on a fresh copy of the prepared workspace, in the state (with the dialog open)."""
        await self.stop()
        self.launches += 1
        folder = self.scratch / f"{self.state.name}-{self.launches}"
        shutil.copytree(self.prepared(), folder)
        app = make_app(Workspace.open(folder), "alice")
        app.animation_level = "none"  # an animated scroll ends where it would, without its frames in between
        context = app.run_test(size=SIZE)
        pilot = await context.__aenter__()
        run = Run(app, pilot, context, folder)
        self.run = run
        try:
            await settle(pilot)
            pre = capture(app)
            await self.state.enter(run)
            await settle(pilot)
        except BaseException as exc:
            detail = run.crash_text() if run.crashed else _last_lines(exc)
            raise AssertionError(f"[{self.state.name}] could not build the state: {detail}") from exc
        assert isinstance(app.screen, self.state.screen), (self.state.name, app.screen)
        self.pre, self.base, self.base_data = pre, fingerprint(app), capture(app)
        self.baseline, self.data = self.base, self.base_data
        if self.dialog is not None:
            await self.open_dialog(run)
            self.baseline, self.data = fingerprint(app), capture(app)
        return run

    async def open_dialog(self, run: Run) -> None:
        assert self.dialog is not None
        assert self.dialog.opener in bound(run.app), f"[{self.name}] {self.dialog.opener!r} is not bound"
        try:
            await press(run, self.dialog.opener)
        except BaseException:  # noqa: BLE001 - a crash is reported below
            pass
        if run.crashed:
            run.error = run.app._exception or RuntimeError("exited")  # reported once, as the opener's crash
            raise DialogCrash(run.crash_text())
        assert _is_open(run.app, self.dialog.opens), \
            f"[{self.name}] {self.dialog.opener!r} did not open {self.dialog.opens}: {run.app.screen}"

    async def stop(self) -> None:
        if self.run is not None:
            run, self.run = self.run, None
            raised = await run.stop()
            if raised is not None and not run.error:
                self.failures.append(f"[{self.name}] on leaving the app: {_last_lines(raised)}")

    async def ready(self) -> Run:
        """The app in the state as it was built: as it is, put back in place, built again in the same app
        (from the library, with the data as it was), or else built in a fresh app."""
        run = self.run
        if run is None or run.crashed:
            return await self.launch()
        try:
            if fingerprint(run.app) == self.baseline or await restore(run, self.baseline, self.data):
                return run
            if self.dialog is not None and await self.reopen_dialog(run):
                return run
            if await self.reenter(run):
                return run
        except DialogCrash:
            raise
        except Exception:  # noqa: BLE001 - whatever went wrong putting it back: start afresh
            pass
        return await self.launch()

    async def reopen_dialog(self, run: Run) -> bool:
        """Close the dialog (or what the key left open) and open a fresh one on the state."""
        app = run.app
        await close_modals(run)
        if run.crashed or isinstance(app.screen, ModalScreen):
            return False
        if _is_open(app, self.dialog.opens):  # a panel: its opener toggles it
            await press(run, self.dialog.opener)
        if not (fingerprint(app) == self.base or await restore(run, self.base, self.base_data)):
            return False
        await self.open_dialog(run)
        return fingerprint(app) == self.baseline or await restore(run, self.baseline, self.data)

    async def reenter(self, run: Run) -> bool:
        """Back to the library, the data as before the state was entered, and enter it again."""
        app = run.app
        await close_modals(run)
        for _ in range(5):
            if run.crashed or len(app.screen_stack) <= 2:
                break
            app.pop_screen()
            await settle(run.pilot)
        if run.crashed or not isinstance(app.screen, LibraryScreen):
            return False
        for panel in app.screen.query("HelpPanel"):
            await panel.remove()
        if restore_data(app, self.pre):
            app.screen.reload()
        await settle(run.pilot)
        await self.state.enter(run)
        await settle(run.pilot)
        if self.dialog is not None:
            await self.open_dialog(run)
        return fingerprint(app) == self.baseline or await restore(run, self.baseline, self.data)

    def fail(self, key: str, what: str) -> None:
        self.failures.append(f"[{self.name}] key {key!r}: {what}")

    async def crashed(self, run: Run, key: str, what: str, exc: BaseException | None = None) -> None:
        """Record a crash and drop the app: the next key gets a fresh one."""
        detail = run.crash_text() if run.crashed else _last_lines(exc) if exc else "?"
        self.fail(key, f"{what}: {detail}")
        run.error = run.app._exception or exc or RuntimeError("exited")
        await self.stop()

    async def press_from_state(self, key: str) -> None:
        """Press `key` from the state (or the open dialog) and check what happened."""
        try:
            run = await self.ready()
        except DialogCrash as exc:
            self.fail(self.dialog.opener, f"CRASH opening {self.dialog.opens}: {exc}")
            await self.stop()
            return
        app = run.app
        bindings = bound(app).get(key, [])
        before = _notes_by_id(app)
        try:
            await press(run, key)
        except asyncio.TimeoutError as exc:
            return await self.crashed(run, key, f"HANG: no answer within {PRESS_TIMEOUT}s", exc)
        except BaseException as exc:  # noqa: BLE001 - Pilot raising is one more way of crashing
            return await self.crashed(run, key, "CRASH", exc)
        if run.crashed:
            return await self.crashed(run, key, "CRASH")
        top = type(app.screen)
        if issubclass(top, ModalScreen) or any(type(w).__name__ == "HelpPanel" for w in app.screen.children):
            self.opened.setdefault(top.__name__ if issubclass(top, ModalScreen) else "HelpPanel",
                                   f"{self.name}, key {key!r}")
        if self.dialog is None:
            # Close whatever dialog opened (escape), as a user would.
            try:
                await close_modals(run)
            except BaseException as exc:  # noqa: BLE001
                return await self.crashed(run, key, "CRASH closing the dialog with escape", exc)
            if run.crashed:
                return await self.crashed(run, key, "CRASH closing the dialog with escape")
            if isinstance(app.screen, ModalScreen):
                self.fail(key, f"{type(app.screen).__name__} does not close with escape")
                await self.stop()
                return
        for problem in check_consistency(app, dialog_open=self.dialog is not None):
            self.fail(key, problem)
        if self.dialog is None:
            for problem in check_chosen(app, bindings, before):
                self.fail(key, problem)


class DialogCrash(Exception):
    """The key that opens a dialog crashed the app."""


async def close_modals(run: Run) -> None:
    """Escape until no dialog is open (five at most: a dropdown in a form takes one more)."""
    for _ in range(5):
        if run.crashed or not isinstance(run.app.screen, ModalScreen):
            return
        await press(run, "escape")


# ----- keys, from the bindings themselves --------------------------------------------------------------
def _chain(app, screen=None) -> list:
    """The nodes a key press goes through: the focused widget and its ancestors, the screen, the app."""
    screen = screen if screen is not None else app.screen
    focused = screen.focused
    nodes = [app, screen]
    if focused is not None:
        nodes += [n for n in focused.ancestors_with_self if n is not screen and n is not app]
    return nodes


def bound(app, nodes: list | None = None) -> dict[str, list[Binding]]:
    """Every key bound where a key press goes (`_chain`): the bindings of the app, the screen and the
    focused widget with its ancestors, as built (with the keymap and the ones added at run time, such as
    the reader's entity keys), the class BINDINGS they come from, and the screen's active bindings."""
    keys: dict[str, list[Binding]] = {}

    def add(key: str, binding: Binding) -> None:
        keys.setdefault(key, [])
        if binding not in keys[key]:
            keys[key].append(binding)

    for node in nodes if nodes is not None else _chain(app):
        for key, bindings in node._bindings.key_to_bindings.items():
            for binding in bindings:
                add(key, binding)
        for key, bindings in BindingsMap(getattr(type(node), "BINDINGS", [])).key_to_bindings.items():
            for binding in bindings:
                add(key, binding)
    if nodes is None:
        for key, active in app.screen.active_bindings.items():
            add(key, active.binding)
    return keys


def walk_order(keys) -> list[str]:
    """The keys in the order they are pressed: sorted, escape last. Every key is pressed from the state as
    built whatever the order; escape leaves every reader state and closes every dialog, so after it the state
    must be built again (from the library, or the dialog opened again) unless no key comes after it."""
    return sorted(keys, key=lambda key: (key == "escape", key))


def _action_name(action: str) -> str:
    return action.split("(", 1)[0].rsplit(".", 1)[-1]


def _is_open(app, name: str) -> bool:
    return type(app.screen).__name__ == name or any(type(w).__name__ == name for w in app.screen.walk_children())


# ----- what "the state" is, and putting it back ---------------------------------------------------------
STATE_ATTRIBUTES = ("cursor", "anchor", "reveal_controls", "cursor_coordinate", "highlighted", "value",
                    "cursor_position", "expanded", "sort_key", "sort_reverse", "query_text", "filters",
                    "search_query")
"""Attributes of the screen and its widgets that are part of the state when they have them."""
SETTABLE = ("cursor", "anchor", "highlighted", "reveal_controls", "cursor_position")
"""Those that `restore` sets back (from their repr: an int, None or a bool)."""


def _widget_paths(screen) -> dict[str, Any]:
    """The screen and its widgets by a path that names them the same in a rebuilt state."""
    out: dict[str, Any] = {type(screen).__name__: screen}

    def walk(node, path: str) -> None:
        seen: dict[str, int] = {}
        for child in node.children:
            name = type(child).__name__
            if name in SKIP_IN_FINGERPRINT:
                continue
            tag = f"{name}#{child.id}" if child.id else name
            seen[tag] = seen.get(tag, -1) + 1
            child_path = f"{path}/{tag}[{seen[tag]}]"
            out[child_path] = child
            walk(child, child_path)

    walk(screen, type(screen).__name__)
    return out


def _safe(obj, name: str) -> Any:
    try:
        value = getattr(obj, name)
    except Exception:  # noqa: BLE001 - a property that cannot answer in this state
        return "<unavailable>"
    if callable(value):
        return "<callable>"
    return repr(value)


def _notes(app, annotator: str) -> list[dict]:
    return app.workspace.annotations(annotator).all()


def _notes_by_id(app) -> dict[str, dict]:
    return {r["id"]: r for r in _notes(app, app.annotator)}


def _saved(app) -> str:
    return _saved_in(app.workspace, app.annotator)


def _saved_in(ws: Workspace, annotator: str) -> str:
    """Everyone's saved annotations and progress, as one comparable string."""
    everyone = {}
    for name in sorted(set(ws.annotators()) | {annotator}):
        notes = ws.annotations(name)
        everyone[name] = (sorted(notes.all(), key=lambda r: r["id"]), notes.states())
    return json.dumps(everyone, sort_keys=True, ensure_ascii=False, default=repr)


def _history_lists(app) -> dict[str, list]:
    history = getattr(app, "history", None)
    return {k: v for k, v in vars(history).items() if isinstance(v, list) and k != "listeners"} if history else {}


def fingerprint(app) -> dict[str, Any]:
    """What a key can change, named so that a state rebuilt the same way compares equal: the screens,
    focus, the widgets' cursors, selection and scroll, saved annotations (everyone's), undo history,
    session, theme, the suggestions shown, triage."""
    screen = app.screen
    widgets = _widget_paths(screen)
    return {
        "stack": tuple((type(s).__name__, getattr(getattr(s, "article", None), "id", None))
                       for s in app.screen_stack),
        "focused": next((p for p, w in widgets.items() if w is app.focused), None),
        "widgets": {p: (repr(w.scroll_offset), tuple((a, _safe(w, a)) for a in STATE_ATTRIBUTES if hasattr(w, a)))
                    for p, w in widgets.items()},
        "saved": _saved(app),
        "history": repr(_history_lists(app)),
        "session": json.dumps(app.session.data, sort_keys=True, default=repr),
        "theme": app.theme,
        "suggestions": repr(getattr(screen, "suggestions", None)),
        "triage": repr({k: v for k, v in vars(screen.triage).items() if k != "started"})
        if getattr(screen, "triage", None) is not None else None,
        "sub_title": screen.sub_title,
    }


def capture(app) -> dict[str, Any]:
    """The data behind a state that keys change and `restore` can write back: every annotation store's
    tables, the undo history, the session."""
    ws = app.workspace
    names = set(ws.annotators()) | {app.annotator}
    return {
        "stores": {n: copy.deepcopy(ws.annotations(n)._store.tables) for n in names},
        "history": {k: list(v) for k, v in _history_lists(app).items()},
        "session": copy.deepcopy(app.session.data),
    }


def restore_data(app, snapshot: dict[str, Any]) -> bool:
    """Write back the annotations (as the same records), the undo history and the session; True if any
    annotation had to be written back."""
    ws = app.workspace
    wrote = False
    for name in set(ws.annotators()) | set(snapshot["stores"]):
        store = ws.annotations(name)._store
        store.refresh()
        want = snapshot["stores"].get(name, {})
        ops: list[list] = []
        for table, rows in store.tables.items():
            ops += [["d", table, key] for key in rows if key not in want.get(table, {})]
        for table, rows in want.items():
            ops += [["p", table, key, copy.deepcopy(record)] for key, record in rows.items()
                    if store.tables.get(table, {}).get(key) != record]
        if ops:
            store.write(ops)
            wrote = True
    for name, value in snapshot["history"].items():
        setattr(app.history, name, list(value))
    app.session.data = copy.deepcopy(snapshot["session"])
    if wrote:
        app._suggester = None  # rebuilt from the saved annotations, as at start (here, not in a worker that
        app.suggester  # noqa: B018 - waits for the user to be idle before it reads them)
    return wrote


RESTORE_PASSES = 3
"""Rounds of putting widgets back (a cursor put back may scroll its widget after the next paint: the scroll is
put back in the round after)."""


async def restore(run: Run, baseline: dict[str, Any], snapshot: dict[str, Any]) -> bool:
    """Put the state back in place without leaving the screen: annotations, history and session as they
    were, then cursors, selection, scroll, focus and theme. False when that cannot make the fingerprint
    equal (another screen, a widget came or went...). The app is let settle only after a round of changes,
    never for nothing."""
    app = run.app
    try:
        now = fingerprint(app)
        if now["stack"] != baseline["stack"]:
            return False
        screen = app.screen
        pending = False
        """Something was changed that the app has yet to act on: settle, then look again."""
        for panel in [w for w in screen.children if type(w).__name__ == "HelpPanel"]:
            if not any("HelpPanel" in p for p in baseline["widgets"]):
                await panel.remove()
                pending = True
        if any(now[k] != baseline[k] for k in ("saved", "history", "session")):
            if restore_data(app, snapshot):
                for name in ("refresh_annotations", "refresh_table"):
                    refresh = getattr(screen, name, None)
                    if refresh is not None:
                        refresh()
                        break
            pending = True
        for _ in range(RESTORE_PASSES):
            if pending:
                await settle(run.pilot)
                app.session.data = copy.deepcopy(snapshot["session"])  # cursor moves are remembered too
                now = fingerprint(app)
            if now == baseline:
                return True
            if now["stack"] != baseline["stack"] or set(now["widgets"]) != set(baseline["widgets"]):
                return False
            pending = _put_back(app, screen, now, baseline)
            if not pending:  # it differs in what cannot be put back
                return False
        return False
    except Exception:  # noqa: BLE001 - anything unexpected: the state is rebuilt instead
        return False


def _put_back(app, screen, now: dict[str, Any], baseline: dict[str, Any]) -> bool:
    """Set back every cursor, selection, scroll offset, the focus and the theme that differ from `baseline`
    (`now` is the fingerprint as it is); True if anything was set, False if nothing was or something cannot
    be (an attribute `restore` does not set)."""
    widgets = _widget_paths(screen)
    changed = False
    for path, (offset, attrs) in baseline["widgets"].items():
        widget = widgets[path]
        current = dict(now["widgets"][path][1])
        for name, value in attrs:
            if current.get(name) == value:
                continue
            if name == "cursor_coordinate" and isinstance(widget, DataTable):
                row, column = (int(n) for n in re.findall(r"\d+", value))
                widget.move_cursor(row=row, column=column, animate=False)
            elif name in SETTABLE:
                setattr(widget, name, ast.literal_eval(value))
            else:
                return False
            changed = True
        if repr(widget.scroll_offset) != offset:
            x, y = (int(n) for n in re.findall(r"-?\d+", offset))
            widget.scroll_to(x, y, animate=False, immediate=True)
            changed = True
    if baseline["focused"] is not None and widgets[baseline["focused"]] is not app.focused:
        widgets[baseline["focused"]].focus()
        changed = True
    if app.theme != baseline["theme"]:
        app.theme = baseline["theme"]
        changed = True
    return changed


# ----- the checks after each key -----------------------------------------------------------------------
EXPECTED_SCREENS = (LibraryScreen, ReaderScreen, ReviewScreen, AgreementScreen)


def check_consistency(app, dialog_open: bool = False) -> list[str]:
    problems = []
    stack = app.screen_stack
    if dialog_open:  # walking a dialog: it (and what it opened) may be on top
        while len(stack) > 2 and isinstance(stack[-1], ModalScreen):
            stack = stack[:-1]
    if len(stack) < 2 or not isinstance(stack[1], LibraryScreen):
        problems.append(f"screen stack {[type(s).__name__ for s in stack]}: the library is not under it")
    odd = [type(s).__name__ for s in stack[1:] if not isinstance(s, EXPECTED_SCREENS)]
    if odd:
        problems.append(f"unexpected screens on the stack: {odd}")
    ws = app.workspace
    labels = set(ws.schema.entities)
    for name in sorted(set(ws.annotators()) | {app.annotator}):
        for r in ws.annotations(name).all():
            body = ws.article(r["article_id"]).body
            what = f"{name}'s {r['kind']} {r['id']}"
            if r["kind"] == "credibility":
                score = (r.get("attributes") or {}).get("score")
                if r["start"] is not None or r["end"] is not None:
                    problems.append(f"{what} has offsets {r['start']}-{r['end']}")
                if score is not None and (isinstance(score, bool) or score not in range(1, 6)):
                    problems.append(f"{what} has score {score!r}")
                continue
            start, end = r["start"], r["end"]
            if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(body)):
                problems.append(f"{what} offsets {r['start']}-{r['end']} outside the body (0-{len(body)})")
            elif body[r["start"]:r["end"]] != r["text"]:
                problems.append(f"{what} text {r['text']!r} != body[{r['start']}:{r['end']}] "
                                f"{body[r['start']:r['end']]!r}")
            if r["kind"] == "entity" and r["label"] not in labels:
                problems.append(f"{what} has label {r['label']!r}, not in labels.toml")
    return problems


def check_chosen(app, bindings: list[Binding], before: dict[str, dict]) -> list[str]:
    """Nothing the user did not choose: only annotating keys change annotations, and as their key says."""
    after = _notes_by_id(app)
    changed = [r for i, r in after.items() if before.get(i) != r]
    removed = [i for i in before if i not in after]
    if not changed and not removed:
        return []
    actions = [b.action for b in bindings]
    if not any(_action_name(a) in ANNOTATING_ACTIONS for a in actions):
        return [f"changed annotations ({len(changed)} changed, {len(removed)} removed) though bound only to "
                f"{actions}"]
    problems = []
    scores = {int(m.group(1)) for a in actions if (m := re.fullmatch(r"credibility\((\d)\)", a))}
    labels = {m.group(1) for a in actions if (m := re.fullmatch(r"tag\('([^']+)'\)", a))}
    for r in changed:
        if r["kind"] == "credibility" and scores and r["attributes"].get("score") not in scores:
            problems.append(f"credibility score {r['attributes'].get('score')!r}, key means {sorted(scores)}")
        if r["kind"] == "entity" and labels and r["id"] not in before and r["label"] not in labels:
            problems.append(f"entity labelled {r['label']!r}, key means {sorted(labels)}")
    return problems


# ----- the tests ----------------------------------------------------------------------------------------
@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """No browser, clipboard or downloads folder of the machine running the tests is touched."""
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url) or True)
    try:
        import pyperclip

        monkeypatch.setattr(pyperclip, "copy", lambda text: None)
    except ImportError:
        pass
    home = tmp_path / "home"
    (home / "Downloads").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(home / "Downloads"))
    return opened


def _report(title: str, failures: list[str]) -> str:
    return f"{len(failures)} failure(s) {title}:\n  " + "\n  ".join(failures)


@pytest.mark.parametrize("state", STATES, ids=[s.name for s in STATES])
async def test_every_key_from_every_state(state: State, workspace_path: Path, tmp_path: Path,
                                          stand_ins: list[str]) -> None:
    walker = Walker(state, workspace_path, tmp_path)
    try:
        run = await walker.launch()
        keys = bound(run.app)
        missing = state.must_bind - set(keys)
        assert not missing, f"[{state.name}] the binding collection misses {sorted(missing)}: found {sorted(keys)}"
        for key in walk_order(keys):
            if key not in NOT_WALKED:
                await walker.press_from_state(key)
    finally:
        await walker.stop()
    walked = {d.opens for d in DIALOGS}
    for name, where in walker.opened.items():
        if name not in walked:
            walker.failures.append(f"[{where}] opens {name}, whose keys no dialog walk presses: add it to DIALOGS")
    if walker.failures:
        pytest.fail(_report(f"pressing every key from {state.name}", walker.failures), pytrace=False)


@dataclass(frozen=True)
class Dialog:
    name: str
    state: str
    opener: str
    opens: str
    """The class name of what the opener shows: a modal screen, or a widget on the screen (the keys panel)."""
    extra_keys: tuple[str, ...] = ()
    """Keys pressed besides the dialog's own bindings (closing keys of a panel that has none of its own)."""


DIALOGS = [
    Dialog("claim-form", "reader-entity", "c", "ClaimForm"),
    Dialog("credibility-form", "reader-empty", "i", "CredibilityForm"),
    Dialog("credibility-form-after-a-score", "reader-credibility", "i", "CredibilityForm"),
    Dialog("filter-form", "library", "f", "FilterForm"),
    Dialog("confirm-accept-all", "reader-suggestion", "A", "Confirm"),
    Dialog("palette-in-library", "library", "ctrl+p", "Palette"),
    Dialog("palette-in-reader", "reader-entity", "ctrl+p", "Palette"),
    Dialog("keys-panel-in-library", "library", "question_mark", "HelpPanel", ("escape", "question_mark")),
    Dialog("keys-panel-in-reader", "reader-empty", "question_mark", "HelpPanel", ("escape", "question_mark")),
]
"""Each dialog a key opens, opened from a state, then walked: its own bindings and those of the widget
focused in it (as opened), plus the app's. The state walks fail on a dialog missing here."""


@pytest.mark.parametrize("dialog", DIALOGS, ids=[d.name for d in DIALOGS])
async def test_every_key_of_every_dialog(dialog: Dialog, workspace_path: Path, tmp_path: Path,
                                         stand_ins: list[str]) -> None:
    walker = Walker(BY_NAME[dialog.state], workspace_path, tmp_path, dialog=dialog)
    try:
        try:
            run = await walker.launch()
        except DialogCrash as exc:
            walker.fail(dialog.opener, f"CRASH opening {dialog.opens}: {exc}")
        else:
            top = run.app.screen
            if isinstance(top, ModalScreen):
                keys = set(bound(run.app, _chain(run.app, top)))
            else:
                panel = next(w for w in top.walk_children() if type(w).__name__ == dialog.opens)
                keys = set(bound(run.app, [panel, *panel.walk_children()]))
            for key in walk_order(keys | set(dialog.extra_keys)):
                if key not in NOT_WALKED:
                    await walker.press_from_state(key)
    finally:
        await walker.stop()
    if walker.failures:
        pytest.fail(_report(f"in {dialog.name}", walker.failures), pytrace=False)


@pytest.mark.parametrize("state", ["library", "reader-entity"])
async def test_ctrl_q_quits_cleanly(state: str, workspace_path: Path, tmp_path: Path,
                                    stand_ins: list[str]) -> None:
    """The one key the walk leaves out: it ends the app, with return code 0 and no exception, and what was
    saved is still there once every handle is closed and the files are read again."""
    walker = Walker(BY_NAME[state], workspace_path, tmp_path)
    run = await walker.launch()
    assert "ctrl+q" in bound(run.app)
    before = _saved(run.app)
    await run.pilot.press("ctrl+q")
    await run.pilot.pause()
    assert run.app._exception is None
    assert run.app.return_code == 0
    folder = run.folder
    walker.run = None
    try:
        await run.context.__aexit__(None, None, None)  # raises if the app died of an exception
    finally:
        run.app.workspace.close()
    assert not [k for k in journal._OPEN if k.startswith(os.path.realpath(folder))], "a store stayed open"
    reopened = Workspace.open(folder)
    try:
        assert _saved_in(reopened, "alice") == before
    finally:
        reopened.close()
        shutil.rmtree(folder, ignore_errors=True)
