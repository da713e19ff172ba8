"""`tahqiq serve` on a shared machine (issue 15): the Host and Origin of every request must be this server's
(DNS rebinding), the annotator header counts only with the proxy's secret, sessions are limited (one per
annotator), refused requests start nothing and create no file, and app processes die with the server, even
when it is killed with SIGKILL. Each test takes a few seconds at most."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_cli

from store import StoreError, Workspace
from tui.cli.serve import parse_host, read_proxy_secret, run_serve

ROOT = Path(__file__).resolve().parent.parent
SECRET = "0123456789abcdef0123456789abcdef"

pytest.importorskip("textual_serve", reason="textual-serve is not installed")


@pytest.fixture
async def serve(workspace_path: Path):
    """make(**options) -> (server, client): the real server class behind aiohttp's test server."""
    from aiohttp.test_utils import TestClient, TestServer

    from tui.cli.serve import _server_class

    made: list = []

    async def make(**options):
        server = _server_class()(workspace_path, **options)
        client = TestClient(TestServer(await server._make_app()))
        await client.start_server()
        made.append((server, client))
        return server, client

    yield make
    for server, client in made:
        await client.close()
        await server.end_processes(grace=2.0)


def annotator_files(workspace: Path) -> set[str]:
    folder = workspace / "annotations"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_parse_host() -> None:
    assert parse_host("127.0.0.1:8000") == ("127.0.0.1", 8000)
    assert parse_host("[::1]:8000") == ("::1", 8000)
    assert parse_host("LocalHost") == ("localhost", None)
    for bad in ("", None, "evil.example@127.0.0.1:8000", "a b", "127.0.0.1:8000/x", "[::1"):
        assert parse_host(bad) is None, bad


async def test_only_the_servers_own_addresses_are_answered(serve, workspace_path: Path) -> None:
    from aiohttp import WSServerHandshakeError

    server, http = await serve()
    port = http.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        response = await http.get("/", params={"annotator": "alice"}, headers={"Host": host})
        assert response.status == 200, host
    before = annotator_files(workspace_path)
    # DNS rebinding: the attacker's name now points at 127.0.0.1; the browser sends it in Host
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1:{port + 1}", f"127.0.0.1.evil.example:{port}",
                 f"evil.example@127.0.0.1:{port}"):
        for path in ("/", "/ws/alice", "/ws", "/static/js/textual.js", "/download/x"):
            response = await http.get(path, params={"annotator": "alice"}, headers={"Host": host})
            assert response.status == 421, (host, path, response.status)
        assert "This server answers to" in await response.text()
    # another site's page: its Origin is refused (the handshake too), ours is not
    for origin in ("http://evil.example", f"http://evil.example:{port}", "null", "file://",
                   f"http://127.0.0.1:{port + 1}"):
        response = await http.get("/ws/alice", headers={"Origin": origin})
        assert response.status == 403 and "another site" in await response.text(), origin
        with pytest.raises(WSServerHandshakeError) as refused:
            await http.ws_connect("/ws/alice", headers={"Origin": origin})
        assert refused.value.status == 403
    with pytest.raises(WSServerHandshakeError) as refused:
        await http.ws_connect("/ws/alice", headers={"Host": f"evil.example:{port}"})
    assert refused.value.status == 421
    assert (await http.get("/ws/alice")).status == 400  # not a websocket: nothing reserved or started
    response = await http.get("/", params={"annotator": "alice"}, headers={"Origin": f"http://localhost:{port}"})
    assert response.status == 200
    assert not server.processes and not server.sessions  # nothing was started
    assert annotator_files(workspace_path) == before  # and no file created for anyone


async def test_public_url_host_is_answered(serve) -> None:
    _, http = await serve(public_url="https://tahqiq.example.org/")
    for host in ("tahqiq.example.org", "tahqiq.example.org:443", "TAHQIQ.example.org"):
        response = await http.get("/", params={"annotator": "bob"}, headers={"Host": host})
        assert response.status == 200, host
    response = await http.get("/", params={"annotator": "bob"}, headers={"Host": "tahqiq.example.org:8443"})
    assert response.status == 421
    response = await http.get("/", params={"annotator": "bob"},
                              headers={"Host": "tahqiq.example.org", "Origin": "https://tahqiq.example.org"})
    assert response.status == 200
    response = await http.get("/ws/bob", headers={"Host": "tahqiq.example.org", "Origin": "https://evil.example"})
    assert response.status == 403


async def test_annotator_header_needs_the_proxy_secret(serve, workspace_path: Path) -> None:
    from tui.cli.serve import _server_class

    with pytest.raises(ValueError, match="proxy secret"):
        _server_class()(workspace_path, annotator_header="X-Remote-User")
    server, http = await serve(annotator_header="X-Remote-User", proxy_secret=SECRET)
    # a local user connecting to the port directly, claiming to be the boss
    for headers in ({"X-Remote-User": "boss"}, {"X-Remote-User": "boss", "X-Tahqiq-Proxy": "guess"},
                    {"X-Remote-User": "boss", "X-Tahqiq-Proxy": SECRET[:-1]}):
        for path in ("/", "/ws", "/static/js/textual.js"):
            response = await http.get(path, headers=headers)
            assert response.status == 403, (headers, path)
    assert "reverse proxy" in await response.text()
    response = await http.get("/", headers={"X-Remote-User": "boss", "X-Tahqiq-Proxy": SECRET})
    assert response.status == 200 and "tahqiq · boss" in await response.text()
    assert not server.processes


def test_serve_refuses_annotator_header_without_a_secret(tmp_path: Path) -> None:
    base = {"workspace": str(tmp_path / "ws"), "command": "serve", "host": "127.0.0.1", "port": 8000,
            "public_url": None, "bidi": "app", "no_shaping": False, "annotator": None, "max_sessions": 20}
    with pytest.raises(StoreError, match="--annotator-header needs --proxy-secret-file"):
        run_serve(argparse.Namespace(**base, annotator_header="X-Remote-User", proxy_secret_file=None))
    short = tmp_path / "short"
    short.write_text("abc\n")
    with pytest.raises(StoreError, match="at least 16"):
        read_proxy_secret(str(short))
    with pytest.raises(StoreError, match="cannot read"):
        read_proxy_secret(str(tmp_path / "missing"))
    good = tmp_path / "secret"
    good.write_text(SECRET + "\n")
    good.chmod(0o600)
    assert read_proxy_secret(str(good)) == SECRET
    with pytest.raises(StoreError, match="--max-sessions"):
        run_serve(argparse.Namespace(**{**base, "max_sessions": 0}, annotator_header=None, proxy_secret_file=None))
    out = run_cli(["--workspace", str(tmp_path / "ws"), "serve", "--annotator-header", "X-Remote-User"], cwd=ROOT,
                  timeout=30)
    assert out.returncode == 1 and out.stderr.count("\n") == 1 and "--proxy-secret-file" in out.stderr


async def _first_screen(ws, timeout: float = 30) -> None:
    """Wait until the session's app has drawn something."""
    from aiohttp import WSMsgType

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = await ws.receive(timeout=deadline - time.monotonic())
        if message.type == WSMsgType.BINARY and message.data:
            return
        if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR):
            raise AssertionError(f"session closed: {message}")
    raise AssertionError("no screen")


async def test_session_limit_and_one_session_per_annotator(serve, workspace_path: Path) -> None:
    from aiohttp import WSServerHandshakeError

    server, http = await serve(max_sessions=1)
    ws = await http.ws_connect("/ws/alice", params={"width": "80", "height": "24"})
    await _first_screen(ws)
    assert list(server.sessions) == ["alice"] and len(server.processes) == 1
    # the server is full: a clear page, and the websocket is refused before any process starts
    response = await http.get("/", params={"annotator": "bob"})
    assert response.status == 503 and "All 1 sessions of this server are in use" in await response.text()
    with pytest.raises(WSServerHandshakeError) as refused:
        await http.ws_connect("/ws/bob")
    assert refused.value.status == 503
    # alice's own page still loads (a reload), but a second live session of hers is refused
    assert (await http.get("/", params={"annotator": "alice"})).status == 200
    with pytest.raises(WSServerHandshakeError) as refused:
        await http.ws_connect("/ws/alice")
    assert refused.value.status == 409
    assert len(server.processes) == 1
    assert not any(name.startswith("bob.") for name in annotator_files(workspace_path))  # names make no files
    await ws.close()
    for _ in range(100):  # her app quits and releases the slot
        if not server.sessions and not server.ending and not server.processes:
            break
        await asyncio.sleep(0.1)
    assert not server.sessions and not server.processes
    assert (await http.get("/", params={"annotator": "bob"})).status == 200
    # a reloaded tab: the new websocket comes while the old session is still ending; it waits, then starts
    ws = await http.ws_connect("/ws/bob", params={"width": "80", "height": "24"})
    await _first_screen(ws)
    await ws.close()
    ws = await http.ws_connect("/ws/bob", params={"width": "80", "height": "24"})
    await _first_screen(ws)
    assert list(server.sessions) == ["bob"]
    await ws.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has exited: only its exit status is left


def _command(pid: int) -> str:
    """What a Python process runs: the module after -m, or the script's file name."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    return argv[argv.index("-m") + 1] if "-m" in argv else next(Path(a).name for a in argv if a.endswith(".py"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
async def test_app_processes_die_with_a_killed_server(workspace_path: Path) -> None:
    import aiohttp

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "tui.cli", "--workspace", str(workspace_path), "serve",
                               "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT,
                              start_new_session=True)
    children: list[int] = []
    try:
        line = await asyncio.wait_for(asyncio.to_thread(server.stdout.readline), 30)
        assert b"serving" in line, line
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(f"http://127.0.0.1:{port}/ws/alice?width=80&height=24")
            await _first_screen(ws)
            children = [c for c in _children(server.pid) if _alive(c)]
            # the session starter, and the stand-in textual-serve runs for the session (no shell between)
            assert sorted(_command(c) for c in children) == ["serve_attach.py", "tui.cli.serve_starter"]
            starter = next(c for c in children if _command(c) == "tui.cli.serve_starter")
            sessions = [c for c in _children(starter) if _alive(c)]
            assert len(sessions) == 1, sessions  # the app, forked by the starter
            children += sessions
            os.kill(server.pid, signal.SIGKILL)
            server.wait(5)
            deadline = time.monotonic() + 5
            while any(_alive(c) for c in children) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert not any(_alive(c) for c in children), "an app process outlived its server"
            await ws.close()
    finally:
        for pid in [server.pid, *children]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        server.wait(5)
    ws_ = Workspace.open(workspace_path)
    try:
        ws_.annotations("alice").acquire()  # her lock is free again
    finally:
        ws_.close()
