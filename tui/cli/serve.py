"""`tahqiq serve`: the same app in a web browser, through textual-serve.

textual-serve runs one app process per browser session and relays its terminal output to xterm.js in
the page. We subclass its `Server` for one thing it lacks: a per-session annotator. The page URL
`/?annotator=NAME` puts the name into the websocket path (`/ws/NAME`; textual-serve's page script
appends `?width=..&height=..` to the websocket URL, so the query cannot carry it), and the session's
process is `python -m tui.cli --workspace W --annotator NAME`. Without a name in the URL the page asks
for one. With `--annotator-header` the name comes from a header a reverse proxy sets (e.g. the basic-auth
user) and nothing else can choose it.

textual-serve has no authentication: we bind to loopback by default and the README shows how to put it
behind a reverse proxy that authenticates. On a machine others share, loopback is not private, so:

* every request must name, in its Host header, an address this server answers to (the loopback names at
  its port, the --host address, --public-url's host): a web page whose domain was re-pointed at 127.0.0.1
  (DNS rebinding) is refused (421), and Origin, when sent, must be one of the same;
* with --annotator-header the proxy proves itself with a shared secret (--proxy-secret-file, header
  X-Tahqiq-Proxy): a local user who connects to the port directly cannot claim to be anyone;
* at most --max-sessions app processes run at once, one per annotator;
* each app process dies with the server (Linux: PR_SET_PDEATHSIG, asked for by the app itself when
  TAHQIQ_SERVE_PID names its parent), and the server ends them when it stops.

The HTML (the name prompt, refusal pages, the changes to textual-serve's page) is tui.cli.serve_pages'. One file
because the guarantees above are kept by the options, their checks and the server together: a change to one is
read against the others.
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from store import StoreError
from store.annotators import HELP as ANNOTATOR_HELP
from store.annotators import is_predictions, valid_name
from tui.cli.common import add_annotator_option, add_workspace_option, open_workspace
from tui.cli.serve_pages import app_page, prompt_page, refusal_page

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
PROXY_SECRET_HEADER = "X-Tahqiq-Proxy"
SERVE_PID_ENV = "TAHQIQ_SERVE_PID"
"""Set in each session's environment: the server's pid, for `die_with_server`."""
DEFAULT_MAX_SESSIONS = 20
SESSION_END_WAIT = 10.0
"""Seconds a new session of an annotator waits for their previous one (a reloaded tab) to finish."""
ATTACH = str(Path(__file__).with_name("serve_attach.py"))
"""The stand-in run for each session (by path, standard library only: see tui.cli.serve_starter)."""
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9.-]+))(?::(?P<port>[0-9]{1,5}))?$")


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
                        "reverse proxy (e.g. X-Remote-User); the URL and the page then cannot choose it. "
                        "Needs --proxy-secret-file")
    p.add_argument("--proxy-secret-file", metavar="PATH",
                   help=f"a file holding a secret the reverse proxy sends in the {PROXY_SECRET_HEADER} header; "
                        "requests without it are refused (else any local user could connect to the port and "
                        "send the annotator header)")
    p.add_argument("--max-sessions", type=int, default=DEFAULT_MAX_SESSIONS, metavar="N",
                   help=f"at most N browser sessions (app processes) at once (default {DEFAULT_MAX_SESSIONS})")
    add_workspace_option(p)
    add_annotator_option(p, help="annotator for sessions whose URL names none (default: ask on the page)")
    p.add_argument("--bidi", choices=["app", "terminal"], default=argparse.SUPPRESS,
                   help="app: tahqiq reorders and joins Arabic (default; the one that suits xterm.js, "
                        "which does no bidi)")
    p.add_argument("--no-shaping", action="store_true", default=argparse.SUPPRESS, help="do not join Arabic letters")
    return p


def valid_annotator(name: str | None) -> bool:
    """Whether a browser session may annotate as `name`: a name the workspace accepts (store.annotators.valid_name,
    the rule of Workspace.annotations) and not imported predictions."""
    return bool(name) and valid_name(name) and not is_predictions(name)


def session_argv(workspace: Path, annotator: str, bidi: str = "app", shaping: bool = True) -> list[str]:
    """The command run (without a shell) for one browser session."""
    argv = [sys.executable, "-m", "tui.cli", "--workspace", str(workspace), "--annotator", annotator,
            "--bidi", bidi]
    if not shaping:
        argv.append("--no-shaping")
    return argv


def session_command(workspace: Path, annotator: str, bidi: str = "app", shaping: bool = True) -> str:
    """`session_argv` as one shell command (what textual-serve's Server expects, and the logs show)."""
    return shlex.join(session_argv(workspace, annotator, bidi, shaping))


def parse_host(value: str | None) -> tuple[str, int | None] | None:
    """(lower-case host name or address, port or None) of a Host header; None if it is not one."""
    m = _HOST.match((value or "").strip())
    if m is None:
        return None
    port = int(m["port"]) if m["port"] else None
    return (m["v6"] or m["name"]).lower().rstrip("."), port


def _origin(value: str) -> tuple[str, int] | None:
    """(host, port) of an Origin header (`scheme://host[:port]`); None for "null" or anything else."""
    try:
        parts = urlsplit(value.strip())
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        return parts.hostname.lower().rstrip("."), parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        return None


def served_names(host: str) -> tuple[str, ...]:
    """The host names this server answers to at its own port: the loopback names, and --host when it is
    one address (not a wildcard such as 0.0.0.0)."""
    extra = host.lower().strip("[]")
    wildcard = extra in ("", "0.0.0.0", "::")
    return LOOPBACK_NAMES if wildcard or extra in LOOPBACK_NAMES else (*LOOPBACK_NAMES, extra)


def public_address(public_url: str | None) -> tuple[str, int] | None:
    """(host, port) of --public-url."""
    return _origin(public_url) if public_url else None


def die_with_server() -> None:
    """In an app process the server started (TAHQIQ_SERVE_PID set): ask Linux for SIGTERM when the server
    dies, however it dies (kill -9 too), so no orphan keeps running and holding its annotator's lock. If the
    server is already gone, exit now."""
    server = os.environ.pop(SERVE_PID_ENV, None)
    if not server or not sys.platform.startswith("linux"):
        return
    import ctypes  # not at the top: only a served session needs it (~2 ms for every other command)
    import signal

    pr_set_pdeathsig = 1
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if str(os.getppid()) != server:  # the server died before prctl: nobody will read our output
        os._exit(1)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _server_class():
    """Built on first use: textual-serve and aiohttp load only when serving, not for every other command."""
    import asyncio
    import signal

    import aiohttp_jinja2
    from aiohttp import WSCloseCode, web
    from textual_serve.app_service import AppService
    from textual_serve.server import Server, log, to_int

    class SessionService(AppService):
        """textual-serve's AppService, running the app without a shell (so the app is the server's own child)
        with TAHQIQ_SERVE_PID set, and ending the browser session when the app ends on its own."""

        def __init__(self, argv: list[str], processes: set, **kwargs: Any) -> None:
            super().__init__(shlex.join(argv), **kwargs)
            self.argv = argv
            self.processes = processes

        async def _open_app_process(self, width: int = 80, height: int = 24):
            environment = self._build_environment(width=width, height=height)
            environment[SERVE_PID_ENV] = str(os.getpid())
            self._process = process = await asyncio.create_subprocess_exec(
                *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=environment)
            self.processes.add(process)
            self._stdin = process.stdin
            return process

        async def run(self) -> None:
            try:
                await super().run()
            finally:
                if self._process is not None:
                    await self._process.wait()
                    self.processes.discard(self._process)
            await self.remote_close()  # the app ended (or never started): so does the browser's session

    class TahqiqServer(Server):
        """textual-serve's Server with the session command chosen per connection (its annotator)."""

        def __init__(self, workspace: Path, *, annotator: str | None = None, annotator_header: str | None = None,
                     bidi: str = "app", shaping: bool = True, host: str = "127.0.0.1", port: int = 8000,
                     public_url: str | None = None, proxy_secret: str | None = None,
                     max_sessions: int = DEFAULT_MAX_SESSIONS) -> None:
            if annotator_header and not proxy_secret:
                raise ValueError("--annotator-header needs a proxy secret: anyone could send the header")
            super().__init__(session_command(workspace, annotator or "NAME", bidi, shaping), host=host,
                             port=port, title="tahqiq", public_url=public_url)
            self.fixed_public_url = public_url
            self.workspace = workspace
            self.annotator = annotator
            self.annotator_header = annotator_header
            self.bidi = bidi
            self.shaping = shaping
            self.proxy_secret = proxy_secret
            self.max_sessions = max_sessions
            self.names = served_names(host)
            self.public = public_address(public_url)
            self.sessions: dict[str, web.WebSocketResponse] = {}
            """Annotator -> websocket of each running session (one per annotator, at most max_sessions)."""
            self.ending: dict[str, asyncio.Event] = {}
            """Annotators whose session is closing: set when its app has exited (and released the lock)."""
            self.processes: set[asyncio.subprocess.Process] = set()
            self.starter: subprocess.Popen | None = None
            """The warm process that forks each session (tui.cli.serve_starter), once started."""
            self.starter_socket: str | None = None

        def start_starter(self) -> None:
            """Start the session starter with the environment textual-serve gives each session (Textual reads its
            settings at import), listening on a socket in a folder only this user can enter. Sessions start their
            own interpreter while it is not there."""
            folder = tempfile.mkdtemp(prefix="tahqiq-serve-")
            path = os.path.join(folder, "starter.sock")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                listener.bind(path)
                listener.listen(64)
                environment = AppService._build_environment(self)  # (it reads `debug`, which we have too)
                environment[SERVE_PID_ENV] = str(os.getpid())
                argv = [sys.executable, "-m", "tui.cli.serve_starter", str(listener.fileno()), str(self.workspace)]
                self.starter = subprocess.Popen(argv, pass_fds=[listener.fileno()], env=environment,
                                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
                self.starter_socket = path
            except OSError as exc:
                log.warning("no session starter (%s): each session starts its own interpreter", exc)
            finally:
                listener.close()

        def stop_starter(self) -> None:
            if self.starter is not None:
                self.starter.terminate()
                try:
                    self.starter.wait(5)
                except subprocess.TimeoutExpired:
                    self.starter.kill()
                    self.starter.wait()
                self.starter = None
            if self.starter_socket is not None:
                shutil.rmtree(os.path.dirname(self.starter_socket), ignore_errors=True)
                self.starter_socket = None

        def session_argv(self, name: str) -> list[str]:
            """The command of `name`'s session: the stand-in that has the starter fork it (tui.cli.serve_attach),
            or, without a starter, the app itself."""
            argv = session_argv(self.workspace, name, self.bidi, self.shaping)
            if self.starter is None or self.starter.poll() is not None:
                return argv
            return [sys.executable, "-I", "-S", ATTACH, self.starter_socket, *argv[3:]]

        async def _make_app(self) -> web.Application:
            self.start_starter()
            app = await super()._make_app()
            app.router.add_get("/ws/{annotator}", self.handle_websocket, name="session-websocket")
            app.middlewares.append(self.guard)
            app.on_cleanup.append(self.end_processes)
            return app

        def _local_port(self, request: web.Request) -> int:
            sockname = request.transport.get_extra_info("sockname") if request.transport else None
            return sockname[1] if isinstance(sockname, tuple) and len(sockname) >= 2 else self.port

        def _served(self, request: web.Request) -> set[tuple[str, int]]:
            port = self._local_port(request)
            return {(name, port) for name in self.names} | ({self.public} if self.public else set())

        def refusal(self, request: web.Request) -> web.Response | None:
            """Why a request is refused (a response), or None: an address this server does not answer to
            (DNS rebinding), no proxy secret when one is set, an Origin of another site."""
            served = self._served(request)
            host = parse_host(request.headers.get("Host"))
            if host is not None and host[1] is None:  # no port: the scheme's, or a proxy that dropped it
                default = self.public[1] if self.public and host[0] == self.public[0] else 80
                host = (host[0], default)
            if host not in served:
                names = ", ".join(sorted(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in served))
                return _refusal(421, "Not this server",
                                f"This server answers to {names} only; it was asked for "
                                f"{request.headers.get('Host', 'no host')!r}. Open one of those addresses, or, "
                                "behind a reverse proxy, start it with --public-url.")
            if self.proxy_secret is not None:
                sent = request.headers.get(PROXY_SECRET_HEADER, "")
                if not hmac.compare_digest(sent.encode("utf-8", "replace"), self.proxy_secret.encode("utf-8")):
                    return _refusal(403, "Not through the proxy",
                                    f"This server only answers requests that come through its reverse proxy "
                                    f"(the {PROXY_SECRET_HEADER} header is missing or wrong).")
            origin = request.headers.get("Origin")
            if origin is not None and _origin(origin) not in served:
                # Browsers let any page open websockets anywhere: refuse other sites' pages (CSWSH).
                return _refusal(403, "Another site", f"websocket from another site ({origin}) refused")
            return None

        @web.middleware
        async def guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
            refused = self.refusal(request)
            return refused if refused is not None else await handler(request)

        async def on_startup(self, app: web.Application) -> None:
            """textual-serve prints its logo here, before the port is bound; we announce in `serve`."""

        async def on_shutdown(self, app: web.Application) -> None:
            """Ctrl+C: close every session's websocket, so each app quits now (it saves as it goes) instead
            of the server waiting for browsers to leave; then end the apps that have not."""
            for websocket in list(self.sessions.values()):
                await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"tahqiq serve stopped")
            await self.end_processes(app)

        async def end_processes(self, app: web.Application | None = None, grace: float = 5.0) -> None:
            """Wait up to `grace` seconds for the app processes to quit, then SIGTERM (then SIGKILL) the rest; then
            stop the session starter."""
            for signal_, wait in (("terminate", grace), ("kill", 2.0)):
                running = [p for p in self.processes if p.returncode is None]
                if not running:
                    break
                await asyncio.wait([asyncio.ensure_future(p.wait()) for p in running], timeout=wait)
                for process in (p for p in running if p.returncode is None):
                    try:
                        getattr(process, signal_)()
                    except ProcessLookupError:
                        pass
            self.stop_starter()

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

        def _full(self) -> web.Response:
            return _refusal(503, "No room", f"All {self.max_sessions} sessions of this server are in use. "
                                            "Try again when someone has closed theirs.")

        async def handle_index(self, request: web.Request) -> web.Response:
            name, problem = self._annotator(request)
            if name is None:
                status = 403 if self.annotator_header else 200
                return web.Response(text=prompt_page(problem, request.query.get("annotator", "")),
                                    content_type="text/html", status=status)
            if len(self.sessions) >= self.max_sessions and name not in self.sessions:  # (a reload: its own)
                return self._full()
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
            response.text = app_page(response.text)
            return response

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            """textual-serve's handler, with the command built for this session's annotator: one session per
            annotator (a reloaded tab waits for its previous session to end), at most max_sessions."""
            name, problem = self._annotator(request)
            if name is None:
                raise web.HTTPForbidden(text=problem or "no annotator: open /?annotator=NAME")
            ending = self.ending.get(name)
            if ending is not None and name not in self.sessions:
                try:
                    await asyncio.wait_for(ending.wait(), SESSION_END_WAIT)
                except asyncio.TimeoutError:
                    pass
            if name in self.sessions or name in self.ending:
                raise web.HTTPConflict(text=f"{name} already has a session open on this server (another tab or "
                                            "browser): close it first")
            if len(self.sessions) >= self.max_sessions:
                raise web.HTTPServiceUnavailable(text=f"all {self.max_sessions} sessions are in use")
            websocket = web.WebSocketResponse(heartbeat=15)
            if not websocket.can_prepare(request).ok:
                raise web.HTTPBadRequest(text="a websocket only: open / in a browser")
            self.sessions[name] = websocket  # taken before any await: no second session can slip in
            argv = self.session_argv(name)
            log.info("session for annotator %r", name)
            width = to_int(request.query.get("width", "80"), 80)
            height = to_int(request.query.get("height", "24"), 24)
            app_service: AppService | None = None
            try:
                await websocket.prepare(request)
                app_service = SessionService(argv, self.processes, write_bytes=websocket.send_bytes,
                                             write_str=websocket.send_str, close=websocket.close,
                                             download_manager=self.download_manager, debug=self.debug)
                await app_service.start(width, height)
                try:
                    await self._process_messages(websocket, app_service)
                finally:
                    self._ending(name, websocket)
                    await app_service.stop()
            except asyncio.CancelledError:
                await websocket.close()
            except Exception as error:  # noqa: BLE001 - one broken session must not stop the server
                log.exception(error)
            finally:
                self._ending(name, websocket)
                try:
                    if app_service is not None:
                        await app_service.stop()
                finally:
                    event = self.ending.pop(name, None)
                    if event is not None:
                        event.set()
            return websocket

        def _ending(self, name: str, websocket: web.WebSocketResponse) -> None:
            """The browser left: the name's session is closing (its app may still be saving)."""
            if self.sessions.get(name) is websocket:
                del self.sessions[name]
                self.ending.setdefault(name, asyncio.Event())

    return TahqiqServer


def _refusal(status: int, title: str, message: str):
    """A response with `status` and the page saying why a request was refused (serve_pages.refusal_page)."""
    from aiohttp import web  # loaded only when serving, as in _server_class

    return web.Response(text=refusal_page(title, message), content_type="text/html", status=status)


def run_serve(args: argparse.Namespace) -> int:
    """Open (and seed) the workspace once, then serve until Ctrl+C."""
    annotator = getattr(args, "annotator", None)
    if annotator is not None and not valid_annotator(annotator):
        raise StoreError(f"--annotator {annotator!r}: use {ANNOTATOR_HELP}")
    if args.public_url and urlsplit(args.public_url).scheme not in ("http", "https"):
        raise StoreError(f"--public-url {args.public_url!r}: give an http:// or https:// address")
    if not 0 <= args.port <= 65535:
        raise StoreError(f"--port {args.port}: not a port number")
    max_sessions = getattr(args, "max_sessions", DEFAULT_MAX_SESSIONS)
    if max_sessions < 1:
        raise StoreError(f"--max-sessions {max_sessions}: give at least 1")
    secret = read_proxy_secret(getattr(args, "proxy_secret_file", None))
    if args.annotator_header and secret is None:
        raise StoreError("--annotator-header needs --proxy-secret-file (a secret the proxy sends in "
                         f"{PROXY_SECRET_HEADER}): else any local user can connect to the port and send the header")
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
        if args.host in ("0.0.0.0", "::") and not args.public_url:
            print(f"tahqiq: note: only requests for the loopback names at port {args.port} are answered; give "
                  "--public-url with the address browsers use", file=sys.stderr)
    options: dict[str, Any] = {"annotator": annotator, "annotator_header": args.annotator_header,
                               "bidi": getattr(args, "bidi", "app"), "shaping": not getattr(args, "no_shaping", False),
                               "host": args.host, "port": args.port, "public_url": args.public_url,
                               "proxy_secret": secret, "max_sessions": max_sessions}
    _server_class()(path, **options).serve()
    return 0


def read_proxy_secret(path: str | None) -> str | None:
    """The proxy secret in `path` (its first line, stripped), or None without a path; a one-line StoreError
    if it cannot be read or is too short to be a secret."""
    if path is None:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"--proxy-secret-file {path}: cannot read it ({exc})") from None
    secret = (text.splitlines() or [""])[0].strip()
    if len(secret) < 16 or not secret.isprintable() or not secret.isascii():
        raise StoreError(f"--proxy-secret-file {path}: the first line must be a secret of at least 16 printable "
                         "ASCII characters (e.g. from `openssl rand -hex 32`)")
    try:
        if Path(path).stat().st_mode & 0o077:
            print(f"tahqiq: warning: --proxy-secret-file {path} can be read by other users; chmod 600 it",
                  file=sys.stderr)
    except OSError:
        pass
    return secret


__all__ = ["add_serve_parser", "die_with_server", "parse_host", "run_serve", "session_argv", "session_command",
           "valid_annotator"]


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    add_serve_parser(subparsers)


COMMANDS = {"serve": run_serve}
