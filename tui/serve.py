"""`tahqiq serve`: the same app in a web browser, through textual-serve.

textual-serve runs one app process per browser session and relays its terminal output to xterm.js in
the page. We subclass its `Server` for one thing it lacks: a per-session annotator. The page URL
`/?annotator=NAME` puts the name into the websocket path (`/ws/NAME`; textual-serve's page script
appends `?width=..&height=..` to the websocket URL, so the query cannot carry it), and the session's
process is `python -m tui.cli --workspace W --annotator NAME`. Without a name in the URL the page asks
for one. With `--annotator-header` the name comes from a header a reverse proxy sets (e.g. the basic-auth
user) and nothing else can choose it.

textual-serve has no authentication: we bind to loopback by default and the README shows how to put it
behind a reverse proxy that authenticates.
"""

from __future__ import annotations

import argparse
import html
import ipaddress
import re
import shlex
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

NO_BROWSER_BIDI = """<style>
  /* tahqiq sends each row already in visual order with joined (presentation-form) letters. xterm.js's
     canvas and WebGL renderers draw cell by cell, so the browser never reorders; should xterm.js fall back
     to its DOM renderer, these rules stop the browser from reordering the rows a second time. */
  .xterm-rows, .xterm-rows * { unicode-bidi: bidi-override !important; direction: ltr !important; }
</style>
"""
GOOGLE_FONTS = re.compile(r'<link[^>]*fonts\.googleapis\.com[^>]*>\s*')
"""textual-serve's page loads Roboto Mono from Google, which has no Arabic and fails offline; we drop it, so
every browser uses its local monospace font (DejaVu Sans Mono on Debian, with Arabic presentation forms)."""
ANNOTATOR_HELP = "letters, digits, '.', '_' or '-', starting with a letter or digit (at most 64)"


def add_serve_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "serve", help="serve the app to web browsers (textual-serve)",
        description="Serve the app to web browsers: each browser session runs its own app on the workspace, "
                    "as the annotator named in the URL (http://HOST:PORT/?annotator=NAME) or asked on the "
                    "page. There is no authentication: keep the default loopback address and put a reverse "
                    "proxy with authentication in front (see the README).")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback only)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--public-url", metavar="URL",
                   help="the address browsers use, when behind a reverse proxy (e.g. https://tahqiq.example.org); "
                        "default: taken from each request's Host header")
    p.add_argument("--annotator-header", metavar="HEADER",
                   help="take each session's annotator from this request header, set by an authenticating "
                        "reverse proxy (e.g. X-Remote-User); the URL and the page then cannot choose it")
    p.add_argument("--workspace", metavar="DIR", default=argparse.SUPPRESS,
                   help="workspace folder (default: $TAHQIQ_WORKSPACE or ~/.local/share/tahqiq)")
    p.add_argument("--annotator", metavar="NAME", default=argparse.SUPPRESS,
                   help="annotator for sessions whose URL names none (default: ask on the page)")
    p.add_argument("--bidi", choices=["app", "terminal"], default=argparse.SUPPRESS,
                   help="app: tahqiq reorders and joins Arabic (default; the one that suits xterm.js, "
                        "which does no bidi)")
    p.add_argument("--no-shaping", action="store_true", default=argparse.SUPPRESS, help="do not join Arabic letters")
    return p


def valid_annotator(name: str | None) -> bool:
    """Whether `name` is an annotator name the workspace accepts (the same rule as Workspace.annotations)."""
    from store.suggest import PREDICTIONS_PREFIX
    from store.workspace import _ANNOTATOR

    return bool(name) and bool(_ANNOTATOR.match(name)) and not name.startswith(PREDICTIONS_PREFIX)


def session_command(workspace: Path, annotator: str, bidi: str = "app", shaping: bool = True) -> str:
    """The shell command textual-serve runs for one browser session."""
    argv = [sys.executable, "-m", "tui.cli", "--workspace", str(workspace), "--annotator", annotator,
            "--bidi", bidi]
    if not shaping:
        argv.append("--no-shaping")
    return shlex.join(argv)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _server_class():
    """Built on first use, so `import tui.serve` (and `tahqiq --help`) works without textual-serve."""
    import asyncio
    import signal

    import aiohttp_jinja2
    from aiohttp import WSCloseCode, web
    from textual_serve.app_service import AppService
    from textual_serve.server import Server, log, to_int

    class TahqiqServer(Server):
        """textual-serve's Server with the session command chosen per connection (its annotator)."""

        def __init__(self, workspace: Path, *, annotator: str | None = None, annotator_header: str | None = None,
                     bidi: str = "app", shaping: bool = True, host: str = "127.0.0.1", port: int = 8000,
                     public_url: str | None = None) -> None:
            super().__init__(session_command(workspace, annotator or "NAME", bidi, shaping), host=host,
                             port=port, title="tahqiq", public_url=public_url)
            self.fixed_public_url = public_url
            self.workspace = workspace
            self.annotator = annotator
            self.annotator_header = annotator_header
            self.bidi = bidi
            self.shaping = shaping
            self.sockets: set[web.WebSocketResponse] = set()

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.router.add_get("/ws/{annotator}", self.handle_websocket, name="session-websocket")
            return app

        async def on_startup(self, app: web.Application) -> None:
            """textual-serve prints its logo here, before the port is bound; we announce in `serve`."""

        async def on_shutdown(self, app: web.Application) -> None:
            """Ctrl+C: close every session's websocket, so each app quits now (it saves as it goes) instead
            of the server waiting for browsers to leave."""
            for socket in list(self.sockets):
                await socket.close(code=WSCloseCode.GOING_AWAY, message=b"tahqiq serve stopped")

        def serve(self, debug: bool = False) -> None:
            """textual-serve's `serve`, announcing the address once it is bound (a port in use is an error
            then, not after a misleading 'serving')."""
            self.debug = debug
            self.initialize_logging()
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.add_signal_handler(signal.SIGINT, self.request_exit)
                loop.add_signal_handler(signal.SIGTERM, self.request_exit)
            except NotImplementedError:
                pass
            web.run_app(self._make_app(), host=self.host, port=self.port, handle_signals=False, loop=loop,
                        print=lambda *_: self.announce())

        def announce(self) -> None:
            where = self.fixed_public_url or f"http://{self.host}:{self.port}"
            who = (f"annotator from the {self.annotator_header} header" if self.annotator_header
                   else f"open {where.rstrip('/')}/?annotator=NAME (or the page asks)")
            print(f"tahqiq: serving {self.workspace} on {where}; {who}; Ctrl+C stops", flush=True)

        def _base_url(self, request: web.Request) -> str:
            """Where the browser reaches us: --public-url, else what it asked for (Host header; scheme from
            X-Forwarded-Proto when a TLS proxy sets it)."""
            if self.fixed_public_url:
                return self.fixed_public_url.rstrip("/")
            scheme = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
            return f"{'https' if scheme == 'https' else 'http'}://{request.host}"

        def _annotator(self, request: web.Request) -> tuple[str | None, str | None]:
            """(name, problem) for a request: from the proxy header, the URL, or the server default."""
            if self.annotator_header:
                name = request.headers.get(self.annotator_header, "").strip()
                if not name:
                    return None, f"the {self.annotator_header} header is missing (is the proxy in front?)"
            else:
                name = request.match_info.get("annotator") or request.query.get("annotator", "").strip()
                name = name or self.annotator or ""
                if not name:
                    return None, None
            if not valid_annotator(name):
                return None, f"annotator name {name!r}: use {ANNOTATOR_HELP}"
            return name, None

        async def handle_index(self, request: web.Request) -> web.Response:
            name, problem = self._annotator(request)
            if name is None:
                status = 403 if self.annotator_header else 200
                return web.Response(text=_prompt_page(problem, request.query.get("annotator", "")),
                                    content_type="text/html", status=status)
            base = self._base_url(request)
            ws_base = ("wss:" if base.startswith("https:") else "ws:") + base.split(":", 1)[1]
            ws_path = request.app.router["session-websocket"].url_for(annotator=name) \
                if not self.annotator_header else request.app.router["websocket"].url_for()
            context = {
                "font_size": to_int(request.query.get("fontsize", "16"), 16),
                "app_websocket_url": f"{ws_base}{ws_path}",
                "config": {"static": {"url": f"{base}/static/"}},
                "application": {"name": f"tahqiq · {name}"},
            }
            response = aiohttp_jinja2.render_template("app_index.html", request, context)
            page = GOOGLE_FONTS.sub("", response.text)  # no third-party request; the system monospace font
            response.text = page.replace("</head>", f"{NO_BROWSER_BIDI}</head>", 1)
            return response

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            """textual-serve's handler, with the command built for this session's annotator."""
            origin = request.headers.get("Origin")
            if origin and urlsplit(origin).netloc != urlsplit(self._base_url(request)).netloc:
                # Browsers let any page open websockets anywhere: refuse other sites' pages (CSWSH).
                raise web.HTTPForbidden(text=f"websocket from another site ({origin}) refused")
            name, problem = self._annotator(request)
            if name is None:
                raise web.HTTPForbidden(text=problem or "no annotator: open /?annotator=NAME")
            command = session_command(self.workspace, name, self.bidi, self.shaping)
            log.info("session for annotator %r", name)
            websocket = web.WebSocketResponse(heartbeat=15)
            width = to_int(request.query.get("width", "80"), 80)
            height = to_int(request.query.get("height", "24"), 24)
            app_service: AppService | None = None
            self.sockets.add(websocket)
            try:
                await websocket.prepare(request)
                app_service = AppService(command, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
                                         close=websocket.close, download_manager=self.download_manager,
                                         debug=self.debug)
                await app_service.start(width, height)
                try:
                    await self._process_messages(websocket, app_service)
                finally:
                    await app_service.stop()
            except asyncio.CancelledError:
                await websocket.close()
            except Exception as error:  # noqa: BLE001 - one broken session must not stop the server
                log.exception(error)
            finally:
                self.sockets.discard(websocket)
                if app_service is not None:
                    await app_service.stop()
            return websocket

    return TahqiqServer


def _prompt_page(problem: str | None, value: str) -> str:
    """The page asking who is annotating (a GET form back to / with ?annotator=NAME)."""
    error = f'<p class="error">{html.escape(problem)}</p>' if problem else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tahqiq · تحقيق</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ background: #0c181f; color: #eee; font-family: sans-serif; display: flex; align-items: center;
       justify-content: center; height: 100vh; margin: 0; }}
form {{ background: #12232d; padding: 2em 3em; border-radius: 6px; }}
input {{ font-size: 1.2em; padding: .3em; margin: .5em 0; }}
button {{ font-size: 1.1em; padding: .4em 1.2em; background: #5e0ba7; color: #fff; border: none; }}
.error {{ color: #ff8080; }} .hint {{ color: #aaa; font-size: .9em; }}
</style></head>
<body><form method="get" action="">
<h1>tahqiq · تحقيق</h1>
<label for="annotator">Your annotator name</label><br>
<input id="annotator" name="annotator" value="{html.escape(value)}" required autofocus
       pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{{0,63}}" autocomplete="username">
<button type="submit">Start</button>
{error}
<p class="hint">{html.escape(ANNOTATOR_HELP)}.<br>Bookmark the next page: its address carries your name.</p>
</form></body></html>
"""


def run_serve(args: argparse.Namespace) -> int:
    """Open (and seed) the workspace once, then serve until Ctrl+C."""
    from store import StoreError
    from tui.cli import open_workspace

    try:
        import textual_serve  # noqa: F401
    except ImportError:
        raise StoreError("tahqiq serve needs textual-serve: pip install textual-serve") from None
    annotator = getattr(args, "annotator", None)
    if annotator is not None and not valid_annotator(annotator):
        raise StoreError(f"--annotator {annotator!r}: use {ANNOTATOR_HELP}")
    if args.public_url and urlsplit(args.public_url).scheme not in ("http", "https"):
        raise StoreError(f"--public-url {args.public_url!r}: give an http:// or https:// address")
    if not 0 <= args.port <= 65535:
        raise StoreError(f"--port {args.port}: not a port number")
    workspace = open_workspace(args, seed=True)  # seeded here, not racing in the first sessions
    try:
        workspace.schema  # noqa: B018 - a broken labels.toml is one line here, not in every browser
        path = workspace.path.resolve()
    finally:
        workspace.close()
    if getattr(args, "bidi", "app") == "terminal":
        print("tahqiq: warning: --bidi terminal sends Arabic in logical order, but xterm.js in the browser does "
              "no bidi: it will read backwards and unjoined", file=sys.stderr)
    if not is_loopback(args.host):
        print(f"tahqiq: warning: listening on {args.host}: anyone who can reach it can annotate and export, "
              "as anyone (textual-serve has no authentication); prefer a reverse proxy with authentication",
              file=sys.stderr)
    options: dict[str, Any] = {"annotator": annotator, "annotator_header": args.annotator_header,
                               "bidi": getattr(args, "bidi", "app"), "shaping": not getattr(args, "no_shaping", False),
                               "host": args.host, "port": args.port, "public_url": args.public_url}
    _server_class()(path, **options).serve()
    return 0


__all__ = ["add_serve_parser", "run_serve", "session_command", "valid_annotator"]
