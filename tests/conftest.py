"""Shared fixtures: a fresh workspace with the bundled seeds, and the seed files themselves; `tmux`, a tmux
server of the test's own; `import_file`, one file written and imported; `run_cli`, the command line in this
process; `quiet_waits`, Textual's pilot waiting for the app instead of the clock."""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import gc
import io
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import pytest
from textual.worker import WorkerCancelled

from store import Workspace

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (pyproject's addopts): one worker per CPU this process may run on, plus one. Some tests spend
    most of their time waiting (on the app in a pty or tmux, a browser, a process to kill): the extra worker
    keeps the CPUs busy meanwhile (on 2 CPUs: 2 workers ~145 s, 3 workers ~125 s)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cpus + 1


GC_THRESHOLD = 20_000
"""Allocations (net) between two collections of the youngest generation in a test process (Python's default:
700). A UI test makes and drops a great many objects per key (Textual's messages, styles, segments): at 700 the
collector took ~10% of the CPU of the key walk and test_first_hour, ~3% at 20,000. Garbage is still collected,
in larger batches; no test depends on when (the one memory test, test_export_streams, collects first)."""


def pytest_configure(config: pytest.Config) -> None:
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    # Background work (suggestions, the team's figures) starts at once in the apps the tests run, in this process
    # and in those they start: it waits for a spare core otherwise (tui.background), up to 10 s on a machine the
    # suite's own processes keep busy. tests/test_serve_starter.py tests the waiting itself.
    os.environ.setdefault("TAHQIQ_BACKGROUND_WAIT", "0")
    if not hasattr(config, "workerinput"):  # the process that starts the others (or the only one: -n 0)
        _compile_once(config)


def _compile_once(config: pytest.Config) -> None:
    """With PYTHONDONTWRITEBYTECODE set (as here and in CI, on a fresh clone) no bytecode is cached, so every
    process compiles what it imports from source: each xdist worker store/, tui/ and every test module
    (asserts rewritten), each `tahqiq` the tests start in a process the modules it imports (~0.1 s each). Here
    they are compiled once, before the workers start, into the clone's own `__pycache__` folders (ignored by
    git), which every process started after reads (Python reads cached bytecode even where it writes none); a
    cached file older than its source is compiled again, as Python does. Nothing to do where Python caches
    bytecode itself."""
    if not sys.dont_write_bytecode:
        return
    import compileall

    for folder in ("store", "tui"):
        compileall.compile_dir(ROOT / folder, quiet=2)
    patterns = ["conftest.py", *config.getini("python_files")]
    tests = [path for path in sorted((ROOT / "tests").rglob("*.py")) if "__pycache__" not in path.parts]
    for path in tests:  # the helpers (pty_app, spans...), imported as any module
        if not any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns):
            compileall.compile_file(path, quiet=2)
    try:  # the test modules as pytest imports them, asserts rewritten (in a cache file of its own)
        from _pytest.assertion.rewrite import PYC_TAIL, _read_pyc, _rewrite_test, _write_pyc, assertstate_key

        state = config.stash[assertstate_key]
        if state.hook is None:  # --assert=plain
            return
        for path in tests:
            pyc = path.parent / "__pycache__" / (path.name[:-3] + PYC_TAIL)
            if any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns) and _read_pyc(path, pyc) is None:
                source_stat, code = _rewrite_test(path, config)
                pyc.parent.mkdir(exist_ok=True)
                _write_pyc(state, code, source_stat, pyc)
    except Exception:  # noqa: BLE001 - another pytest: the workers rewrite the tests themselves, as before
        pass


LONG_MODULES = ("test_key_walk.py",)
"""Modules whose tests keep a CPU busy for seconds each (every key of the app pressed from every state)."""
WAITING_MODULES = ("test_hostile_config.py", "test_hostile_terminal.py", "test_serve_browser.py", "test_faults.py")
"""Modules whose tests take seconds each mostly waiting (the app in a real terminal or a browser, processes
killed mid-write). A module missing from either list only makes the end of a run less even."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Only the order changes. xdist's worksteal gives each worker one contiguous share of the collection, then
    moves the second half of the longest queue to a worker left idle: by count, not by time, so a worker
    whose share held the long tests ran on alone at the end. Here each share starts with its part of the long
    tests (dealt in turn, snaking 0 1 2 2 1 0 ...) and of the waiting ones (placed at a different point of
    each share, so that the workers do not all wait at once); the other tests follow in their order, and what
    is left to share out at the end is short ones. One process (-n 0): the long and waiting tests first."""
    workers = max(1, getattr(config, "workerinput", {}).get("workercount", 1))

    def dealt(group: list[pytest.Item]) -> list[list[pytest.Item]]:
        hands: list[list[pytest.Item]] = [[] for _ in range(workers)]
        for n, item in enumerate(group):
            turn, at = divmod(n, workers)
            hands[at if turn % 2 == 0 else workers - 1 - at].append(item)
        return hands

    long = dealt([item for item in items if item.path.name in LONG_MODULES])
    waiting = dealt([item for item in items if item.path.name in WAITING_MODULES])
    light = iter([item for item in items if item.path.name not in LONG_MODULES + WAITING_MODULES])
    ordered, left = [], len(items)
    for k in range(workers):  # the shares as worksteal hands them out: what is left // the workers left
        size = left // (workers - k)
        left -= size
        at = len(long[k]) * k // workers
        head = long[k][:at] + waiting[k] + long[k][at:]
        ordered += head + [item for _, item in zip(range(size - len(head)), light)]
    items[:] = ordered + list(light)


@pytest.fixture
def workspace_path(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    ws = Workspace.open(path)
    report = ws.import_seeds()
    assert len(report.imported) == 5, report.summary()
    ws.close()
    return path


@pytest.fixture
def annotated_path(workspace_path: Path, tmp_path: Path) -> Path:
    """The seeds plus the export tests' annotations (alice, bob) and their emoji article."""
    from test_export_fixtures import make_annotated

    return make_annotated(workspace_path, tmp_path)


@pytest.fixture
def ws(annotated_path: Path) -> Workspace:
    w = Workspace.open(annotated_path)
    yield w
    w.close()


@pytest.fixture
def workspace(workspace_path: Path) -> Workspace:
    ws = Workspace.open(workspace_path)
    yield ws
    ws.close()


@pytest.fixture
def tmux():
    """`tmux(*ARGS)`: `tmux ARGS` on a tmux server of this test's own (`-S`, a socket of its own), never the
    user's server nor another test's or test process's; the answer as from `subprocess.run(check=True,
    capture_output=True, text=True)`, `env` passed on. The server, and what runs in it, is killed after, and
    its socket removed (tmux leaves it)."""
    socket = Path(tempfile.gettempdir()) / f"tahqiq-tmux-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def run(*args: str, env: Mapping[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-S", str(socket), *args], capture_output=True, text=True, check=check,
                              env=env)

    yield run
    subprocess.run(["tmux", "-S", str(socket), "kill-server"], capture_output=True)
    socket.unlink(missing_ok=True)


def import_file(workspace: Workspace, path: Path, content: str | bytes):
    """`content` written to `path` (a str as UTF-8, its line ends as given), then that one file imported into
    `workspace`: the import report (store.corpus.intake.ImportReport)."""
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return workspace.import_paths([path])


class CliTimeout(BaseException):
    """An in-process command ran over its time limit (`run_cli(timeout=...)`); a BaseException, so that no
    `except Exception` in the command swallows it."""


def run_cli(args: list[str] | tuple[str, ...], env: Mapping[str, str | None] | None = None, stdin: str = "",
            cwd: str | os.PathLike[str] | None = None, timeout: float | None = 60) -> subprocess.CompletedProcess:
    """`tahqiq ARGS` run by `tui.cli.main` in this process, answered as `subprocess.run([sys.executable, "-m",
    "tui.cli", *ARGS], capture_output=True, text=True)` answers: the exit code (main's return value, or a
    SystemExit's code as the interpreter would turn it into one), stdout and stderr. Far cheaper than a
    process (no interpreter start, no imports); tests that need a real process (the entry point itself,
    signals, pipes, a terminal) keep `subprocess`.

    As a process would see them: `env` is laid over os.environ for the call (a None value unsets a
    variable) and put back after, `cwd` is the working folder for the call, `stdin` is what standard input
    holds (never a terminal), stdout and stderr are UTF-8 streams (strict on stdout, backslashreplace on
    stderr, as Python's own). What a command left open is closed afterwards (store.db.journal caches stores
    per process, and a process would end). An exception other than SystemExit propagates: a process would
    have died of it with a traceback. `timeout` is enforced with SIGALRM in the main thread."""
    from store.db import journal
    from tui.cli import main

    out, err = io.BytesIO(), io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8", errors="strict", newline="\n", write_through=True)
    stderr = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace", newline="\n", write_through=True)
    stdin_stream = io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8")), encoding="utf-8")
    saved_env = {k: os.environ.get(k) for k in (env or {})}
    saved_cwd = os.getcwd()
    opened_before = set(journal._OPEN)
    alarm = timeout is not None and threading.current_thread() is threading.main_thread()

    def _ran_over(*_: object) -> None:
        raise CliTimeout(f"tahqiq {' '.join(map(str, args))}: ran over {timeout} s")

    previous = signal.signal(signal.SIGALRM, _ran_over) if alarm else None
    try:
        for key, value in (env or {}).items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = str(value)
        if cwd is not None:
            os.chdir(cwd)
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, timeout)
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), \
                _replaced_stdin(stdin_stream):
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:
                code = exc.code
                if code is None:
                    code = 0
                elif not isinstance(code, int):  # sys.exit("message"): printed, exit code 1
                    print(code, file=sys.stderr)
                    code = 1
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        os.chdir(saved_cwd)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        for key in set(journal._OPEN) - opened_before:  # what the process would have let go of on exit
            store = journal._OPEN.pop(key)
            with contextlib.suppress(Exception):
                store.close()
    stdout.flush()
    stderr.flush()
    return subprocess.CompletedProcess(["tahqiq", *map(str, args)], code, out.getvalue().decode("utf-8"),
                                       err.getvalue().decode("utf-8"))


@contextlib.contextmanager
def _replaced_stdin(stream):
    previous, sys.stdin = sys.stdin, stream
    try:
        yield
    finally:
        sys.stdin = previous


# ----- Pilot waits for the app, not the clock -------------------------------------------------------------
QUIET_ROUNDS = 100
"""Rounds of `until_quiet` (each handles what the one before left) before it gives the app wall-clock time."""
WORKERS_TIMEOUT = 30.0
"""Seconds `until_quiet` waits for the app's workers before it goes on without them (Textual's own wait gives
up after 1 s, busy or not)."""


def _stopped(app) -> bool:
    return app._exception is not None or app.return_code is not None


def _refresh_pending(screen) -> bool:
    return bool(screen._layout_required or screen._scroll_required or screen._repaint_required
                or screen._recompose_required or screen._dirty_widgets or screen._callbacks)


def _nodes(app) -> list:
    return [app, *(node for s in app.screen_stack for node in s.walk_children(with_self=True))]


def _parked(node) -> bool:
    """The node's message loop waits for its next message, none is queued, none is held back (peeked) and no
    callback waits to run after the current one: it is doing nothing (a handler running, or suspended in an
    await, is not waiting on the queue)."""
    queue = node._message_queue  # (textual._queue.Queue: its loop waits on `ready_event`)
    return (not queue.qsize() and any(not waiter.done() for waiter in queue.ready_event._waiters)
            and node._pending_message is None and not node._next_callbacks)


def _idle(app) -> bool:
    """Nothing to run in the event loop but this task (a key the driver sends, a message posted from a
    thread, a task's next step: all wait in the loop's ready queue first) and every node `_parked`."""
    ready = getattr(asyncio.get_running_loop(), "_ready", None)  # (asyncio's own loop; another: never idle)
    return ready is not None and not ready and all(_parked(node) for node in _nodes(app))


async def until_quiet(app) -> None:
    """Run everything the app has pending to its end: the messages and callbacks of the app and of every
    node on its screens, the screen's layout, repaint and after-refresh callbacks, and its workers (and what
    those post back). Textual's own wait (`wait_for_idle`, twice in every `Pilot.press` and in every
    `Pilot.pause()`) sleeps 20 ms at a time until the process looks idle: most of a UI test's time.

    When nothing in the event loop is ready to run and every node's loop waits on an empty queue (`_idle`),
    the round-trip through every node (`Pilot._wait_for_screen`, a callback posted to each) is skipped:
    nothing is queued, on its way or being handled, which is all it would have waited for."""
    from textual.pilot import Pilot

    pilot = Pilot(app)
    for _ in range(QUIET_ROUNDS):
        await asyncio.sleep(0)
        if _stopped(app) or not app.is_running or not app._screen_stack:
            return
        if not _idle(app):
            await pilot._wait_for_screen()  # every message queued so far handled, and any being handled
            if _stopped(app):
                return
        if any(not w.is_finished for w in app.workers):
            try:
                await asyncio.wait_for(app.workers.wait_for_complete(), WORKERS_TIMEOUT)
            except asyncio.TimeoutError:
                return
            except WorkerCancelled:
                pass  # (an exclusive worker cancelled by a newer one, as the library's team reads are: it is done)
            continue
        if any(node._message_queue.qsize() or node._next_callbacks for node in _nodes(app)):
            continue  # what those messages started first: the screen is painted once they are done
        screen = app.screen
        if _refresh_pending(screen) and screen.is_current and not app._batch_count:
            screen._on_timer_update()  # lay out and paint now, as the screen's 60 Hz timer would
            continue
        return
    await asyncio.sleep(0.05)  # something keeps itself busy (an animation): give it wall-clock time instead


async def until_suggestions_built(pilot, app, timeout: float = 10) -> None:
    """Until the app's suggestions are built and every reader on its stack shows them: they are built in the
    background once the user has been idle `app.IDLE_SECONDS` (a reader never waits for them), so a test that
    acts on suggestions waits for them as a user would. Fails if they are not built within `timeout` s."""
    deadline = time.monotonic() + timeout
    while app._suggester is None or app._building:
        assert time.monotonic() < deadline, f"the suggestions were not built within {timeout} s"
        await pilot.pause(0.05)
    await app.workers.wait_for_complete()  # (the build's thread has shown them in every reader)
    await pilot.pause()


async def until_told(pilot, app, text: str, timeout: float = 10) -> list[str]:
    """The app's notifications once one of them contains `text`, waiting for it at most `timeout` seconds:
    what background work tells (the suggestions are built once the user has been idle `app.IDLE_SECONDS`)
    may come after the screen that asked for it is drawn. Fails, listing what was told, if it never comes."""
    deadline = time.monotonic() + timeout
    while True:
        await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        told = [n.message for n in app._notifications]
        if any(text in m for m in told):
            return told
        assert time.monotonic() < deadline, f"not told {text!r} within {timeout} s; told: {told}"


async def _wait_for_idle(min_sleep: float = 0, max_sleep: float = 1) -> None:
    """Stands in for `textual._wait.wait_for_idle` (see `quiet_waits`): until the running app is quiet."""
    from textual._context import active_app

    try:
        app = active_app.get()
    except LookupError:
        await asyncio.sleep(0)
        return
    await until_quiet(app)


@pytest.fixture
def quiet_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """`Pilot.press` and `Pilot.pause()` (no delay) return once the app has done what is pending
    (`until_quiet`) instead of once the process has looked idle over 20 ms sleeps; `pause(delay)` still
    sleeps. Opt in with `pytestmark = pytest.mark.usefixtures("quiet_waits")` where no test needs
    wall-clock time to pass on a bare `pause()`."""
    monkeypatch.setattr("textual.app.wait_for_idle", _wait_for_idle)
    monkeypatch.setattr("textual.pilot.wait_for_idle", _wait_for_idle)
