"""The stand-in textual-serve runs for each `tahqiq serve` session: it has the warm session starter fork the app.

Run as `python -I -S serve_attach.py SOCKET ARGS...` (by path, standard library only: it starts in ~15 ms where
the app's imports take ~0.35 CPU-s). It hands the starter (tui.cli.serve_starter, which explains the whole) its
stdin, stdout and stderr with ARGS, its environment and its folder, lets go of those three pipes, and waits: it
passes SIGTERM, SIGINT and SIGHUP on to the app and exits with the app's exit code.

When the starter does not start the session (it is gone, or it declines: see there), the stand-in becomes the
session itself: it execs `python -m tui.cli ARGS`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys


def run_itself(args: list[str]) -> None:
    """Become the session: `python -m tui.cli ARGS` in this process (never returns)."""
    os.execv(sys.executable, [sys.executable, "-m", "tui.cli", *args])


def main(argv: list[str]) -> int:
    path, args = argv[0], argv[1:]
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        connection.connect(path)
        request = json.dumps({"argv": args, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
        socket.send_fds(connection, [request], [0, 1, 2])
        answer = json.loads(connection.recv(65536) or b"{}")
    except (OSError, ValueError):
        answer = {}
    pid = answer.get("pid")
    if not isinstance(pid, int):
        connection.close()
        run_itself(args)  # (the three pipes were never taken: the session is this process)

    def pass_on(signum: int, _frame: object) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, pass_on)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # the app has them: textual-serve sees the end of its output when the app ends
        os.dup2(null, fd)
    while True:
        try:
            data = connection.recv(65536)
        except InterruptedError:
            continue
        if not data:
            return 1  # (the starter died: the session died with it)
        ended = json.loads(data)
        if "exit" in ended:
            code = ended["exit"]
            return code if 0 <= code < 256 else 128 - code if code < 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
