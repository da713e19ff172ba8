"""`tahqiq serve` without a browser: arguments, the per-session command, the pages and the websocket
gate of the server, and the in-app export and open-link actions (the browser run is test_serve_browser.py)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import pytest

from tui.cli.serve import add_serve_parser, is_loopback, session_command, valid_annotator

pytestmark = pytest.mark.usefixtures("quiet_waits")  # Pilot waits for the app, not the clock (conftest.py)


def test_serve_is_a_tahqiq_command_bound_to_loopback_by_default() -> None:
    from tui.cli.entry import build_parser, commands

    args = build_parser().parse_args(["serve"])
    assert (args.command, args.host, args.port, args.public_url, args.annotator_header) == (
        "serve", "127.0.0.1", 8000, None, None)
    assert "serve" in commands()
    args = build_parser().parse_args(["--workspace", "W", "--bidi", "terminal", "serve", "--port", "9000",
                                      "--annotator", "alice"])
    assert (args.workspace, args.bidi, args.port, args.annotator) == ("W", "terminal", 9000, "alice")


def test_serve_parser_on_its_own() -> None:
    parser = argparse.ArgumentParser()
    add_serve_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve", "--host", "0.0.0.0", "--public-url", "https://t.example.org"])
    assert (args.host, args.port, args.public_url) == ("0.0.0.0", 8000, "https://t.example.org")
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


def test_session_command_runs_the_app_for_one_annotator(tmp_path: Path) -> None:
    ws = tmp_path / "a workspace; rm -rf ~"
    argv = shlex.split(session_command(ws, "alice", "app", shaping=False))
    assert argv == [sys.executable, "-m", "tui.cli", "--workspace", str(ws), "--annotator", "alice",
                    "--bidi", "app", "--no-shaping"]


@pytest.mark.parametrize("name,ok", [("alice", True), ("a.b-c_9", True), ("", False), ("-x", False),
                                     ("a b", False), ("../etc", False), ("é", False), ("x" * 65, False),
                                     ("predictions.model", False), (None, False)])
def test_annotator_names(name, ok) -> None:
    assert valid_annotator(name) is ok


@pytest.fixture
async def client(workspace_path: Path):
    pytest.importorskip("textual_serve", reason="textual-serve is not installed")
    from aiohttp.test_utils import TestClient, TestServer

    from tui.cli.serve import _server_class

    async def make(**options):
        server = _server_class()(workspace_path, **options)
        made = TestClient(TestServer(await server._make_app()))
        await made.start_server()
        clients.append(made)
        return made

    clients: list = []
    yield make
    for made in clients:
        await made.close()


async def test_page_asks_for_a_name_then_carries_it_to_the_websocket(client) -> None:
    http = await client()
    page = await (await http.get("/")).text()
    assert 'name="annotator"' in page and "data-session-websocket-url" not in page

    response = await http.get("/", params={"annotator": "alice"})
    page = await response.text()
    assert response.status == 200
    assert f'data-session-websocket-url="ws://{http.host}:{http.port}/ws/alice"' in page
    assert "unicode-bidi: bidi-override" in page  # the browser must not reorder our visual rows
    assert "googleapis" not in page and "/static/js/textual.js" in page

    page = await (await http.get("/", params={"annotator": "../x"})).text()
    assert "annotator name &#x27;../x&#x27;" in page and "data-session-websocket-url" not in page

    response = await http.get("/ws/bad%20name")
    assert response.status == 403
    response = await http.get("/ws")  # no name anywhere: refused, no session started
    assert response.status == 403
    response = await http.get("/ws/alice", headers={"Origin": "https://evil.example"})
    assert response.status == 403 and "another site" in await response.text()


async def test_public_url_and_forwarded_proto_make_wss(client) -> None:
    http = await client(public_url="https://tahqiq.example.org/")
    page = await (await http.get("/", params={"annotator": "bob"})).text()
    assert 'data-session-websocket-url="wss://tahqiq.example.org/ws/bob"' in page
    assert "https://tahqiq.example.org/static/js/textual.js" in page

    http = await client()
    page = await (await http.get("/", params={"annotator": "bob"}, headers={"X-Forwarded-Proto": "https"})).text()
    assert f'data-session-websocket-url="wss://{http.host}:{http.port}/ws/bob"' in page


async def test_default_annotator_and_proxy_header(client) -> None:
    http = await client(annotator="team")
    page = await (await http.get("/")).text()
    assert "/ws/team" in page
    page = await (await http.get("/", params={"annotator": "carol"})).text()
    assert "/ws/carol" in page

    secret = "s3cret-from-the-proxy-0123456789"
    proxy = {"X-Tahqiq-Proxy": secret}
    http = await client(annotator_header="X-Remote-User", proxy_secret=secret)
    response = await http.get("/", params={"annotator": "mallory"}, headers=proxy)
    assert response.status == 403 and "X-Remote-User header is missing" in await response.text()
    page = await (await http.get("/", params={"annotator": "mallory"},
                                 headers={**proxy, "X-Remote-User": "dana"})).text()
    assert f'data-session-websocket-url="ws://{http.host}:{http.port}/ws"' in page and "mallory" not in page
    assert (await http.get("/ws/mallory", headers=proxy)).status == 403  # the URL cannot choose the name
    assert (await http.get("/ws", headers={**proxy, "X-Remote-User": "not ok"})).status == 403
    # without the proxy's secret (a local user connecting to the port), the header is worth nothing
    response = await http.get("/", headers={"X-Remote-User": "dana"})
    assert response.status == 403 and "reverse proxy" in await response.text()


def test_run_serve_refuses_bad_arguments_before_serving(tmp_path: Path) -> None:
    from store import StoreError
    from tui.cli.serve import run_serve

    base = {"workspace": str(tmp_path / "ws"), "command": "serve", "host": "127.0.0.1", "port": 8000,
            "public_url": None, "annotator_header": None, "bidi": "app", "no_shaping": False}
    with pytest.raises(StoreError, match="--annotator"):
        run_serve(argparse.Namespace(**base, annotator="not ok"))
    with pytest.raises(StoreError, match="--public-url"):
        run_serve(argparse.Namespace(**{**base, "public_url": "tahqiq.example.org"}, annotator=None))


async def test_export_action_delivers_jsonl(workspace_path: Path, tmp_path: Path) -> None:
    from store import Workspace
    from tui.app import make_app
    from tui.screens.deliver import export_jsonl

    ws = Workspace.open(workspace_path)
    article = ws.articles()[0]
    ws.annotations("alice").add_entity(article.id, 0, 3, "PER")
    ws.close()
    out = tmp_path / "downloads"
    out.mkdir()
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        export_jsonl(app.screen, save_directory=out)
        for _ in range(100):
            await pilot.pause(0.05)
            files = list(out.glob("tahqiq-export-*.jsonl"))
            if files and files[0].stat().st_size:
                break
    assert len(files) == 1
    records = [json.loads(line) for line in files[0].read_text(encoding="utf-8").splitlines()]
    assert [(r["annotator"], r["id"], [e["label"] for e in r["entities"]]) for r in records] == [
        ("alice", article.id, ["PER"])]


async def test_export_action_with_nothing_to_export(workspace_path: Path, tmp_path: Path) -> None:
    from store import Workspace
    from tui.app import make_app
    from tui.screens.deliver import export_jsonl

    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(120, 30)) as pilot:
        export_jsonl(app.screen, save_directory=tmp_path)
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
        assert any("Nothing to export" in n.message for n in app._notifications)
    assert not list(tmp_path.glob("tahqiq-export-*"))


@pytest.mark.parametrize("web,desktop,expected", [(True, False, ["https://example.org/a?b=1"]),
                                                   (False, True, ["https://example.org/a?b=1"]),
                                                   (False, False, [])])
async def test_open_article_url(workspace_path: Path, monkeypatch, web, desktop, expected) -> None:
    from textual.app import App

    from store import Workspace
    from tui.app import make_app
    from tui.screens import deliver

    app = make_app(Workspace.open(workspace_path), "alice")
    opened: list[str] = []
    copied: list[str] = []
    monkeypatch.setattr(App, "is_web", property(lambda self: web))
    monkeypatch.setattr(deliver, "_desktop_browser_possible", lambda: desktop)
    monkeypatch.setattr(app, "open_url", lambda url, new_tab=True: opened.append(url))
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(120, 30)) as pilot:
        deliver.open_article_url(app.screen, "https://example.org/a?b=1")
        deliver.open_article_url(app.screen, None)
        deliver.open_article_url(app.screen, "javascript:alert(1)")
        await pilot.pause()
    assert opened == expected
    assert copied == ([] if web else ["https://example.org/a?b=1"])
