"""The measurements bench/run.py makes, each run in a fresh process so its peak memory is its own.

Run: python -m bench.tasks TASK PARAMS.json -> prints one JSON object (times in ms unless named _s).
Each task reports its own peak memory (peak_mb). `pty_launch` is called in-process by run.py: it starts a
program in a pseudo-terminal, times its screens and samples its peak memory.
"""
from __future__ import annotations

import fcntl
import json
import os
import resource
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EMPTY_APP = """
from textual.app import App
from textual.screen import Screen
from textual.widgets import Label

class Second(Screen):
    def compose(self):
        yield Label("[done]", markup=False)

class Empty(App):
    BINDINGS = [("enter", "open", "Open")]
    def compose(self):
        yield Label("wire-00", markup=False)
    def action_open(self):
        self.push_screen(Second())

Empty().run()
"""
"""The baseline of the open benchmark: an empty Textual app showing the same markers as tahqiq's screens."""


def peak_mb(pid: int | str = "self") -> float | None:
    """A process's own peak resident memory (VmHWM, MB). Not ru_maxrss: across fork and exec that also
    counts the parent's memory at fork, which would swamp small processes such as the baselines."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def timed(fn) -> tuple[float, object]:
    """(milliseconds, result) of one call."""
    start = time.perf_counter()
    result = fn()
    return ms_since(start), result


def median_of(fn, repeat: int) -> tuple[float, list[float], object]:
    """Median ms of `repeat` calls, all the times, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        ms, result = timed(fn)
        times.append(ms)
    return statistics.median(times), times, result


# ----- saving one annotation ---------------------------------------------------------------------------

def _save(notes, step: list) -> None:
    kind, article_id, start, end, label = step
    if kind == "entity":
        notes.add_entity(article_id, start, end, label)
    else:
        notes.add_claim(article_id, start, end)


def _floor(fd: int, line: bytes) -> float:
    """One bare append + fdatasync of `line`: what any durable save costs at least."""
    start = time.perf_counter()
    os.write(fd, line)
    os.fdatasync(fd)
    return ms_since(start)


def task_saves(p: dict) -> dict:
    """Real saves through AnnotationSet (each beside a bare write+fdatasync of its journal line), then
    saves while background folds run (FOLD_BYTES lowered), then the close (final fold)."""
    import store.db.journal
    from store import Workspace
    open_ms, ws = timed(lambda: Workspace.open(p["workspace"]))
    notes_ms, notes = timed(lambda: ws.annotations(p["annotator"]))
    count_ms, count = timed(lambda: len(notes.all()))
    journal = ws.path / "annotations" / f"{p['annotator']}.journal"
    steps = p["steps"]
    first_ms, _ = timed(lambda: _save(notes, steps[0]))  # takes the writer lock: re-reads the database
    floor_fd = os.open(ws.path / "annotations" / "floor.bin", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    saves, floors, kinds = [], [], []
    for step in steps[1:p["steady"]]:
        before = os.stat(journal).st_size
        ms, _ = timed(lambda s=step: _save(notes, s))
        saves.append(ms)
        kinds.append(step[0])
        with open(journal, "rb") as handle:
            handle.seek(before)
            line = handle.read()
        floors.append(_floor(floor_fd, line))
    store.db.journal.FOLD_BYTES = p["fold_bytes"]
    folding, calm, folds, inode = [], [], 0, os.stat(journal).st_ino
    folding_floors: list[float] = []
    # The floor again after each save made during a fold, the fold still running: what the disk gives a bare
    # write+fdatasync while the fold writes the database (a diagnosis beside the target, not its baseline).
    for step in steps[p["steady"]:]:
        before = _folding()
        ms, _ = timed(lambda s=step: _save(notes, s))
        during = before or _folding()  # a fold ran during this save (or part of it)
        (folding if during else calm).append(ms)
        if during and _folding():
            folding_floors.append(_floor(floor_fd, line))  # (the last steady save's journal line: the same size)
        now = os.stat(journal).st_ino
        folds, inode = folds + (now != inode), now
    os.close(floor_fd)
    os.unlink(ws.path / "annotations" / "floor.bin")
    close_ms, _ = timed(ws.close)
    return {"open_ms": open_ms, "annotations_ms": notes_ms, "all_ms": count_ms, "annotations_before": count,
            "first_save_ms": first_ms, "saves_ms": saves, "kinds": kinds, "floor_ms": floors,
            "saves_during_folds_ms": folding, "saves_between_folds_ms": calm, "folds_finished": folds,
            "floor_during_folds_ms": folding_floors,
            "close_ms": close_ms}


def _folding() -> bool:
    """Whether a background fold (store.db.journal's thread `fold-<annotator>`) is running now."""
    return any(thread.name.startswith("fold-") for thread in threading.enumerate())


def task_tinydb(p: dict) -> dict:
    """Inserts into a plain TinyDB file (default JSONStorage) holding as many annotations as ours."""
    from tinydb import TinyDB

    db = TinyDB(p["path"], encoding="utf-8")
    table = db.table("annotations")
    times = []
    for record in p["records"]:
        ms, _ = timed(lambda r=record: table.insert(r))
        times.append(ms)
    db.close()
    return {"inserts_ms": times, "file_bytes": os.path.getsize(p["path"])}


# ----- search --------------------------------------------------------------------------------------------

def task_index(p: dict) -> dict:
    """The first search of the workspace (which builds the search index unless import left it built),
    then the same search again: what the first one spent on the index is the wait a user sees once."""
    from store import Workspace
    from store.search.index import SearchIndex
    from store.search.query import corpus_counts

    class Watched(SearchIndex):
        added: int | None = None

        def sync(self, ids, texts) -> int:
            self.added = super().sync(ids, texts)
            return self.added

    ws = Workspace.open(p["workspace"])
    first = Watched(ws.path)
    ms, hits = timed(lambda: corpus_counts(first, ws, p["word"]))
    again_ms, _ = timed(lambda: corpus_counts(SearchIndex(ws.path), ws, p["word"]))
    size = (ws.path / "search" / "folded.bin").stat().st_size
    ws.close()
    return {"build_ms": ms, "again_ms": again_ms, "articles_indexed_by_the_first_search": first.added,
            "hits": len(hits), "index_bytes": size}


def task_search(p: dict) -> dict:
    """Search one word in the built index as the library does (corpus_counts), median of a few."""
    from store import Workspace
    from store.search.index import SearchIndex
    from store.search.query import corpus_counts

    ws = Workspace.open(p["workspace"])
    index = SearchIndex(ws.path)
    median, times, hits = median_of(lambda: corpus_counts(index, ws, p["word"]), p.get("repeat", 3))
    ws.close()
    return {"ms": median, "times_ms": times, "articles_hit": len(hits), "occurrences": sum(hits.values())}


# ----- open an article -----------------------------------------------------------------------------------

def task_article(p: dict) -> dict:
    """What the reader does to show an article: fetch it and its annotations, lay out the first screen,
    then (separately) the full layout."""
    from store import Workspace
    from tui.bidi import layout

    ws = Workspace.open(p["workspace"])
    notes = ws.annotations(p["annotator"], check=False)
    ids, width = p["articles"], p["width"]

    def first_rows(body: str) -> None:
        try:
            layout(body, width).line(p["rows"] - 1)
        except IndexError:
            pass  # a short article: fewer rows than a screen, all laid out

    first, lay = [], []
    for article_id in ids:  # the three steps timed apart; the first screen is their sum
        fetch_ms, body = timed(lambda a=article_id: ws.article(a).body)
        notes_ms, _ = timed(lambda a=article_id: notes.for_article(a))
        layout_ms, _ = timed(lambda b=body: first_rows(b))
        first.append(fetch_ms + notes_ms + layout_ms)
        lay.append(layout_ms)
    full = [timed(lambda a=a: len(layout(ws.article(a).body, width)))[0] for a in ids]
    chars = statistics.mean(len(ws.article(a).body) for a in ids)
    ws.close()
    return {"first_screen_ms": statistics.median(first), "layout_first_screen_ms": statistics.median(lay),
            "full_layout_ms": statistics.median(full), "chars": chars}


def task_article_baseline(p: dict) -> dict:
    """python-bidi's get_display over the same articles' paragraphs (read straight from bodies.bin)."""
    from bidi import get_display

    with open(p["corpus"], "rb") as handle:
        rows = json.loads(handle.read())["articles"]
    refs = {r["id"]: r["text_at"] for r in rows.values()}
    times = []
    with open(p["bodies"], "rb") as handle:
        for article_id in p["articles"]:
            offset, size = refs[article_id][:2]
            start = time.perf_counter()
            handle.seek(offset)
            body = handle.read(size).decode("utf-8")
            for para in body.split("\n"):
                get_display(para)
            times.append(ms_since(start))
    return {"ms": statistics.median(times)}


# ----- export --------------------------------------------------------------------------------------------

def task_export(p: dict) -> dict:
    """`store.exchange.export` of every annotation to a file."""
    from store import Workspace
    from store.exchange import export

    # The export's helper process (store.exchange.helper) runs beside it: its own peak (VmHWM, sampled
    # while it lives; not ru_maxrss, which would count this process's pages at the fork) counts too.
    helper_mb, done = [0.0], threading.Event()

    def watch() -> None:
        while not done.wait(0.05):
            for pid in _children():
                helper_mb[0] = max(helper_mb[0], peak_mb(pid) or 0.0)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    ws = Workspace.open(p["workspace"])
    ms, _ = timed(lambda: export(ws, p["format"], path=p["out"]))
    ws.close()
    done.set()
    watcher.join()
    return {"ms": ms, "bytes": os.path.getsize(p["out"]), "children_peak_mb": helper_mb[0]}


def _children() -> list[str]:
    """The pids of this process's children (Linux: /proc/self/task/*/children)."""
    pids: list[str] = []
    for task in Path("/proc/self/task").iterdir():
        try:
            pids += (task / "children").read_text().split()
        except OSError:
            continue
    return pids


def task_dump_baseline(p: dict) -> dict:
    """Dump the records the jsonl export wrote with the standard json module (only the dumping is timed)."""
    spent, records = 0.0, 0
    with open(p["source"], encoding="utf-8") as src, open(p["out"], "w", encoding="utf-8") as out:
        sep = "[\n"
        for line in src:
            record = json.loads(line)
            start = time.perf_counter()
            if p["format"] == "jsonl":
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                out.write(sep + json.dumps(record, ensure_ascii=False))
                sep = ",\n"
            spent += time.perf_counter() - start
            records += 1
        if p["format"] == "json":
            start = time.perf_counter()
            out.write("\n]\n" if records else "[]\n")
            spent += time.perf_counter() - start
    return {"ms": spent * 1000, "records": records, "bytes": os.path.getsize(p["out"])}


# ----- agreement -----------------------------------------------------------------------------------------

def task_agreement(p: dict) -> dict:
    """The agreement report as `tahqiq agreement` makes it: open the workspace, report()."""
    from store import Workspace
    from store.team.agreement import report

    def run() -> dict:
        ws = Workspace.open(p["workspace"])
        try:
            return report(ws)
        finally:
            ws.close()

    ms, rep = timed(run)
    cred, pair = rep["credibility"], (rep["entities"]["pairs"] or [None])[0]
    return {"ms": ms, "credibility_items": cred["items"], "alpha_ordinal": cred["alpha"]["ordinal"],
            "entity_pairs": len(rep["entities"]["pairs"]),
            "entity_f1_exact_first_pair": pair["exact"]["overall"]["f1"] if pair else None}


def task_agreement_baseline(p: dict) -> dict:
    """bench_agreement's plain pass: parse the annotation files with json, group, count exact agreements."""
    from bench.bench_agreement import baseline

    ms, _ = timed(lambda: baseline(Path(p["workspace"])))
    return {"ms": ms}


# ----- the existing benchmarks ---------------------------------------------------------------------------

def task_bench_layout(p: dict) -> dict:
    from bench import bench_layout

    return bench_layout.main()


def task_bench_suggest(p: dict) -> dict:
    from bench import bench_suggest

    return bench_suggest.run(p.get("strings", 50_000))


KEY_REPEAT = 30
"""Key presses a second while a key is held down (X11's and most terminals' autorepeat: 25-33)."""


def task_scroll(p: dict) -> dict:
    """PageDown in the reader on a long article, in a headless app (Textual's own rendering, no terminal): ms
    from the key to the next page drawn, per page; beside the same in Textual's TextArea holding the same text."""
    import asyncio

    from textual.app import App
    from textual.widgets import TextArea

    from bench.bench_layout import synthetic
    from store import Workspace
    from tui.app import make_app
    from tui.screens.reader import ReaderScreen

    text = synthetic(p["chars"])
    folder = Path(p["scratch"])
    jsonl = folder / "long.jsonl"
    jsonl.write_text(json.dumps({"id": "long", "title": "مقال طويل", "text": text}, ensure_ascii=False) + "\n",
                     encoding="utf-8")
    ws = Workspace.open(folder / "ws")
    ws.import_paths([jsonl])
    (long_id,) = ws.catalog().ids

    async def pages(app, count: int) -> list[float]:
        view = app.screen.focused  # (the reader's ArticleView; the TextArea)
        times, cpu = [], []
        pressed = time.perf_counter()
        for _ in range(count):
            # Keys at the autorepeat rate of PageDown held down (KEY_REPEAT a second), not each right after the last
            # page is drawn: Textual paints at most 60 times a second, and a key that comes within a frame of the
            # last paint waits for the next frame, so back to back the figure was that frame (16.7 ms, for the
            # TextArea as for us), not the time the key takes.
            await asyncio.sleep(max(0.0, pressed + 1 / KEY_REPEAT - time.perf_counter()))
            pressed = time.perf_counter()
            start, before, used = time.perf_counter(), view.scroll_offset, time.process_time()
            app.simulate_key("pagedown")
            while view.scroll_offset == before:  # (the key handled: the view scrolled)
                await asyncio.sleep(0)
            drawn = asyncio.get_running_loop().create_future()
            app.screen.call_after_refresh(lambda d=drawn: d.done() or d.set_result(None))
            await drawn
            times.append(ms_since(start))
            cpu.append((time.process_time() - used) * 1000)
        return times, cpu

    async def ours() -> tuple[list[float], list[float]]:
        app = make_app(ws, "bench")
        async with app.run_test(size=(p["width"], p["height"])) as pilot:
            await pilot.pause()
            app.push_screen(ReaderScreen(long_id))
            await pilot.pause(0.5)
            return await pages(app, p["pages"])

    class Plain(App):
        def compose(self):
            yield TextArea(text, read_only=True, soft_wrap=True)

    async def plain() -> tuple[list[float], list[float]]:
        app = Plain()
        async with app.run_test(size=(p["width"], p["height"])) as pilot:
            await pilot.pause(0.5)
            return await pages(app, p["pages"])

    mine, theirs = asyncio.run(ours()), asyncio.run(plain())
    ws.close()
    return {"ours_ms": mine[0], "ours_cpu_ms": mine[1], "textarea_ms": theirs[0], "textarea_cpu_ms": theirs[1],
            "chars": len(text)}


def task_idle(p: dict) -> dict:
    """Import what the in-process benchmarks import and stop: the interpreter's own peak memory."""
    import bidi  # noqa: F401

    import store  # noqa: F401
    import tui.bidi  # noqa: F401

    return {}


# ----- a program in a pseudo-terminal -----------------------------------------------------------------

def _pump(fd: int, out: bytearray, needle: bytes, deadline: float, watch: dict | None = None) -> bool:
    """Read the terminal's output into `out` until `needle` shows up after its current end, or the deadline;
    meanwhile note the peak memory of `watch["pid"]` in `watch["peak_mb"]`."""
    start = len(out)
    while time.perf_counter() < deadline:
        if watch is not None:
            watch["peak_mb"] = peak_mb(watch["pid"]) or watch.get("peak_mb")
        ready, _, _ = select.select([fd], [], [], 0.02)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError:
            return False
        if not chunk:
            return False
        out += chunk
        if needle in out[max(0, start - len(needle)):]:
            return True
    return False


def _reap(proc: subprocess.Popen, master: int, out: bytearray) -> resource.struct_rusage:
    """Wait (up to 10 s, then SIGKILL) for the program to end, draining its output; its rusage."""
    deadline = time.perf_counter() + 10
    while True:
        pid, _, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = 0  # reaped here: keep Popen from waiting again
            return usage
        if time.perf_counter() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            deadline = float("inf")
        if not _pump(master, out, b"\x00never", time.perf_counter() + 0.1):
            time.sleep(0.01)


def pty_launch(argv: list[str], first: bytes, second: bytes, timeout: float, cwd: str | None = None) -> dict:
    """Start `argv` in a 160x40 pty; ms until `first` is drawn, then ms from Enter until `second` is; quit
    with ctrl+q and report the program's peak memory (its own rusage, via wait4)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "40", "TEXTUAL_ANIMATIONS": "none"}
    out = bytearray()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, start_new_session=True)
    os.close(slave)
    result: dict = {"first_ms": None, "second_ms": None}
    watch = {"pid": proc.pid}
    try:
        if _pump(master, out, first, start + timeout, watch):
            result["first_ms"] = ms_since(start)
            pressed = time.perf_counter()
            os.write(master, b"\r")
            if _pump(master, out, second, pressed + timeout, watch):
                result["second_ms"] = ms_since(pressed)
            _pump(master, out, b"\x00never", time.perf_counter() + 0.5, watch)
            os.write(master, b"\x11")  # ctrl+q
        _pump(master, out, b"\x00never", time.perf_counter() + 1.0)
    finally:
        usage = _reap(proc, master, out)
        os.close(master)
    result["peak_mb"] = watch.get("peak_mb") or usage.ru_maxrss / 1024
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    if result["first_ms"] is None:
        result["tail"] = bytes(out[-400:]).decode("utf-8", "replace")
    return result


TASKS = {name[5:]: fn for name, fn in globals().items() if name.startswith("task_")}


def main() -> None:
    name, params = sys.argv[1], json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
    result = TASKS[name](params)
    result["peak_mb"] = peak_mb() or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.write(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
