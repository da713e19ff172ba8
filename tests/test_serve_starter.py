"""`tahqiq serve`'s session starter (tui.cli.serve_starter): sessions are forked from a warm process, and each way
it can fail to fork one still starts the session; background work waits for a spare core (tui.background)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_serve_security import _alive, _children, _command, _first_screen, _free_port

from store import LockedError, Workspace
from tui.background import spare_cores, when_a_core_is_spare

ROOT = Path(__file__).resolve().parent.parent
linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork server, thread priorities: Linux")
pytest.importorskip("textual_serve", reason="textual-serve is not installed")


class Served:
    """A real `tahqiq serve` process on a free port (its own process group), stopped at the end."""

    def __init__(self, workspace: Path, env: dict | None = None) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "--workspace", str(workspace), "serve", "--port", str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
            env={**os.environ, **(env or {})})
        line = self.process.stdout.readline()
        assert b"serving" in line, line

    def children(self, command: str) -> list[int]:
        return [c for c in _children(self.process.pid) if _alive(c) and _command(c) == command]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def served(workspace_path: Path):
    made: list[Served] = []

    def make(**options) -> Served:
        made.append(Served(workspace_path, **options))
        return made[-1]

    yield make
    for server in made:
        server.stop()


async def _open(server: Served, name: str):
    import aiohttp

    session = aiohttp.ClientSession()
    ws = await session.ws_connect(f"http://127.0.0.1:{server.port}/ws/{name}?width=100&height=30")
    await _first_screen(ws)
    return session, ws


async def _until(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s"
        await asyncio.sleep(0.05)


def _lock_free(workspace: Path, name: str) -> bool:
    ws = Workspace.open(workspace)
    try:
        ws.annotations(name).acquire()
        return True
    except LockedError:
        return False
    finally:
        ws.close()


@linux
async def test_a_session_is_forked_and_ends_with_its_stand_in(served, workspace_path: Path) -> None:
    server = served()
    session, ws = await _open(server, "alice")
    try:
        [starter] = server.children("tui.cli.serve_starter")
        [stand_in] = server.children("serve_attach.py")
        [app] = [c for c in _children(starter) if _alive(c)]  # the session: a copy of the warm starter
        assert not _lock_free(workspace_path, "alice")  # it holds alice's lock
        os.kill(stand_in, signal.SIGKILL)  # textual-serve's process is gone, however it went: so is the app
        await _until(lambda: not _alive(app))
        assert _lock_free(workspace_path, "alice")
    finally:
        await ws.close()
        await session.close()


@linux
async def test_without_the_starter_a_session_starts_on_its_own(served, workspace_path: Path) -> None:
    server = served()
    [starter] = server.children("tui.cli.serve_starter")
    os.kill(starter, signal.SIGKILL)
    await _until(lambda: not _alive(starter))
    session, ws = await _open(server, "alice")
    try:  # the stand-in became the app: `python -m tui.cli` (exec), the server's own child
        assert server.children("serve_attach.py") == [] and len(server.children("tui.cli")) == 1
    finally:
        await ws.close()
        await session.close()


@linux
async def test_a_session_whose_textual_settings_differ_is_not_forked(workspace_path: Path, monkeypatch) -> None:
    """Textual reads its settings from the environment when imported: the starter imported it under the server's,
    so a session given others (here by the environment textual-serve passes on) starts its own interpreter."""
    from aiohttp.test_utils import TestClient, TestServer
    from textual_serve.app_service import AppService

    from tui.cli.serve import _server_class

    server = _server_class()(workspace_path)
    client = TestClient(TestServer(await server._make_app()))  # (the starter is started here, unpatched)
    await client.start_server()
    built = AppService._build_environment
    monkeypatch.setattr(AppService, "_build_environment",
                        lambda self, **size: {**built(self, **size), "TEXTUAL_ANIMATIONS": "none"})
    try:
        ws = await client.ws_connect("/ws/bob", params={"width": "80", "height": "24"})
        await _first_screen(ws)
        [process] = server.processes
        assert _command(process.pid) == "tui.cli"  # the stand-in execed the app, nothing was forked
        assert [c for c in _children(server.starter.pid) if _alive(c)] == []
        await ws.close()
    finally:
        await client.close()


@linux
def test_background_work_waits_for_a_spare_core() -> None:
    """Work nobody waits for starts once a core is spare (tui.background), or after `max_wait` on a machine kept
    busy; its result, or its exception, is the caller's."""
    spare = spare_cores()
    assert spare is not None and 0 <= spare <= (os.cpu_count() or 1) + 0.01
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range((os.cpu_count() or 1) + 1)]
    try:
        time.sleep(0.2)
        started = time.monotonic()
        assert when_a_core_is_spare(lambda: "done", wait=1.0) == "done"
        assert time.monotonic() - started >= 0.9  # every core was busy: it waited as long as it may
    finally:
        for process in busy:
            process.kill()
            process.wait()

    def fails() -> None:
        raise ValueError("told to the caller")

    with pytest.raises(ValueError, match="told to the caller"):
        when_a_core_is_spare(fails, wait=0)


def test_the_longest_background_wait_is_a_setting(monkeypatch) -> None:
    from tui.background import MAX_WAIT, WAIT_ENV, max_wait

    for value, expected in (("0", 0.0), ("2.5", 2.5), ("-1", 0.0), ("soon", MAX_WAIT)):
        monkeypatch.setenv(WAIT_ENV, value)
        assert max_wait() == expected
    monkeypatch.delenv(WAIT_ENV)
    assert max_wait() == MAX_WAIT == 10.0


@linux
def test_a_stopped_starter_ends_its_sessions_even_one_that_ignores_sigterm(tmp_path: Path) -> None:
    """When the server stops (or dies) the starter is given SIGTERM: it passes it on to its sessions and kills, after
    its grace, one that does not quit, as the server did to the sessions it started itself."""
    import socket

    from tui.cli.serve_starter import Starter

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(str(tmp_path / "s.sock"))
    starter = Starter(listener, {})
    sessions = []
    for ignores in (False, True):
        pid = os.fork()
        if pid == 0:  # a session: one quits on SIGTERM, the other hangs on
            if ignores:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
            time.sleep(60)
            os._exit(0)
        stand_in, kept = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        starter.sessions[pid] = kept
        starter.selector.register(kept, 1, pid)
        sessions.append((pid, stand_in))
    time.sleep(0.2)  # (the second has ignored SIGTERM by now)
    started = time.monotonic()
    starter.end_sessions(grace=0.5)
    assert not starter.sessions and not any(_alive(pid) for pid, _ in sessions)
    assert time.monotonic() - started < 3
    told = [json.loads(stand_in.recv(1024)) for _, stand_in in sessions]  # each stand-in is told the exit
    assert told == [{"exit": -signal.SIGTERM}, {"exit": -signal.SIGKILL}]
    listener.close()
