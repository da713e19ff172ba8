"""`tahqiq doctor` on the corpus: corpus.json (parses, records well formed, lists what bodies.bin holds; rebuilt
from the frames in bodies.bin when damaged, emptied or older) and bodies.bin (every text where its record says,
with its checksum; an interrupted import's bytes past the last text set aside), and the files derived from them,
corpus.idx and the search index (rebuilt, without asking, when missing, stale or damaged). Nothing is repaired
while an import holds the corpus lock, nor in `dry_run`."""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from pathlib import Path

from store.corpus.bodies import (
    BODIES_FILE,
    TEXT_AT,
    BodyStore,
    append_mark,
    committed_records,
    examine,
    make_article,
    record_problem,
    set_aside,
)
from store.corpus.catalog import INDEX_FILE, index_problem, write_index
from store.db.atomic import keep_version, write_atomic
from store.db.journal_format import salvage_tables
from store.db.lock import try_locked
from store.db.storage import dumps, file_stamp, read_tables
from store.doctor.findings import Finding, after_path
from store.errors import CorruptFileError, StoreError
from store.search.index import INDEX_DIR, SearchIndex


def check_corpus(folder: Path, findings: list[Finding], dry_run: bool) -> tuple[list[dict], bool]:
    """corpus.json checked (and rebuilt if need be) into `findings`: (its article records, whether they can be
    trusted for the checks that follow)."""
    path = folder / "corpus.json"
    bodies = folder / BODIES_FILE
    if not path.exists() and not bodies.exists():
        findings.append(Finding("note", str(path), "no corpus yet (nothing imported)"))
        return [], True
    tables: dict | None = None
    try:
        tables = read_tables(path)[0] if path.exists() else {}
    except CorruptFileError as exc:
        problem = after_path(exc, path)
    if tables is not None:
        rows = list((tables.get("articles") or {}).values())
        bad = [i for i, r in enumerate(rows) if record_problem(r) is not None]
        if bad:
            findings.append(Finding("problem", str(path), f"{len(bad)} article record(s) malformed (first at position "
                                                          f"{bad[0]}: {record_problem(rows[bad[0]])})"))
            return [r for i, r in enumerate(rows) if i not in set(bad)], False
        damage, _ = examine(bodies, path, rows)
        if damage is None:
            findings.append(Finding("ok", str(path), f"{len(rows)} article(s)"))
            return rows, True
        problem = after_path(CorruptFileError(damage), path)
    return _rebuild_corpus(folder, tables, problem, findings, dry_run)


def _rebuild_corpus(folder: Path, tables: dict | None, problem: str, findings: list[Finding],
                    dry_run: bool) -> tuple[list[dict], bool]:
    """corpus.json from what is intact in it and every finished import's frames in bodies.bin (each holds its
    article's corpus record); the damaged file is kept. An index that bodies.bin cannot give back (texts from
    before frames existed, or inline texts) is left untouched."""
    path, bodies = folder / "corpus.json", folder / BODIES_FILE
    try:
        raw = path.read_bytes()
    except OSError:
        raw = b""
    if tables is None:
        tables = salvage_tables(raw)[0]
    listed = [r for r in (tables.get("articles") or {}).values()
              if isinstance(r, dict) and isinstance(r.get("id"), str) and ("body" in r or _ref_ok(r.get(TEXT_AT)))]
    recovered, marked = committed_records(bodies)
    known = {r["id"] for r in listed}
    fresh = []
    for record in recovered:
        if record["id"] not in known:
            known.add(record["id"])
            fresh.append(record)
    nothing_stored = not raw.strip() and not listed and (not bodies.exists() or bodies.stat().st_size == 0)
    if not fresh and not nothing_stored:
        hint = "" if "backup" in problem else " (restore it from a backup)"
        findings.append(Finding("problem", str(path), f"{problem}; bodies.bin holds nothing to rebuild it from; "
                                                      f"the file was left untouched{hint}"))
        return [], False
    rows = [r for r in listed if TEXT_AT not in r] + sorted(
        [r for r in listed + fresh if TEXT_AT in r], key=lambda r: r[TEXT_AT][0])
    lost = max(0, marked - len(rows))
    what = f"{len(rows)} article(s), {len(fresh)} of them from bodies.bin"
    problem = problem.split("; run `tahqiq doctor`")[0]
    with try_locked(folder / "corpus.lock") as free:
        if not free:
            findings.append(Finding("problem", str(path), f"{problem}; an import is running, not rebuilt "
                                                          "(run doctor again when it is done)"))
            return [], False
        if dry_run:
            findings.append(Finding("problem", str(path), f"{problem} (would be rebuilt: {what})"))
            return [], False
        kept = ""
        if path.exists():
            backup = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
            keep_version(path, backup)
            kept = f"; the damaged file is kept in {backup.name}"
        write_atomic(path, dumps({**tables, "articles": {str(i): r for i, r in enumerate(rows, 1)}}))
        still, keep = examine(bodies, path, rows)
        set_aside(bodies, keep)  # an interrupted import's frames (no mark after them): kept aside
        if still is not None:  # articles whose frames could not be read back: the index now lists fewer
            append_mark(bodies, len(rows))
    findings.append(Finding("repaired", str(path), f"{problem}: rebuilt the index: {what}{kept}"))
    if lost:  # their texts are in bodies.bin without readable metadata (damaged, or from an older version)
        findings.append(Finding("problem", str(bodies), f"{lost} article(s) could not be indexed again (their "
                                                        "metadata is damaged or was never stored); restore "
                                                        f"corpus.json from a backup to get them back"))
    return rows, True


def _ref_ok(ref: object) -> bool:
    return isinstance(ref, list) and len(ref) == 4 and all(isinstance(v, int) and v >= 0 for v in ref)


def check_bodies(folder: Path, rows: list[dict], dry_run: bool) -> Iterator[Finding]:
    """bodies.bin against the article records `rows`: every text intact, nothing past the last one."""
    path = folder / BODIES_FILE
    refs = [(r["id"], r[TEXT_AT]) for r in rows if TEXT_AT in r]
    if not refs:
        return
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        yield Finding("problem", str(path), f"missing: the texts of {len(refs)} article(s) are lost")
        return
    damaged: list[str] = []
    with open(path, "rb", buffering=1 << 20) as handle:
        for article_id, (offset, nbody, nraw, crc) in sorted(refs, key=lambda r: r[1][0]):
            handle.seek(offset)
            body = handle.read(nbody)
            raw = handle.read(nraw)
            ok = len(body) == nbody and len(raw) == nraw and zlib.crc32(raw, zlib.crc32(body)) == crc
            if ok:
                try:
                    body.decode("utf-8")
                except UnicodeDecodeError:
                    ok = False
            if not ok:
                damaged.append(article_id)
    if damaged:
        yield Finding("problem", str(path), f"the text of {len(damaged)} article(s) is damaged or cut short "
                                            f"(first: {damaged[0]}); restore the file from a backup")
    else:
        yield Finding("ok", str(path), f"{len(refs)} article text(s) intact")
    _, end = examine(path, folder / "corpus.json", rows)
    if size > end:
        with try_locked(folder / "corpus.lock") as free:
            if not free:
                yield Finding("note", str(path), f"{size - end} bytes past the last article text; "
                                                 "an import is running, left alone")
            elif dry_run:
                yield Finding("problem", str(path), f"{size - end} bytes past the last article text "
                                                    "(an interrupted import; would be set aside)")
            else:
                set_aside(path, end)
                yield Finding("repaired", str(path), f"set aside {size - end} bytes an interrupted import left "
                                                     f"(appended to {path.name}.orphaned)")


def check_indexes(folder: Path, dry_run: bool) -> Iterator[Finding]:
    """corpus.idx (store.corpus.catalog) and the search index (store.search.index), both derived from corpus.json
    and bodies.bin: rebuilt when missing, stale or damaged. Called once corpus.json is known to be whole."""
    corpus, path = folder / "corpus.json", folder / INDEX_FILE
    with try_locked(folder / "corpus.lock") as free:
        stamp = file_stamp(corpus)
        try:
            rows = list((read_tables(corpus)[0].get("articles") or {}).values())
        except CorruptFileError:
            return  # (told by check_corpus)
        if not rows or stamp != file_stamp(corpus) or any(record_problem(r) is not None for r in rows):
            return  # nothing imported; or changed, or malformed, since checked: not built from it
        for where, why, rebuild in (
                (str(path), index_problem(path, stamp), lambda: write_index(path, stamp, rows)),
                (str(folder / INDEX_DIR), SearchIndex(folder).problem([r["id"] for r in rows]),
                 lambda: _rebuild_search(folder, rows))):
            if why is None:
                yield Finding("ok", where, f"{len(rows)} article(s), up to date")
            elif not free:
                yield Finding("note", where, f"{why}; an import is running, left alone (it rewrites it)")
            elif dry_run:
                yield Finding("problem", where, f"{why} (would be rebuilt)")
            else:
                try:
                    rebuild()
                except (OSError, StoreError, ValueError) as exc:
                    yield Finding("problem", where, f"{why}; cannot rebuild it ({exc})")
                else:
                    yield Finding("repaired", where, f"{why}: rebuilt ({len(rows)} article(s))")


def _rebuild_search(folder: Path, rows: list[dict]) -> None:
    bodies = BodyStore(folder / BODIES_FILE)
    try:
        articles = {r["id"]: make_article(r, bodies) for r in rows}
        SearchIndex(folder).rebuild(list(articles), lambda i: (articles[i].title, articles[i].body))
    finally:
        bodies.close()
