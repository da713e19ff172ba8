"""The session starter of `tahqiq serve`: one warm process that starts each browser session's app by forking.

A session started as a new interpreter spends ~0.35 CPU-seconds importing Textual, the store and the screens
before it draws anything; twenty annotators opening their tabs at 9:00 on a 2-core server queue behind each
other's imports. The starter imports all that once, when the server starts, and forks a copy of itself for each
session, which goes straight to opening the workspace and drawing. The copies share the imported modules' memory
with the starter until they write to it.

How a session is started (tui.cli.serve_attach is the other end):

1. textual-serve runs, per session, `python -I -S serve_attach.py SOCKET ARGS...`: a stand-in that imports nothing
   but the standard library. It connects to the starter's socket (SOCK_SEQPACKET, in a folder only the server's
   user can enter) and sends one message: the tahqiq arguments, its environment and working directory, and its
   stdin, stdout and stderr (the pipes textual-serve reads and writes) as passed file descriptors.
2. The starter forks. The copy puts those pipes on its 0, 1 and 2, takes the environment and the folder, and runs
   `tui.cli.entry.main(ARGS)`: the app reads and writes the very pipes textual-serve holds.
3. The starter answers the stand-in with the session's pid, then with its exit code when it ends; the stand-in
   exits with that code, so textual-serve sees its "process" end when the app does. A SIGTERM to the stand-in is
   passed on to the app; a stand-in that dies (SIGKILL) closes its connection, and the starter ends the app
   (SIGTERM: the app saves and quits).

What is not forked runs as before: a stand-in that cannot reach the starter, or whose environment would change
what Textual read when the starter imported it (Textual reads its settings from the environment at import: the
starter declines those), execs `python -m tui.cli ARGS` itself. The starter never runs a thread (a fork copies
only the thread that forks, and a lock another thread held would stay locked forever in the copy): if importing
the app started one, it refuses to start, and every session is execed.

Each session still dies with the server: it asks for SIGTERM when its parent, the starter, dies
(tui.cli.serve.die_with_server), and the starter asks for it when the server dies. A starter given SIGTERM (the
server stopping, or dying) sends SIGTERM to its sessions and SIGKILL to any still running END_GRACE seconds later,
as the server did to the sessions it started itself.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path

REQUEST_LIMIT = 1 << 20
"""The largest request a stand-in may send (arguments and environment, JSON)."""
TEXTUAL_SETTINGS = ("TEXTUAL_", "ESCDELAY", "NO_COLOR", "FORCE_COLOR")
"""Environment variables Textual reads when it is imported (textual.constants), by name or prefix: a session whose
values differ from the starter's is execed, not forked."""


def textual_settings(environment: dict[str, str]) -> dict[str, str]:
    """The part of `environment` that Textual reads at import (TEXTUAL_SETTINGS)."""
    return {k: v for k, v in environment.items() if k.startswith(TEXTUAL_SETTINGS)}


def warm_up(workspace: Path) -> None:
    """Import what every session needs before its first screen (~0.35 CPU-s at each start otherwise), read the
    workspace's catalog of articles (~25 ms at 100,000 articles: store.corpus.catalog._READ) and its places by article
    id (~15 ms more: Catalog.positions, which the library's rows look articles up in)."""
    import textual.drivers.web_driver  # noqa: F401  (the driver textual-serve names in TEXTUAL_DRIVER)

    import tui.app  # noqa: F401
    import tui.cli.entry  # noqa: F401
    import tui.screens.library  # noqa: F401
    import tui.screens.reader  # noqa: F401
    from store.corpus.catalog import read_ahead

    catalog = read_ahead(workspace)
    if catalog is not None:
        catalog.positions  # noqa: B018  (made now, once for every session)


END_GRACE = 3.0
"""Seconds the sessions have to save and quit when the starter is stopped, before SIGKILL."""


class _Stopped(Exception):
    """SIGTERM came: the starter ends its sessions, then itself."""


def _stop(_signum: int, _frame: object) -> None:
    raise _Stopped


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


class Starter:
    """The starter's loop: accept stand-ins, fork sessions, report their ends (see the module's docstring)."""

    def __init__(self, listener: socket.socket, settings: dict[str, str]) -> None:
        self.listener = listener
        self.settings = settings
        """The Textual settings in the environment when the starter imported Textual."""
        self.selector = selectors.DefaultSelector()
        self.sessions: dict[int, socket.socket] = {}
        """pid of each running session -> its stand-in's connection."""
        self.wake_read, self.wake_write = os.pipe()
        os.set_blocking(self.wake_read, False)
        os.set_blocking(self.wake_write, False)

    def serve_forever(self) -> None:
        """Until SIGTERM (the server stopping, or dying: see `main`), then `end_sessions`."""
        signal.set_wakeup_fd(self.wake_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # (the wake-up byte is what counts)
        signal.signal(signal.SIGTERM, _stop)
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        self.selector.register(self.wake_read, selectors.EVENT_READ, "ended")
        try:
            while True:
                for key, _ in self.selector.select():
                    if key.data is None:
                        self.accept()
                    elif key.data == "ended":
                        self.reap()
                    else:  # a stand-in's connection closed (or it sent something it should not have)
                        self.stand_in_gone(key.data)
        except _Stopped:
            self.end_sessions()

    def end_sessions(self, grace: float = END_GRACE) -> None:
        """SIGTERM to every running session (each saves and quits), SIGKILL to those still running after `grace`
        seconds: no session outlives the server, even one that hangs."""
        for pid in list(self.sessions):
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while self.sessions and time.monotonic() < deadline:
            time.sleep(0.05)
            self.reap()
        for pid in list(self.sessions):
            _signal(pid, signal.SIGKILL)
        while self.sessions and time.monotonic() < deadline + 2:
            time.sleep(0.05)
            self.reap()

    def accept(self) -> None:
        try:
            connection, _ = self.listener.accept()
        except BlockingIOError:
            return
        fds: list[int] = []
        try:
            connection.settimeout(5)
            data, fds, _, _ = socket.recv_fds(connection, REQUEST_LIMIT, 3)
            request = json.loads(data)
            if len(fds) != 3 or not isinstance(request.get("argv"), list) or not isinstance(request.get("env"), dict):
                raise ValueError("a request is the tahqiq arguments and environment with stdin, stdout and stderr")
            if textual_settings(request["env"]) != self.settings:
                raise ValueError("this session's Textual settings are not the starter's: it starts on its own")
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                self.run_session(request, fds)  # never returns
            self.sessions[pid] = connection
            connection.sendall(json.dumps({"pid": pid}).encode())
            self.selector.register(connection, selectors.EVENT_READ, pid)
        except (OSError, ValueError) as exc:
            try:
                connection.sendall(json.dumps({"error": str(exc)}).encode())
            except OSError:
                pass
            connection.close()
        finally:
            for fd in fds:
                os.close(fd)

    def reap(self) -> None:
        try:
            while os.read(self.wake_read, 512):
                pass
        except BlockingIOError:
            pass
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            connection = self.sessions.pop(pid, None)
            if connection is not None:
                try:
                    connection.sendall(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode())
                except OSError:
                    pass
                self.selector.unregister(connection)
                connection.close()

    def stand_in_gone(self, pid: int) -> None:
        connection = self.sessions.pop(pid)
        self.selector.unregister(connection)
        connection.close()
        _signal(pid, signal.SIGTERM)  # (reaped when it has saved and quit)

    def run_session(self, request: dict, fds: list[int]) -> None:
        """In the forked copy: become the session's app process, then exit with its code."""
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            self.selector.close()
            self.listener.close()
            for connection in self.sessions.values():
                connection.close()
            os.close(self.wake_read)
            os.close(self.wake_write)
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
            for fd in fds:
                if fd > 2:
                    os.close(fd)
            environment = {str(k): str(v) for k, v in request.get("env", {}).items()}
            from tui.cli.serve import SERVE_PID_ENV

            if SERVE_PID_ENV in environment:
                environment[SERVE_PID_ENV] = str(os.getppid())  # (the starter, whose death ends this session)
            os.environ.clear()
            os.environ.update(environment)
            os.chdir(request.get("cwd") or "/")
            argv = [str(a) for a in request["argv"]]
            sys.argv = ["tahqiq", *argv]
            from tui.cli.entry import main

            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001 - said on the session's stderr; the copy must never return
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)


def main(argv: list[str] | None = None) -> int:
    """`python -m tui.cli.serve_starter FD WORKSPACE`: serve stand-ins on the listening socket FD (made by the
    server), for sessions on WORKSPACE."""
    argv = sys.argv[1:] if argv is None else argv
    listener = socket.socket(fileno=int(argv[0]))
    from tui.cli.serve import die_with_server

    die_with_server()  # (the server's pid is in the environment)
    settings = textual_settings(dict(os.environ))
    warm_up(Path(argv[1]))
    if threading.active_count() != 1:
        print("tahqiq serve: the session starter is off (importing the app started a thread); each session starts "
              "its own interpreter", file=sys.stderr)
        return 1
    import gc

    gc.collect()
    gc.freeze()  # what the imports made is left out of every session's collections (and its pages stay shared)
    Starter(listener, settings).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
