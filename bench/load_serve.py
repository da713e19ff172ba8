"""Load test of `tahqiq serve`: N browser sessions opened at once on loopback, as a team starting its day.

Starts `tahqiq --workspace W serve --port P --max-sessions 25` (the installed `tahqiq` beside this
interpreter, else `python -m tui.cli`), then, as a browser does, opens websockets `/ws/NAME?width=160&height=40`
(textual-serve starts one app process per websocket and relays its terminal output in binary frames):

1. one session alone, the baseline: its first-screen time and resident memory; closed, and its process waited for;
2. N sessions at once (--stagger S spaces their starts): for each, the time from opening its websocket until
   the library's rows are drawn (--marker, default "wire-", the source names bench/synth.py gives every article,
   found in the terminal output the websocket carries); when all N are up, the resident memory of the whole
   process tree (server and every session process, from /proc; RSS, and PSS which counts shared pages once),
   then its peak over --settle seconds (a large library loads the team's figures after its first screen);
3. every websocket closed, the session processes waited for, the server stopped with SIGTERM, then its process
   group killed; any process of the tree still alive is named in the report and killed by its id.

Sessions are the workspace's own annotators first (their databases are read as each starts), then fresh names
load01, load02, ... (empty databases, which the app creates: with --workspace, the test leaves those files and
each session's state file in it). The figures go through bench.run.figure against bench.run.TARGETS
("serve_first_screen", "serve_memory"). The derived "annotators one 2-core server holds" divides the memory
available on this machine (MemAvailable before the server started, and a 4 GB budget) by the memory each session
adds; it is a memory bound only (see its caveat). The machine is shared: the report splits the CPU time the
machine spent from the first connect to all sessions up into the sessions', the server's, these clients' and other
processes', and estimates the all-up time had the cores been ours alone.

Run: python bench/load_serve.py [--workspace W | --articles N [--annotations M]] [--sessions 20] [--stagger S]
                                [--settle S] [--timeout S] [--marker TEXT]
Without --workspace it builds a synthetic one (bench/synth.py, N articles, default 2,000, and 10 annotations
per article over 5 annotators) in a scratch folder, removed at the end. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import ANNOTATORS, TARGETS, figure, rounded  # noqa: E402

WIDTH, HEIGHT = 160, 40
MAX_SESSIONS = 25
BUDGET_MB = TARGETS["serve_memory"][1]
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ----- processes, from /proc ------------------------------------------------------------------------------

def children(pid: int) -> list[int]:
    """The direct children of `pid` (every thread's)."""
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                out += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children(p)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def status_kb(pid: int, field: str) -> int:
    """A `kB` field of /proc/PID/status (VmRSS, VmHWM), 0 if the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def pss_kb(pid: int) -> int:
    """Proportional set size: resident pages, each shared one divided among its sharers."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, ValueError, IndexError):
        return 0.0


def annotator_of(pid: int) -> str | None:
    """The --annotator of a session process, from its command line."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")
    except OSError:
        return None
    return argv[argv.index("--annotator") + 1] if "--annotator" in argv[:-1] else None


def sample(server: int) -> dict:
    """The memory of the server's process tree now (MB): RSS and PSS sums, the server's own, each session's."""
    pids = tree(server)
    rss = {p: status_kb(p, "VmRSS") / 1024 for p in pids}
    return {"rss_mb": sum(rss.values()), "pss_mb": sum(pss_kb(p) for p in pids) / 1024,
            "server_mb": rss[server], "sessions": {p: mb for p, mb in rss.items() if p != server},
            "names": {p: annotator_of(p) or str(p) for p in pids if p != server}, "pids": pids}


def machine_cpu_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores (/proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal
    return (total - fields[3] - fields[4]) / CLK_TCK, total / CLK_TCK


def own_cpu_s() -> float:
    """CPU seconds this process (the websocket clients) has used."""
    t = os.times()
    return t.user + t.system


def mem_available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ----- the server ------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tahqiq_cmd() -> list[str]:
    """The installed `tahqiq` command (beside this interpreter), else python -m tui.cli."""
    script = Path(sys.executable).parent / "tahqiq"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui.cli"]


def start_server(ws: Path, port: int, log: Path, timeout: float = 120) -> subprocess.Popen:
    """`tahqiq serve` in its own process group, once it says it is serving."""
    argv = tahqiq_cmd() + ["--workspace", str(ws), "serve", "--host", "127.0.0.1", "--port", str(port),
                           "--max-sessions", str(MAX_SESSIONS)]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
                                env={**os.environ, "TEXTUAL_ANIMATIONS": "none"})
    deadline = time.monotonic() + timeout
    while b"serving" not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(proc, [])
            raise SystemExit(f"tahqiq serve did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)
    return proc


def stop_server(proc: subprocess.Popen, seen: list[int]) -> list[int]:
    """SIGTERM (the server closes its sessions), then SIGKILL to its process group; the pids in `seen` still
    alive after that are killed one by one and returned."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the group this script made for the server: its sessions too
    except ProcessLookupError:
        pass
    proc.wait(5)
    time.sleep(0.2)
    left = [p for p in seen if p != proc.pid and alive(p)]
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


# ----- sessions ----------------------------------------------------------------------------------------------

class Session:
    """One browser session: a websocket that reads the app's output until told to close."""

    def __init__(self, http, url: str, name: str, marker: bytes, timeout: float) -> None:
        self.http, self.url, self.name, self.marker, self.timeout = http, url, name, marker, timeout
        self.first_ms: float | None = None
        self.problem: str | None = None
        self.up = asyncio.Event()  # the first screen is drawn, or the session failed
        self.leave = asyncio.Event()
        self.received = 0

    async def run(self, delay: float = 0.0) -> None:
        from aiohttp import WSMsgType

        await asyncio.sleep(delay)
        start = time.perf_counter()
        seen = b""
        try:
            ws = await self.http.ws_connect(f"{self.url}/ws/{self.name}?width={WIDTH}&height={HEIGHT}",
                                            max_msg_size=0)
        except Exception as exc:  # noqa: BLE001 - reported, not raised: the other sessions go on
            self.problem = f"connect: {exc}"
            self.up.set()
            return
        try:
            deadline = start + self.timeout
            while self.first_ms is None:
                left = deadline - time.perf_counter()
                if left <= 0:
                    self.problem = f"no first screen within {self.timeout} s; last output: " \
                                   f"{seen[-300:].decode('utf-8', 'replace')!r}"
                    break
                try:
                    message = await ws.receive(timeout=left)
                except asyncio.TimeoutError:
                    continue
                if message.type == WSMsgType.BINARY:
                    self.received += len(message.data)
                    seen = seen[-len(self.marker):] + message.data if len(seen) > 1 << 16 else seen + message.data
                    if self.marker in seen:
                        self.first_ms = (time.perf_counter() - start) * 1000
                elif message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR):
                    self.problem = f"the session closed before its first screen: {message.type.name}"
                    break
            self.up.set()
            if self.problem is None:
                await self._drain(ws)
        finally:
            self.up.set()
            await ws.close()

    async def _drain(self, ws) -> None:
        """Keep reading (and answering the server's pings) until told to leave."""
        from aiohttp import WSMsgType

        leave = asyncio.ensure_future(self.leave.wait())
        try:
            while not self.leave.is_set():
                receive = asyncio.ensure_future(ws.receive())
                done, _ = await asyncio.wait({receive, leave}, return_when=asyncio.FIRST_COMPLETED)
                if receive not in done:
                    receive.cancel()
                    break
                try:
                    message = receive.result()
                except ConnectionError as exc:  # (aiohttp answering a ping on a transport the server closed)
                    self.problem = f"the session's connection ended while open: {exc}"
                    break
                if message.type == WSMsgType.BINARY:
                    self.received += len(message.data)
                elif message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR):
                    self.problem = f"the session closed while open: {message.type.name}"
                    break
        finally:
            leave.cancel()


async def wait_sessions_gone(server: int, timeout: float) -> float | None:
    """Seconds until the server has no live child process left, None after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if not [c for c in children(server) if alive(c)]:
            return time.monotonic() - start
        await asyncio.sleep(0.1)
    return None


async def drive(server: int, url: str, names: list[str], args: argparse.Namespace) -> dict:
    """The solo baseline session, then the N concurrent ones; measurements as a dict."""
    import aiohttp

    marker = args.marker.encode("utf-8")
    async with aiohttp.ClientSession() as http:
        idle = sample(server)
        solo = Session(http, url, names[0], marker, args.timeout)
        task = asyncio.ensure_future(solo.run())
        await solo.up.wait()
        solo_mem = sample(server)
        solo_cpu = sum(cpu_s(p) for p in solo_mem["sessions"])
        solo.leave.set()
        await task
        solo_gone = await wait_sessions_gone(server, 30)
        if solo.problem is not None:
            raise SystemExit(f"the baseline session failed: {solo.problem}")

        sessions = [Session(http, url, name, marker, args.timeout) for name in names]
        cpu_before = machine_cpu_s(), cpu_s(server), own_cpu_s()
        started = time.perf_counter()
        tasks = [asyncio.ensure_future(s.run(i * args.stagger)) for i, s in enumerate(sessions)]
        await asyncio.gather(*(s.up.wait() for s in sessions))
        all_up_s = time.perf_counter() - started
        at_up = sample(server)
        cpu = {at_up["names"][p]: cpu_s(p) for p in at_up["sessions"]}
        (busy, total), server_cpu, client_cpu = machine_cpu_s(), cpu_s(server), own_cpu_s()
        ours = sum(cpu.values()) + server_cpu - cpu_before[1] + client_cpu - cpu_before[2]
        busy -= cpu_before[0][0]
        shares = {"wall_s": all_up_s, "machine_cpu_s_available": total - cpu_before[0][1],
                  "machine_busy_cpu_s": busy, "sessions_cpu_s": sum(cpu.values()),
                  "server_cpu_s": server_cpu - cpu_before[1], "websocket_clients_cpu_s": client_cpu - cpu_before[2],
                  "other_processes_cpu_s": max(0.0, busy - ours),
                  "all_up_s_if_the_cores_were_ours": ours / (os.cpu_count() or 1)}
        peak, settle_end = dict(at_up), time.monotonic() + args.settle
        while time.monotonic() < settle_end:
            await asyncio.sleep(0.25)
            now = sample(server)
            if now["rss_mb"] > peak["rss_mb"]:
                peak = now
        seen = sorted(set(idle["pids"] + solo_mem["pids"] + at_up["pids"] + peak["pids"]))
        for s in sessions:
            s.leave.set()
        closing = time.monotonic()
        await asyncio.gather(*tasks)
        gone = await wait_sessions_gone(server, 30)
        closed = None if gone is None else time.monotonic() - closing
    return {"idle": idle, "solo": solo, "solo_mem": solo_mem, "solo_cpu": solo_cpu, "solo_gone_s": solo_gone,
            "sessions": sessions, "all_up_s": all_up_s, "at_up": at_up, "peak": peak, "cpu": cpu, "seen": seen,
            "shares": shares,
            "closed_s": closed}


# ----- the report --------------------------------------------------------------------------------------------

def session_names(ws: Path, count: int) -> list[str]:
    """The workspace's human annotators first, then load01, load02, ..."""
    from tui.cli.serve import valid_annotator

    own = sorted(p.stem for p in (ws / "annotations").glob("*.json") if valid_annotator(p.stem))
    fresh = (f"load{k:02d}" for k in range(1, 10 * count + 1))
    return (own + [n for n in fresh if n not in own])[:count]


def report(run: dict, args: argparse.Namespace, available_mb: float, ws: Path, left: list[int]) -> dict:
    sessions, n = run["sessions"], len(run["sessions"])
    times = [s.first_ms for s in sessions]
    done = [t for t in times if t is not None]
    limit = TARGETS["serve_first_screen"][1]
    solo_ms = run["solo"].first_ms
    idle_mb = run["idle"]["rss_mb"]
    solo_session_mb = sum(run["solo_mem"]["sessions"].values())
    peak, at_up = run["peak"], run["at_up"]
    per_session = (peak["rss_mb"] - idle_mb) / n
    per_session_pss = (peak["pss_mb"] - run["idle"]["pss_mb"]) / n
    cpu_start = statistics.median(run["cpu"].values()) if run["cpu"] else None
    cores = os.cpu_count() or 1
    solo_what = "one session alone on the same server, opened just before"
    by_name = {at_up["names"][p]: rounded(mb) for p, mb in at_up["sessions"].items()}
    figures = {
        "first_screen_median": figure(statistics.median(done) if done else None, "ms", solo_ms, solo_what),
        "first_screen_max": figure(max(done) if len(done) == n else None, "ms", solo_ms, solo_what,
                                   "serve_first_screen"),
        "total_rss": figure(peak["rss_mb"], "MB", idle_mb + n * solo_session_mb,
                            f"the idle server plus {n} x the lone session's RSS", "serve_memory",
                            at_all_up_mb=rounded(at_up["rss_mb"]), pss_mb=rounded(peak["pss_mb"]),
                            note=f"sum of VmRSS over the server and its {len(peak['sessions'])} child processes, "
                                 f"peak from all up to {args.settle} s later; PSS counts shared pages once"),
        "per_session_rss": figure(per_session, "MB", solo_session_mb, "the lone session's RSS",
                                  pss_mb=rounded(per_session_pss),
                                  note="what each session adds to the tree: (total - idle server) / sessions"),
    }
    holds = {
        "by_memory_available_here": math.floor(available_mb / per_session) if per_session > 0 else None,
        "by_4_gb_budget": math.floor((BUDGET_MB - idle_mb) / per_session) if per_session > 0 else None,
        "mem_available_mb": rounded(available_mb), "per_session_mb": rounded(per_session),
        "cpu_s_per_session_start": rounded(cpu_start),
        "simultaneous_starts_within_3_s_on_these_cores":
            math.floor(limit / 1000 * cores / cpu_start) if cpu_start else None,
        "caveat": f"a memory bound only. Each session's start costs ~{rounded(cpu_start)} CPU-s; with {cores} "
                  "cores, k sessions starting at once each wait about k x that / cores. An idle session costs "
                  "little CPU (the library polls the workspace every 2 s), but key presses of many annotators at "
                  "once, and each app's background loads, share the same cores: the number that stays "
                  "responsive is lower than this, and is what the first-screen figures here measure.",
    }
    return {
        "benchmark": "tahqiq bench/load_serve.py",
        "what": f"{n} websocket sessions opened at once on `tahqiq serve` (loopback, {WIDTH}x{HEIGHT}), each one "
                "app process; first screen = the library's rows drawn",
        "workspace": str(ws), "sessions": n, "stagger_s": args.stagger, "marker": args.marker,
        "machine": {"cpu_count": cores, "mem_available_mb_before": rounded(available_mb)},
        "figures": figures,
        "all_within_3_s": len(done) == n and all(t <= limit for t in done),
        "annotators_one_2_core_server_holds": holds,
        "details": {
            "first_screen_ms": {s.name: rounded(s.first_ms) for s in sessions},
            "all_up_s": rounded(run["all_up_s"]), "lone_session_first_screen_ms": rounded(solo_ms),
            "lone_session_cpu_s": rounded(run["solo_cpu"]), "idle_server_rss_mb": rounded(idle_mb),
            "server_rss_mb_all_up": rounded(at_up["server_mb"]), "session_rss_mb_all_up": by_name,
            "session_cpu_s_all_up": {k: rounded(v) for k, v in run["cpu"].items()},
            "cpu_from_first_connect_to_all_up": {k: rounded(v) for k, v in run["shares"].items()},
            "bytes_received": sum(s.received for s in sessions),
            "problems": {s.name: s.problem for s in sessions if s.problem},
            "sessions_ended_s_after_close": rounded(run["closed_s"]),
            "leftover_processes_killed": left,
        },
    }


def build_workspace(scratch: Path, articles: int, annotations: int) -> Path:
    from bench import synth

    ws = scratch / "ws"
    print(f"load_serve: building {articles} articles, {annotations} annotations", file=sys.stderr, flush=True)
    synth.build(ws, scratch / "articles.jsonl", articles, annotations, ANNOTATORS)
    (scratch / "articles.jsonl").unlink()
    return ws


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", metavar="DIR",
                        help="an existing workspace (e.g. from python bench/run.py --keep DIR)")
    parser.add_argument("--articles", type=int, default=2_000, help="without --workspace: articles (default 2000)")
    parser.add_argument("--annotations", type=int, help="without --workspace: annotations (default 10 per article)")
    parser.add_argument("--sessions", type=int, default=20, help="sessions opened at once (default 20, at most 25)")
    parser.add_argument("--stagger", type=float, default=0.0, metavar="S", help="seconds between session starts")
    parser.add_argument("--settle", type=float, default=3.0, metavar="S",
                        help="seconds the memory is watched after all sessions are up (default 3)")
    parser.add_argument("--timeout", type=float, default=120.0, metavar="S",
                        help="give up on a session's first screen after S seconds (default 120)")
    parser.add_argument("--marker", default="wire-",
                        help="text of the library's rows to wait for (default wire-: bench/synth.py's sources)")
    args = parser.parse_args(argv)
    if not 1 <= args.sessions <= MAX_SESSIONS:
        parser.error(f"--sessions: 1 to {MAX_SESSIONS}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop the server and clean up
    scratch = Path(tempfile.mkdtemp(prefix="tahqiq-load-", dir="/tmp"))
    server = None
    try:
        if args.workspace:
            ws = Path(args.workspace).resolve()
            if not (ws / "corpus.json").exists():
                raise SystemExit(f"--workspace {ws}: not a tahqiq workspace (no corpus.json)")
        else:
            ws = build_workspace(scratch, args.articles, args.annotations or 10 * args.articles)
        names = session_names(ws, args.sessions)
        available = mem_available_mb()
        port = free_port()
        server = start_server(ws, port, scratch / "serve.log")
        print(f"load_serve: serving on {port}; {args.sessions} sessions", file=sys.stderr, flush=True)
        run = asyncio.run(drive(server.pid, f"http://127.0.0.1:{port}", names, args))
        left = stop_server(server, run["seen"])
        server = None
        result = report(run, args, available, ws, left)
    finally:
        if server is not None:
            stop_server(server, tree(server.pid))
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
