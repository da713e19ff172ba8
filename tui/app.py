"""The tahqiq Textual app; `make_app` builds it for `tahqiq` (each `tahqiq serve` session runs `tahqiq`)."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual import events
from textual.actions import SkipAction
from textual.app import App
from textual.binding import Binding

from store import StoreError, Workspace
from store.annotation.history import Change, History
from store.keymap import KEYMAP_FILE, load_keymap
from store.session import SessionState
from store.text.direction import paragraph_rule
from store.wording import counted
from tui.background import when_a_core_is_spare
from tui.bidi import DisplayOptions, inert
from tui.palette import BindingCommands, Palette
from tui.screens.library import LibraryScreen

if TYPE_CHECKING:  # (imported where first used: not needed for the first screen)
    from store.assist.claim_rules import ClaimRule
    from store.assist.suggest import Suggester


class TahqiqApp(App[None]):
    """Browse a workspace's articles and open them in the bidi reader."""

    TITLE = "tahqiq"
    CSS_PATH = "tahqiq.tcss"
    COMMANDS = App.COMMANDS | {BindingCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="quit"),
        Binding("f2", "toggle_theme", "Light/dark", id="toggle-theme"),
        Binding("escape", "hide_keys", "Close keys", show=False, priority=True, id="hide-keys"),
    ]

    SAVE_RETRY_SECONDS = 2.0
    SESSION_SAVE_SECONDS = 3.0
    """Cursor places are written after this pause (and on leaving an article, and on exit)."""
    IDLE_SECONDS = 0.3
    """The suggestion index is built once the user has left keys and mouse alone this long (after the first
    screen), and its build waits between files while they are busy (`_wait_until_idle`)."""
    IDLE_WAIT_LIMIT = 5.0
    """The longest the build waits at one step for the user to pause."""

    def __init__(self, workspace: Workspace, annotator: str, bidi: str = "app", shaping: bool = True,
                 notice: str | None = None) -> None:
        super().__init__()
        self.notice = notice
        """A problem to tell the user as the app opens (e.g. the folder cannot be written)."""
        self._quit_armed = False
        self._unsaved_shown = False
        self.workspace = workspace
        self.annotator = annotator
        self.display_options = DisplayOptions(reorder=bidi == "app", shape=shaping,
                                              direction=paragraph_rule(workspace.schema.paragraph_direction))
        """How every widget draws text: set once here from the command line and the workspace's labels.toml."""
        self.title = f"tahqiq · {self.display_options.snippet('تحقيق', 10)}"
        self.sub_title = f"{annotator} · {inert(str(workspace.path))}" + (" · READ-ONLY" if workspace.read_only else "")
        if not workspace.read_only:
            workspace.hold_unsaved()  # a full disk never interrupts work: saves wait in memory
        self.history = History(workspace.annotations(annotator))
        """Undo/redo for the whole session, across articles."""
        self.history.listeners.append(self._follow_changes)
        self._suggester: Suggester | None = None
        self._suggester_lock = threading.Lock()
        self._building = False
        """A build of the suggestion index is under way (`_warm_up`)."""
        self._last_input = time.monotonic()
        """When a key, click or scroll last came (the first screen counts as one)."""
        self._before_first_screen: list[Callable[[], object]] | None = []
        """What `when_idle` was given before the first screen was drawn (None once it is)."""
        self._build_error: StoreError | None = None
        self._pending_lock = threading.Lock()
        self._pending_changes: list[list[Change]] = []
        self._claim_rules: list[ClaimRule] | None = None
        self.session = SessionState(workspace.path, annotator)
        """What survives a restart: last article, cursors, library sort and filters, triage, theme."""

    def on_mount(self) -> None:
        theme = self.session.get("theme")
        if theme in self.available_themes:
            self.theme = theme
        try:
            self.set_keymap(load_keymap(self.workspace.path / KEYMAP_FILE))
        except StoreError as exc:
            self.notify(f"{exc}; default keys in use", severity="error", timeout=10)
        self.push_screen(LibraryScreen())  # (and `_after_first_screen` once it is drawn: see push_screen)
        if self.workspace.read_only:
            self.notify("Opened read-only: you can look, nothing is saved", severity="warning", timeout=10)
        for name, damage in self.workspace.damaged.items():
            self.notify(f"{damage[0]}; {name}'s annotations are shown as far as they are whole",
                        severity="error", timeout=15)
        if self.notice:
            self.notify(self.notice, severity="error", timeout=15)
        if self.session.problem:  # a damaged state/<annotator>.json: started afresh, the file kept
            self.notify(self.session.problem, severity="warning", timeout=15)
        self.set_interval(self.SAVE_RETRY_SECONDS, self.check_saved)
        self.set_interval(self.SESSION_SAVE_SECONDS, self.session.save)

    def _follow_changes(self, changes: list[Change]) -> None:
        """Suggestions follow every saved change at once (tag, adjust, remove, undo, redo); changes made while
        the index is still being built are replayed into it when it is ready."""
        with self._pending_lock:
            if self._suggester is None:
                self._pending_changes.append(changes)
                return
        self._suggester.follow(changes)

    def on_unmount(self) -> None:
        self.session.save()

    def on_delivery_complete(self, event: events.DeliveryComplete) -> None:
        from tui.screens.deliver import delivered  # not at the top: it and store.exchange cost the start ~65 ms

        delivered(self, event)

    def on_delivery_failed(self, event: events.DeliveryFailed) -> None:
        from tui.screens.deliver import delivered  # (as above)

        delivered(self, event)

    def action_command_palette(self) -> None:
        """Textual's, opening tui.palette.Palette (its paging cannot crash the app)."""
        if self.use_command_palette and not Palette.is_open(self):
            self.push_screen(Palette(id="--command-palette"))

    def action_toggle_keys(self) -> None:
        """Show the keys panel, or hide it if it is shown (`?`)."""
        from textual.widgets import HelpPanel  # (with Markdown: ~30 ms the first screen need not wait for)

        panels = self.screen.query(HelpPanel)
        if panels:
            panels.remove()
        else:
            self.screen.mount(HelpPanel())

    def action_hide_keys(self) -> None:
        """Escape closes the keys panel first; without one, escape goes on to the screen."""
        from textual.widgets import HelpPanel

        panels = self.screen.query(HelpPanel)
        if not panels:
            raise SkipAction()
        panels.remove()

    def check_saved(self) -> None:
        """Retry saves the disk refused; say when they are written, and keep saying that some are not."""
        if not self.workspace.unsaved():
            return
        kept = self.workspace.unsaved()
        problem = self.workspace.flush()
        if problem is None:
            self.notify(f"Saved the {counted(kept, 'change')} that were waiting for the disk", timeout=5)
            self._unsaved_shown = False
        elif not self._unsaved_shown:
            self._unsaved_shown = True
            self.notify(problem, severity="error", timeout=15)

    async def action_quit(self) -> None:
        """Quit; with changes the disk has not taken yet, only when asked twice."""
        if self.workspace.unsaved():
            self.workspace.flush()  # one last try
        kept = self.workspace.unsaved()
        if kept and not self._quit_armed:
            self._quit_armed = True
            self.notify(f"{counted(kept, 'change')} not saved yet (the disk refuses them). Free space or fix the "
                        "folder and wait, or press ctrl+q again to quit and lose them", severity="error",
                        timeout=15)
            return
        self.exit()

    def push_screen(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201 (Textual's own signature)
        """Textual's, and until the first screen is drawn, `_after_first_screen` asked for after the new screen's
        refresh. Background work waits for the first screen: building suggestions reads everyone's annotations, and
        competing with the first paint for the interpreter made a large workspace's start seconds slower. Asked
        again at each push because Textual runs an after-refresh callback on the screen current when it is taken
        up: a screen covered before it was drawn (an article opened at once) would hold it until its next message,
        which may never come (seconds without suggestions and with garbage collection paused, found in CI)."""
        shown = super().push_screen(*args, **kwargs)
        if self._before_first_screen is not None:
            self.call_after_refresh(self._after_first_screen)
        return shown

    def _after_first_screen(self) -> None:
        if self._before_first_screen is None:
            return  # (asked at each push before the first screen was drawn: see push_screen)
        # `tahqiq` starts with garbage collection paused (tui.cli.entry.run_app): the modules, the screens and the
        # library's rows (100,000 at that size), all kept for the session, are made without being walked over and
        # over (~0.2 s of a ~0.9 s start at 100,000 articles); frozen, they are left out of later walks too.
        if not gc.isenabled():
            gc.freeze()
            gc.enable()
        self._last_input = time.monotonic()  # (the first screen is what the user asked for last)
        waiting, self._before_first_screen = self._before_first_screen, None
        for callback in waiting or ():
            self.when_idle(callback)
        self.run_worker(partial(when_a_core_is_spare, self._prepare_reader), thread=True, group="warm-up")
        self._warm_up_when_idle()



    def _prepare_reader(self) -> None:
        """What the first Enter would otherwise pay for, done in the background: the reader's module imported,
        and the article the library starts on read (at 100,000 articles, the first article read builds the id
        map: ~0.1 s)."""
        import tui.screens.reader  # noqa: F401

        last = self.session.get("last_article")
        if isinstance(last, str):
            try:
                self.workspace.article(last)
            except StoreError:
                pass  # said when it is opened

    def _warm_up(self) -> None:
        """Build the suggestion index in the background so that no article waits for it (a reader opened before
        it is ready shows its suggestions when it is: `_suggestions_ready`)."""
        try:
            self.suggester  # noqa: B018
        except StoreError as exc:  # (a broken patterns file): the reader says it, and a later call tries again
            self._build_error = exc
        finally:
            self._building = False
        self.call_from_thread(self._suggestions_ready)

    def _suggestions_ready(self) -> None:
        """Readers opened while the index was being built show none; they show them now (any reader on the
        stack, so one under a dialog too). Not once the app is closing: its screens are being taken down."""
        if not self.is_running:
            return
        for screen in self.screen_stack:
            ready = getattr(screen, "suggestions_ready", None)
            if ready is not None:
                ready()

    def suggester_or_none(self) -> Suggester | None:
        """The suggester if it is built, else None at once: the reader never waits for the build (seconds at
        100,000 articles), which is started in the background once the user is idle if it is not under way. Raises the
        StoreError the last build ended with, once."""
        error, self._build_error = self._build_error, None
        if error is not None:
            raise error
        if self._suggester is None and not self._building:
            self._warm_up_when_idle()  # (not at once: the screen asking is being drawn)
        return self._suggester

    def _start_warm_up(self) -> None:
        if not self._building:
            self._building = True
            self.run_worker(partial(when_a_core_is_spare, self._warm_up), thread=True, group="warm-up")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent) and not isinstance(event, events.MouseMove):
            self._last_input = time.monotonic()
        await super().on_event(event)

    def _warm_up_when_idle(self) -> None:
        """Start the build once the user has been idle IDLE_SECONDS: an article opened at once is drawn without
        the build competing for the interpreter (a reader asks for it itself, once it is drawn)."""
        if not self._warm_up_waiting:
            self._warm_up_waiting = True
            self.when_idle(self._warm_up_now)

    _warm_up_waiting = False
    """A start of the build is waiting for the user to be idle."""

    def _warm_up_now(self) -> None:
        self._warm_up_waiting = False
        if self._suggester is None:
            self._start_warm_up()

    def when_idle(self, callback: Callable[[], object]) -> None:
        """Call `callback` (on the UI thread) once no key, click or scroll came for IDLE_SECONDS: for background
        work that would compete with what the user just asked for (a thread holds the interpreter while it runs).
        Not before the first screen is drawn, nor for IDLE_SECONDS after."""
        if self._before_first_screen is not None:
            self._before_first_screen.append(callback)
            return
        quiet = time.monotonic() - self._last_input
        if quiet >= self.IDLE_SECONDS:
            callback()
        else:
            self.set_timer(self.IDLE_SECONDS - quiet, lambda: self.when_idle(callback))

    def _wait_until_idle(self) -> None:
        """In the build's thread: wait while keys or clicks came in the last IDLE_SECONDS (IDLE_WAIT_LIMIT at most),
        so that reading a large file, which holds the interpreter, starts while the user is not typing."""
        deadline = time.monotonic() + self.IDLE_WAIT_LIMIT
        while time.monotonic() < deadline and (wait := self.IDLE_SECONDS - (time.monotonic() - self._last_input)) > 0:
            time.sleep(min(wait, 0.05))

    @property
    def suggester(self) -> Suggester:
        """Entity suggestions for this annotator, built on first use (it reads everyone's annotations)."""
        with self._suggester_lock:
            if self._suggester is None:
                from store.assist.suggest import Suggester  # (after the first screen: see _after_first_screen)

                in_thread = threading.current_thread() is not threading.main_thread()
                built = Suggester(self.workspace, self.annotator, pause=self._wait_until_idle if in_thread else None)
                with self._pending_lock:
                    for changes in self._pending_changes:
                        built.follow(changes)
                    self._pending_changes.clear()
                    self._suggester = built
            return self._suggester

    @property
    def claim_rules(self) -> list[ClaimRule]:
        """The workspace's claim-marking rules (claim_rules.toml)."""
        if self._claim_rules is None:
            from store.assist.claim_rules import load_rules

            self._claim_rules = load_rules(self.workspace.path)
        return self._claim_rules

    def notify(self, message: str, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = False) -> None:
        """Notifications often quote Arabic (a tagged word, an error): show them in visual order, and never
        interpret article text as markup; in either bidi mode no control character of theirs reaches the
        terminal (an article's URL or title can hold escape sequences)."""
        message = self.display_options.line(message)
        title = self.display_options.line(title)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def watch_theme(self, theme: str) -> None:
        if hasattr(self, "session"):
            self.session.set("theme", theme)

    def action_toggle_theme(self) -> None:
        """Switch between the light and the dark theme."""
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"


def make_app(workspace: Workspace, annotator: str, bidi: str = "app", shaping: bool = True,
             notice: str | None = None) -> TahqiqApp:
    """Build the app on an open workspace for one annotator."""
    return TahqiqApp(workspace, annotator, bidi=bidi, shaping=shaping, notice=notice)
