"""Every benchmark of tahqiq in one command, each figure beside a baseline measured in the same run.

Builds a synthetic workspace (default 100,000 articles of ~2,000 characters and 1,000,000 annotations over
5 annotators; see bench/synth.py), then measures, each in a fresh process (bench/tasks.py) so that its
peak memory is its own: saving one annotation, opening the app to its first screen (a real pty), search,
opening an article, export, the agreement report, the layout and suggestion benchmarks, and the load test
of `tahqiq serve` (bench/load_serve.py: concurrent browser sessions, in its own process). Machines are
shared and noisy, so every figure carries its baseline and the ratio; read the ratios.

The targets are the TARGETS table below, the one place they are written (`--targets` prints it as the
README's Markdown table). `figure()` applies them: a "ratio" target holds when value / baseline <= limit,
an "absolute" one when value <= limit (in the figure's unit, the baseline beside it all the same).
`targets_met` in the output lists every figure that has a target and whether it is met.

The first usable screen is measured at two sizes in every full run: the big workspace (section "open")
and, beside it, a 2,000-article one built for the purpose (section "open_small", 20,000 annotations), since
the target must hold at both. With --quick the workspace is the 2,000-article one, so "open" is that figure
and there is no "open_small". The load section starts 20 concurrent sessions (--quick: 3; --load-sessions 0
leaves it out).

Run: python bench/run.py [--articles N] [--annotations N] [--quick] [--out FILE] [--keep DIR]
                         [--load-sessions N] [--targets]
Prints one JSON object. --quick (2,000 articles, 20,000 annotations) checks that it all works in ~1 min.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import synth  # noqa: E402
from bench.bench_agreement import LABELS, STAMP  # noqa: E402
from bench.tasks import EMPTY_APP, pty_launch  # noqa: E402
from store.session import SessionState  # noqa: E402

TARGETS: dict[str, tuple[str, float, str, str]] = {
    # name: (kind, limit, unit, what). "ratio": value / the baseline measured in the same run <= limit;
    # "absolute": value <= limit in `unit` (the figure still carries its baseline).
    "first_screen": ("ratio", 1.5, "x", "start to the first usable screen (the library's rows drawn), against an "
                     "empty Textual app; at 2,000 and at 100,000 articles alike"),
    "app_memory": ("absolute", 200, "MB", "resident memory (peak) of one app process at 100,000 articles and "
                   "1,000,000 annotations, beside the empty app's"),
    "open_article": ("absolute", 300, "ms", "Enter on the library to the article drawn, whatever the corpus size, "
                     "beside the empty app's second screen"),
    "search": ("ratio", 2, "x", "a corpus search, common and rare word, against grep -c -F over the same texts"),
    "first_search_wait": ("absolute", 0, "ms", "what the first search of a workspace spends building the index "
                          "(0: import keeps the index)"),
    "export": ("ratio", 1.5, "x", "export of every annotation (jsonl, json) against json.dumps of the same records"),
    "export_memory": ("absolute", 300, "MB", "peak memory of the export process"),
    "article_layout": ("absolute", 10, "ms", "layout of a ~2,000-character article's first screen (30 rows)"),
    "scroll_page": ("absolute", 16, "ms", "PageDown in the reader to the next page drawn (a long article, 100x30, "
                    "a headless app: Textual's rendering without a terminal), beside Textual's TextArea"),
    "save_p99": ("ratio", 3, "x", "p99 of saving one annotation against the write+fdatasync floor of the same "
                 "bytes, also while the journal folds"),
    "serve_first_screen": ("absolute", 3000, "ms", "`tahqiq serve`, 20 sessions opened at once: the slowest "
                           "session's first screen"),
    "serve_memory": ("absolute", 4096, "MB", "`tahqiq serve` with 20 sessions: resident memory of the server and "
                     "all session processes"),
}
"""Every target of the benchmarks, the one place they are written (see the module docstring)."""
ANNOTATORS = 5
SMALL_ARTICLES, SMALL_ANNOTATIONS = 2_000, 20_000
"""The small workspace: the target of the first screen holds at this size as well as at the big one."""
LOAD_SESSIONS, QUICK_LOAD_SESSIONS = 20, 3
WRITER = "annotator1"
GNU_TIME = "/usr/bin/time"


# ----- running children -----------------------------------------------------------------------------------

class Children:
    """Runs bench.tasks in fresh interpreters (each reports its own peak memory) and plain commands."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.count = 0

    def _run(self, argv: list[str], ok: tuple[int, ...] = (0,), env: dict | None = None) -> tuple[bytes, float, float]:
        """(stdout, wall ms, peak MB) of one process; RuntimeError if its exit status is not in `ok`."""
        with tempfile.TemporaryFile(dir=self.scratch) as out:
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=out, cwd=ROOT, env=env)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = (time.perf_counter() - start) * 1000
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            data = out.read()
        if proc.returncode not in ok:
            raise RuntimeError(f"{' '.join(argv[:4])}: exit status {proc.returncode}")
        return data, wall, usage.ru_maxrss / 1024

    def task(self, name: str, **params) -> dict:
        """Run bench.tasks NAME with PARAMS; its result plus peak_mb and wall_ms."""
        self.count += 1
        path = self.scratch / f"params-{self.count}-{name}.json"
        path.write_text(json.dumps(params, ensure_ascii=False), encoding="utf-8")
        data, wall, peak = self._run([sys.executable, "-m", "bench.tasks", name, str(path)])
        path.unlink()
        result = json.loads(data)
        result.setdefault("peak_mb", peak)
        result["wall_ms"] = wall
        return result

    def command(self, argv: list[str], ok: tuple[int, ...] = (0,), env: dict | None = None) -> tuple[str, float]:
        """(stdout, ms) of a plain command such as grep."""
        data, wall, _ = self._run(argv, ok, env)
        return data.decode("utf-8", "replace"), wall

    def command_peak(self, argv: list[str], ok: tuple[int, ...] = (0,), env: dict | None = None) -> float | None:
        """A command's own peak memory (MB) through GNU time, None without it (wait4 from here would also
        count this process's memory, copied at fork)."""
        if not os.access(GNU_TIME, os.X_OK):
            return None
        report = self.scratch / "time.txt"
        self._run([GNU_TIME, "-f", "%M", "-o", str(report)] + argv, ok, env)
        return int(report.read_text().split()[-1]) / 1024


# ----- figures -----------------------------------------------------------------------------------------------

def rounded(x: float | None) -> float | None:
    """Three significant digits or so, for reading."""
    if x is None:
        return None
    return round(x, 3) if abs(x) < 10 else round(x, 1)


def figure(value: float | None, unit: str, baseline: float | None, baseline_what: str, goal: str | None = None,
           *, target: float | None = None, ratio_target: float | None = None, **extra) -> dict:
    """One self-describing figure: value, unit, baseline (what it is), ratio, and its target if any.

    `goal` names a row of TARGETS, which sets `target` (absolute, in `unit`) or `ratio_target` (value / baseline);
    either can also be given directly. meets_target: value <= target, or ratio <= ratio_target; False when
    the value (or for a ratio, the baseline) is missing."""
    ratio = float(f"{value / baseline:.3g}") if value is not None and baseline else None
    fig = {"value": rounded(value), "unit": unit, "baseline": rounded(baseline), "baseline_what": baseline_what,
           "ratio": ratio}
    if goal is not None:
        kind, limit, limit_unit, _ = TARGETS[goal]
        if kind == "ratio":
            ratio_target = limit
        elif limit_unit != unit:
            raise ValueError(f"target {goal!r} is in {limit_unit}, the figure in {unit}")
        else:
            target = limit
        fig["goal"] = goal
    if target is not None:
        fig["target"] = target
        fig["meets_target"] = value is not None and value <= target
    if ratio_target is not None:
        fig["ratio_target"] = ratio_target
        fig["meets_target"] = ratio is not None and ratio <= ratio_target and fig.get("meets_target", True)
    fig.update(extra)
    return fig


def targets_table() -> str:
    """TARGETS as the Markdown table of the README."""
    rows = ["| target | what | limit |", "|---|---|---|"]
    for name, (kind, limit, unit, what) in TARGETS.items():
        bound = f"<= {limit:g} x the baseline" if kind == "ratio" else f"<= {limit:g} {unit}"
        rows.append(f"| `{name}` | {what} | {bound} |")
    return "\n".join(rows)


def memory(ours: float, base: float, base_what: str, **extra) -> dict:
    """A peak-memory figure (MB, whole process) beside the baseline process's peak."""
    return figure(ours, "MB", base, f"peak memory of {base_what}", **extra)


def mb(size: int) -> float:
    """Bytes as MiB, one decimal."""
    return round(size / 2**20, 1)


def p99(values: list[float]) -> float:
    """The 99th percentile, nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def median(values: list[float]) -> float:
    return statistics.median(values)


# ----- saving one annotation ---------------------------------------------------------------------------------

def save_steps(corpus: synth.Corpus, articles: list[str], count: int) -> list[list]:
    """`count` saves on the writer's own annotated articles, at places no existing entity touches: per
    article, an entity in each tenth of the body, and two claims."""
    def trimmed(body: str, start: int, end: int) -> tuple[int, int]:
        """The span without white space at either end (the store refuses such spans)."""
        while body[start].isspace():
            start += 1
        while body[end - 1].isspace():
            end -= 1
        return start, end

    steps: list[list] = []
    for article_id in articles:
        body = corpus.body(int(article_id[1:]))
        step = len(body) // synth.SLOTS
        for k in range(synth.SLOTS):
            start = k * step + synth.FREE_AT
            steps.append(["entity", article_id, *trimmed(body, start, start + 6), LABELS[k % len(LABELS)]])
            if k % 5 == 4:
                steps.append(["claim", article_id, *trimmed(body, start - 30, start + 40), "CLAIM"])
        if len(steps) >= count:
            return steps[:count]
    raise SystemExit(f"not enough annotated articles for {count} saves")


def tinydb_records(corpus: synth.Corpus, steps: list[list], count: int) -> list[dict]:
    """The records AnnotationSet._insert would make for the first `count` steps."""
    records = []
    for kind, article_id, start, end, label in steps[:count]:
        body = corpus.body(int(article_id[1:]))
        records.append({"id": uuid.uuid4().hex[:12], "annotator": WRITER, "created": STAMP, "updated": STAMP,
                        "article_id": article_id, "kind": kind, "start": start, "end": end,
                        "text": body[start:end], "label": label,
                        "attributes": {} if kind == "entity" else {"verdict": "unverified"}})
    return records


def bench_saves(run: Children, ws: Path, corpus: synth.Corpus, articles: list[str], quick: bool) -> dict:
    """Saves through AnnotationSet on the writer's ~1/5 share, beside the fdatasync floor and plain TinyDB."""
    steady, folding, inserts = (200, 100, 12) if quick else (600, 300, 24)
    steps = save_steps(corpus, articles, steady + folding)
    copy = run.scratch / "tinydb-baseline.json"
    shutil.copyfile(ws / "annotations" / f"{WRITER}.json", copy)
    os.sync()  # the build's own writeback must not land on the measured fdatasyncs
    ours = run.task("saves", workspace=str(ws), annotator=WRITER, steps=steps, steady=steady,
                    fold_bytes=64 * 1024)
    tiny = run.task("tinydb", path=str(copy), records=tinydb_records(corpus, steps, inserts))
    copy.unlink()
    saves, floor, tins = ours["saves_ms"], ours["floor_ms"], tiny["inserts_ms"]
    floor_what = "os.write + os.fdatasync of the same journal line to a file (the floor)"
    tiny_what = f"TinyDB(path) default JSONStorage insert into a copy of the same database ({len(tins)} inserts)"
    by_kind = {k: [ms for ms, kind in zip(saves, ours["kinds"]) if kind == k] for k in ("entity", "claim")}
    during = ours["saves_during_folds_ms"]
    over = TARGETS["save_p99"][1] * p99(floor)  # the p99 target as milliseconds in this run
    return {
        "what": f"AnnotationSet.add_entity/add_claim on {WRITER} holding {ours['annotations_before']} annotations",
        "p50": figure(median(saves), "ms", median(floor), floor_what),
        "p99": figure(p99(saves), "ms", p99(floor), floor_what, goal="save_p99"),
        "p50_vs_tinydb": figure(median(saves), "ms", median(tins), tiny_what),
        "p99_vs_tinydb": figure(p99(saves), "ms", p99(tins), tiny_what),
        "entity_p99": figure(p99(by_kind["entity"]), "ms", p99(floor), floor_what, goal="save_p99"),
        "claim_p99": figure(p99(by_kind["claim"]), "ms", p99(floor), floor_what, goal="save_p99"),
        "first_save": figure(ours["first_save_ms"], "ms", median(saves), "a later save (p50)",
                             note="the first save of a process takes the writer lock and re-reads the database"),
        "p99_during_background_folds": figure(
            p99(during) if during else None, "ms", p99(floor), floor_what, goal="save_p99",  # (None: not met)
            note=f"FOLD_BYTES lowered to 64 KiB (normally 4 MiB): {len(during)} of "
                 f"{len(during) + len(ours['saves_between_folds_ms'])} saves ran while a background fold of the "
                 f"whole database was running ({ours['folds_finished']} folds finished during them); the p99 is "
                 "theirs"),
        "p99_during_background_folds_vs_the_disk_then": figure(
            p99(during) if during else None, "ms",
            p99(ours["floor_during_folds_ms"]) if ours["floor_during_folds_ms"] else None,
            "the floor measured during the folds, right after saves made while one ran", note=(
                "a diagnosis, not a target: the same p99 against what the disk gives a bare write+fdatasync while a "
                f"fold writes the database ({len(ours['floor_during_folds_ms'])} such floors)")),
        "peak_memory": memory(ours["peak_mb"], tiny["peak_mb"], "the TinyDB baseline process",
                              note="ours includes Workspace.annotations()'s label check, which loads every "
                                   "annotator's database, as the app does at start"),
        "details": {"saves": len(saves), "saves_over_the_p99_target": sum(ms > over for ms in saves),
                    "entity_saves": len(by_kind["entity"]), "claim_saves": len(by_kind["claim"]),
                    "max_ms": rounded(max(saves)), "floor_p50_ms": rounded(median(floor)),
                    "tinydb_inserts_ms": [rounded(x) for x in tins], "tinydb_file_mb": mb(tiny["file_bytes"]),
                    "workspace_open_ms": rounded(ours["open_ms"]),
                    "close_with_final_fold_ms": rounded(ours["close_ms"])},
    }


# ----- opening the app ------------------------------------------------------------------------------------

def tahqiq_argv(ws: Path) -> list[str]:
    """The installed `tahqiq` command (beside this interpreter), else python -m tui.cli."""
    script = Path(sys.executable).parent / "tahqiq"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "tui.cli"]
    return cmd + ["--workspace", str(ws), "--annotator", WRITER]


def bench_open(ws: Path, article: str, timeout: float) -> dict:
    """`tahqiq` in a pty until the library's rows are drawn, then Enter until the article is, beside an
    empty Textual app measured the same way. Three launches each, interleaved; one only when it is slow."""
    SessionState(ws, WRITER).set("last_article", article)  # the library starts on it; Enter opens it
    ours, empty = [], []
    for i in range(3):
        empty.append(pty_launch([sys.executable, "-c", EMPTY_APP], b"wire-", b"[done]", timeout, cwd=str(ROOT)))
        if i == 0 or (ours[-1]["first_ms"] or math.inf) <= 20_000:
            ours.append(pty_launch(tahqiq_argv(ws), b"wire-", b"[done]", timeout, cwd=str(ROOT)))

    def mid(runs: list[dict], key: str) -> float | None:
        done = [r[key] for r in runs if r[key] is not None]
        return median(done) if done else None

    empty_what = "an empty Textual app (a Label) started and measured the same way"
    first = mid(ours, "first_ms")
    result = {
        "what": "launch `tahqiq --workspace W --annotator A` in a 160x40 pty until the library's rows are drawn",
        "first_screen": figure(first, "ms", mid(empty, "first_ms"), empty_what, "first_screen",
                               runs=len(ours), timed_out=first is None,
                               **({"timeout_s": timeout} if first is None else {})),
        "open_article_in_app": figure(mid(ours, "second_ms"), "ms", mid(empty, "second_ms"),
                                      "Enter pushing a second screen in the empty app", "open_article",
                                      note="from Enter on the library (cursor on the last article) until the "
                                           "reader's metadata line is drawn"),
        "peak_memory": memory(max(r["peak_mb"] for r in ours), max(r["peak_mb"] for r in empty), "the empty app",
                              goal="app_memory", note="the app process's own peak resident memory (VmHWM), "
                                                      "sampled until it quits"),
        "details": {"first_screen_runs_ms": [rounded(r["first_ms"]) for r in ours],
                    "empty_app_runs_ms": [rounded(r["first_ms"]) for r in empty],
                    "cpu_s_per_launch": [rounded(r["cpu_s"]) for r in ours]},
    }
    failed = [r["tail"] for r in ours if "tail" in r]
    if failed:
        result["details"]["last_output_of_a_failed_launch"] = failed[-1]
    return result


# ----- search, article, export, agreement ---------------------------------------------------------------------

def grep(run: Children, word: str, path: Path, repeat: int = 3) -> tuple[float, int, float | None]:
    """(median ms, matching lines, peak MB) of `grep -c -F word file` in the C locale."""
    argv, env = [shutil.which("grep") or "grep", "-c", "-F", word, str(path)], {**os.environ, "LC_ALL": "C"}
    runs = [run.command(argv, ok=(0, 1), env=env) for _ in range(repeat)]
    return median([r[1] for r in runs]), int(runs[-1][0].strip() or 0), run.command_peak(argv, (0, 1), env)


def bench_search(run: Children, ws: Path, jsonl: Path, common: str, rare: str) -> dict:
    """Index build, then a common and a rare word, beside grep over the same texts in one JSONL file."""
    grep_what = "grep -c -F over the articles' JSONL file (one line per article), LC_ALL=C"
    built = run.task("index", workspace=str(ws), word=rare)
    g_ms, _, g_peak = grep(run, common, jsonl, 1)
    added = built["articles_indexed_by_the_first_search"]
    wait = max(0.0, built["build_ms"] - built["again_ms"]) if added else 0.0
    out = {"index_build": figure(built["build_ms"], "ms", g_ms, "one " + grep_what,
                                 note="the first search of a workspace, which builds search/folded.bin unless "
                                      "import left it built", index_mb=mb(built["index_bytes"]),
                                 articles_indexed=added),
           "first_search_wait": figure(wait, "ms", built["again_ms"], "the same search once the index is built",
                                       "first_search_wait",
                                       note=f"the first search indexed {added} articles: its time less a later "
                                            "search's" if added else "import had built the index: no wait"),
           "index_build_peak_memory": memory(built["peak_mb"], g_peak, "grep")}
    for name, word in (("common", common), ("rare", rare)):
        ours = run.task("search", workspace=str(ws), word=word)
        g_ms, g_hits, g_peak = grep(run, word, jsonl)
        out[name] = figure(ours["ms"], "ms", g_ms, grep_what, "search", word=word,
                           articles_hit=ours["articles_hit"], grep_articles=g_hits)
        out[f"{name}_peak_memory"] = memory(ours["peak_mb"], g_peak, "grep",
                                            note="ours counts the workspace's corpus metadata and the pages of "
                                                 "the memory-mapped index it scanned")
    return out


def bench_article(run: Children, ws: Path, articles: list[str]) -> dict:
    """The reader's work to show an article (fetch, annotations, layout), beside python-bidi's get_display."""
    ours = run.task("article", workspace=str(ws), annotator=WRITER, articles=articles, width=100, rows=30)
    base = run.task("article_baseline", corpus=str(ws / "corpus.json"), bodies=str(ws / "bodies.bin"),
                    articles=articles)
    what = "python-bidi get_display over the same article's paragraphs (read from bodies.bin)"
    return {
        "what": f"median over {len(articles)} annotated articles of ~{ours['chars']:.0f} characters, 100 columns",
        "first_screen": figure(ours["first_screen_ms"], "ms", base["ms"], what,
                               note="fetch body + for_article + layout of the first 30 rows"),
        "layout_first_screen": figure(ours["layout_first_screen_ms"], "ms", base["ms"], what, "article_layout",
                                      note="tui.bidi.layout of the first 30 rows only (part of first_screen)"),
        "full_layout": figure(ours["full_layout_ms"], "ms", base["ms"], what),
        "peak_memory": memory(ours["peak_mb"], base["peak_mb"], "the get_display process",
                              note="ours opens the workspace (corpus metadata, the annotator's database)"),
    }


def bench_scroll(run: Children) -> dict:
    """PageDown in the reader, page after page of a long article, beside Textual's own TextArea."""
    folder = run.scratch / "scroll"
    folder.mkdir()
    try:
        got = run.task("scroll", scratch=str(folder), chars=60_000, width=100, height=30, pages=20)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    what = "Textual's TextArea (read-only, soft wrap) holding the same text, paged the same way"
    return {
        "what": f"median of 20 PageDowns in an article of {got['chars']:,} characters, from the key to the next "
                "page drawn, keys at the autorepeat rate of PageDown held down (bench.tasks.KEY_REPEAT a second)",
        "page": figure(median(got["ours_ms"]), "ms", median(got["textarea_ms"]), what, "scroll_page"),
        "page_cpu": figure(median(got["ours_cpu_ms"]), "ms", median(got["textarea_cpu_ms"]), what + " (CPU)",
                           note="the process's CPU time over the same interval"),
        "details": {"pages_ms": [rounded(x) for x in got["ours_ms"]],
                    "textarea_pages_ms": [rounded(x) for x in got["textarea_ms"]]},
    }


def bench_export(run: Children, ws: Path) -> dict:
    """store.exchange.export to jsonl and json, beside json.dumps of the very records written."""
    out: dict = {}
    target = run.scratch / "export.jsonl"
    for fmt in ("jsonl", "json"):
        path = run.scratch / f"export.{fmt}"
        ours = run.task("export", workspace=str(ws), format=fmt, out=str(path))
        base = run.task("dump_baseline", source=str(target), format=fmt, out=str(run.scratch / f"dump.{fmt}"))
        (run.scratch / f"dump.{fmt}").unlink()
        out[fmt] = figure(ours["ms"], "ms", base["ms"], f"json.dumps (stdlib) of the same {base['records']} "
                          "records to a file, dumping time only", "export", records=base["records"],
                          mb=mb(ours["bytes"]))
        out[f"{fmt}_peak_memory"] = memory(ours["peak_mb"] + ours["children_peak_mb"], base["peak_mb"],
                                           "the baseline (reads one record a line, dumps it)", goal="export_memory",
                                           note=f"the exporting process ({ours['peak_mb']:.0f} MB) plus the "
                                                f"peak of its helper process ({ours['children_peak_mb']:.0f} MB, "
                                                "sampled), as if both peaked at once")
    for fmt in ("jsonl", "json"):
        (run.scratch / f"export.{fmt}").unlink()
    return out


def bench_agreement(run: Children, ws: Path) -> dict:
    """store.team.agreement.report on the whole workspace, beside bench_agreement's plain pass over the files."""
    ours = run.task("agreement", workspace=str(ws))
    base = run.task("agreement_baseline", workspace=str(ws))
    what = "bench_agreement.baseline: json.loads of every annotation file, group, count exact agreements"
    return {"report": figure(ours["ms"], "ms", base["ms"], what,
                             credibility_items=ours["credibility_items"],
                             alpha_ordinal=rounded(ours["alpha_ordinal"]), entity_pairs=ours["entity_pairs"],
                             entity_f1_exact_first_pair=rounded(ours["entity_f1_exact_first_pair"])),
            "peak_memory": memory(ours["peak_mb"], base["peak_mb"], "the plain pass")}


def bench_existing(run: Children) -> dict:
    """bench_layout and bench_suggest (seed texts), reported as figures; memory beside an idle interpreter."""
    idle = run.task("idle")
    lay = run.task("bench_layout")
    sug = run.task("bench_suggest")
    out: dict = {}
    for name in ("seed_full_layout", "synthetic_full_layout", "synthetic_first_screen", "synthetic_scroll_one_page"):
        r = lay[name]
        out[f"layout_{name}"] = figure(r["seconds"] * 1000, "ms", r["get_display_seconds"] * 1000,
                                       "python-bidi get_display over the same text", chars=r["chars"])
    idle_what = "an interpreter that only imports store, tui.bidi, bidi"
    out["layout_peak_memory"] = memory(lay["peak_mb"], idle["peak_mb"], idle_what)
    out["suggest"] = figure(sug["suggest_seconds"] * 1000, "ms", sug["layout_full_seconds"] * 1000,
                            "tahqiq's full layout of the same article", tagged_strings=sug["tagged_strings"],
                            chars=sug["article_characters"], suggestions=sug["suggestions_found"])
    out["suggest_peak_memory"] = memory(sug["peak_mb"], idle["peak_mb"], idle_what)
    return out


def bench_open_small(scratch: Path, timeout: float) -> dict:
    """The open benchmark on a 2,000-article workspace built beside the big one (then removed)."""
    ws, jsonl = scratch / "ws-small", scratch / "articles-small.jsonl"
    info = synth.build(ws, jsonl, SMALL_ARTICLES, SMALL_ANNOTATIONS, ANNOTATORS)
    try:
        result = bench_open(ws, info["covered"][WRITER][1], timeout)
    finally:
        shutil.rmtree(ws, ignore_errors=True)
        jsonl.unlink()
    result["what"] += f" ({SMALL_ARTICLES:,} articles, {SMALL_ANNOTATIONS:,} annotations)"
    return result


def bench_load(run: Children, ws: Path, sessions: int, timeout: float) -> dict:
    """bench/load_serve.py on the workspace, in its own process: its figures, the rest as details."""
    out, _ = run.command([sys.executable, str(ROOT / "bench" / "load_serve.py"), "--workspace", str(ws),
                          "--sessions", str(sessions), "--timeout", str(timeout)])
    result = json.loads(out)
    keep = ("what", "all_within_3_s", "annotators_one_2_core_server_holds")
    details = {k: v for k, v in result.items() if k not in keep + ("figures", "benchmark", "machine", "details")}
    return {**{k: result[k] for k in keep}, **result["figures"], "details": {**details, **result["details"]}}


# ----- the whole run ---------------------------------------------------------------------------------------

def machine() -> dict:
    """Where the figures were measured."""
    return {"python": platform.python_version(), "implementation": platform.python_implementation(),
            "platform": platform.platform(), "cpu_count": os.cpu_count(), "json_codec": "orjson",
            "textual": version("textual"), "tinydb": version("tinydb"), "orjson": version("orjson")}


def timed_section(sections: dict, name: str, fn):
    """Run one benchmark section, noting its wall time."""
    start = time.perf_counter()
    result = fn()
    sections[name] = round(time.perf_counter() - start, 1)
    print(f"bench: {name} done in {sections[name]} s", file=sys.stderr, flush=True)
    return result


def run_all(args: argparse.Namespace, scratch: Path, ws: Path) -> dict:
    """Build the workspace, run every benchmark, return the JSON object."""
    started = time.perf_counter()
    sections: dict[str, float] = {}
    jsonl = scratch / "articles.jsonl"
    info = timed_section(sections, "build",
                         lambda: synth.build(ws, jsonl, args.articles, args.annotations, ANNOTATORS))
    corpus, mine, run = synth.Corpus(args.articles), info["covered"][WRITER], Children(scratch)
    words = info["common_word"], info["rare_word"]
    benches = {
        "save": lambda: bench_saves(run, ws, corpus, mine, args.quick),
        "open": lambda: bench_open(ws, mine[1], args.open_timeout),
        "open_small": lambda: bench_open_small(scratch, args.open_timeout),
        "search": lambda: bench_search(run, ws, jsonl, *words),
        "article": lambda: bench_article(run, ws, mine[len(mine) // 2:][:20]),
        "scroll": lambda: bench_scroll(run),
        "export": lambda: bench_export(run, ws),
        "agreement": lambda: bench_agreement(run, ws),
        "existing_benchmarks": lambda: bench_existing(run),
        "load": lambda: bench_load(run, ws, args.load_sessions, args.open_timeout),  # last: it adds annotators
    }
    if args.articles <= SMALL_ARTICLES:
        del benches["open_small"]  # "open" is that size already
    if not args.load_sessions:
        del benches["load"]
    figures = {name: timed_section(sections, name, fn) for name, fn in benches.items()}
    targets = {f"{group}.{name}": fig["meets_target"] for group, figs in figures.items()
               for name, fig in figs.items() if isinstance(fig, dict) and "meets_target" in fig}
    sizes = {"articles": args.articles, "annotations": args.annotations, "annotators": ANNOTATORS,
             "annotations_per_annotator": info["annotations_per_annotator"],
             "articles_per_annotator": {k: len(v) for k, v in info["covered"].items()},
             "bodies_mb": mb((ws / "bodies.bin").stat().st_size),
             "corpus_json_mb": mb((ws / "corpus.json").stat().st_size),
             "annotation_files_mb": mb(sum(p.stat().st_size for p in (ws / "annotations").glob("*.json")))}
    return {"benchmark": "tahqiq bench/run.py", "quick": args.quick, "machine": machine(), "sizes": sizes,
            "targets_met": targets, "targets": {name: dict(zip(("kind", "limit", "unit", "what"), row))
                                                for name, row in TARGETS.items()},
            "figures": figures, "section_seconds": sections,
            "wall_seconds": round(time.perf_counter() - started, 1)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, help="articles in the corpus (default 100000; --quick 2000)")
    parser.add_argument("--annotations", type=int,
                        help=f"annotations over {ANNOTATORS} annotators (default 1000000; --quick 20000)")
    parser.add_argument("--quick", action="store_true", help="small sizes: checks that everything works")
    parser.add_argument("--out", metavar="FILE", help="also write the JSON to FILE")
    parser.add_argument("--keep", metavar="DIR", help="build the workspace in DIR (new or empty) and keep it")
    parser.add_argument("--open-timeout", type=float, default=300.0, metavar="S",
                        help="give up on the app's first screen after S seconds (default 300)")
    parser.add_argument("--load-sessions", type=int, metavar="N",
                        help=f"sessions of the serve load test (default {LOAD_SESSIONS}; --quick "
                             f"{QUICK_LOAD_SESSIONS}; 0: no load test)")
    parser.add_argument("--targets", action="store_true", help="print the targets as a Markdown table and stop")
    args = parser.parse_args(argv)
    args.articles = args.articles or (SMALL_ARTICLES if args.quick else 100_000)
    args.annotations = args.annotations or (SMALL_ANNOTATIONS if args.quick else 1_000_000)
    if args.load_sessions is None:
        args.load_sessions = QUICK_LOAD_SESSIONS if args.quick else LOAD_SESSIONS
    return args


def compile_sources() -> None:
    """Byte-compile tui/, store/ and bench/ as `pip install` does, so that launches are measured as an installed
    app's: with PYTHONDONTWRITEBYTECODE set (CI sets it), a fresh clone would otherwise compile every module
    from source at every launch."""
    import compileall

    for folder in ("tui", "store", "bench"):
        compileall.compile_dir(ROOT / folder, quiet=1)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.targets:
        print(targets_table())
        return 0
    compile_sources()
    kept = Path(args.keep).resolve() if args.keep else None
    if kept is not None and kept.exists() and any(kept.iterdir()):
        raise SystemExit(f"--keep {kept}: give a new or empty folder")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still clean up the scratch folder
    scratch = Path(tempfile.mkdtemp(prefix="tahqiq-bench-", dir="/tmp"))
    ws = kept or scratch / "ws"
    try:
        result = run_all(args, scratch, ws)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    text = json.dumps(result, indent=1, ensure_ascii=False)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    if kept is not None:
        print(f"bench: workspace kept in {kept}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
