"""`tahqiq doctor`: check a workspace file by file, repair what can be repaired safely, report the rest.

Checked: corpus.json (parses, records well formed), bodies.bin (every text where its record says, with
its checksum; bytes past the last referenced text), labels.toml, each annotator's database and journal,
and annotations whose stored text no longer matches the article at their offsets.

Repaired (always keeping a copy of what is changed): a journal's torn last line (a save cut short by a
crash; it never returned) is cut off, the bytes kept in `<name>.journal.torn`; damaged journal lines are
dropped after the whole journal is copied to `<name>.journal.bak-<time>`; a damaged annotator database
(emptied, cut short, a flipped byte) is rebuilt from every intact record in it plus the previous version
the last fold kept (`<name>.json.prev` with `<name>.journal.prev`), the damaged file kept in
`<name>.json.damaged-<time>`; a damaged, emptied or older corpus.json is rebuilt from the frames in
bodies.bin (the damaged file kept in `corpus.json.damaged-<time>`); texts of an import killed before it
finished are set aside into `bodies.bin.orphaned`; stale temp files of interrupted atomic writes (writer
gone, or older than a minute) are removed. Files of an annotator or corpus another process has open for
writing are checked but never repaired. Nothing is repaired in `dry_run`.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from store.annotation.annotation_set import record_problem as annotation_problem
from store.corpus.bodies import BODIES_FILE, TEXT_AT, append_mark, committed_records, examine, record_problem, set_aside
from store.db.atomic import keep_version, pid_alive, write_atomic, write_atomic_chunks
from store.db.journal import (
    JOURNAL_SUFFIX,
    LOCK_SUFFIX,
    TORN_SUFFIX,
    _record_problem,
    database_names,
    encode_tables,
    read_line,
    recover_tables,
)
from store.db.storage import dumps, read_tables
from store.errors import CorruptFileError, StoreError

STALE_TMP_SECONDS = 60
_TMP_PID = re.compile(r"\.(\d+)-[A-Za-z0-9_]{8}\.tmp$")
MAX_LINES_PER_CHECK = 10


@dataclass
class Finding:
    """One line of the report. level: "ok", "repaired", "note" (no action needed) or "problem"."""

    level: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.where}: {self.message}"


class _Lock:
    """Try to take a writer lock (annotator or corpus) for the length of a repair."""

    def __init__(self, path: Path) -> None:
        self.path, self.fd, self.holder = path, None, ""

    def __enter__(self) -> bool:
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError:
            return True  # cannot create a lock (read-only folder): nothing can write either
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            self.holder = os.pread(self.fd, 256, 0).decode("utf-8", "replace").strip() or "another process"
            return False

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)


def check(path: str | os.PathLike[str], dry_run: bool = False) -> list[Finding]:
    """Every finding for the workspace at `path` (repairs done unless `dry_run`)."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        return [Finding("problem", str(folder), "not a workspace folder")]
    findings: list[Finding] = []
    findings += _temp_files(folder, dry_run)
    rows, corpus_ok = _corpus(folder, findings, dry_run)
    if corpus_ok:
        findings += _bodies(folder, rows, dry_run)
    findings += _labels(folder)
    findings += _settings(folder)
    for name in _annotators(folder):
        findings += _annotator(folder, name, dry_run)
    if corpus_ok:
        findings += _mismatches(folder)
    return findings


def _temp_files(folder: Path, dry_run: bool) -> Iterator[Finding]:
    now = time.time()
    for sub in (folder, folder / "annotations"):
        for tmp in sorted(sub.glob(".*.tmp")):
            try:
                age = now - tmp.stat().st_mtime
            except OSError:
                continue
            writer = _TMP_PID.search(tmp.name)
            if age < STALE_TMP_SECONDS or (writer is not None and pid_alive(int(writer.group(1)))):
                continue  # maybe being written right now
            if dry_run:
                yield Finding("problem", str(tmp), "temp file of an interrupted write (would be removed)")
                continue
            try:
                tmp.unlink()
                yield Finding("repaired", str(tmp), "removed the temp file of an interrupted write")
            except OSError as exc:
                yield Finding("problem", str(tmp), f"temp file of an interrupted write; cannot remove ({exc.strerror})")


def _corpus(folder: Path, findings: list[Finding], dry_run: bool) -> tuple[list[dict], bool]:
    path = folder / "corpus.json"
    bodies = folder / BODIES_FILE
    if not path.exists() and not bodies.exists():
        findings.append(Finding("note", str(path), "no corpus yet (nothing imported)"))
        return [], True
    tables: dict | None = None
    try:
        tables = read_tables(path)[0] if path.exists() else {}
    except CorruptFileError as exc:
        problem = _after_path(exc, path)
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
        problem = _after_path(CorruptFileError(damage), path)
    return _rebuild_corpus(folder, tables, problem, findings, dry_run)


def _rebuild_corpus(folder: Path, tables: dict | None, problem: str, findings: list[Finding],
                    dry_run: bool) -> tuple[list[dict], bool]:
    """corpus.json from what is intact in it and every finished import's frames in bodies.bin (each holds its
    article's corpus record); the damaged file is kept. An index that bodies.bin cannot give back (texts from
    before frames existed, or inline texts) is left untouched."""
    from store.db.journal import salvage_tables

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
    with _Lock(folder / "corpus.lock") as free:
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


def _bodies(folder: Path, rows: list[dict], dry_run: bool) -> Iterator[Finding]:
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
        with _Lock(folder / "corpus.lock") as free:
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


def _labels(folder: Path) -> Iterator[Finding]:
    from store.annotation.labels import load_schema

    path = folder / "labels.toml"
    if not path.exists():
        yield Finding("note", str(path), "missing; the default labels are written when the workspace opens")
        return
    try:
        load_schema(path)
    except StoreError as exc:
        yield Finding("problem", str(path), _after_path(exc, path))
        return
    yield Finding("ok", str(path), "valid")


def _annotators(folder: Path) -> list[str]:
    return sorted(database_names(folder / "annotations"))


def _annotator(folder: Path, name: str, dry_run: bool) -> Iterator[Finding]:
    db = folder / "annotations" / f"{name}.json"
    journal = db.with_suffix(JOURNAL_SUFFIX)
    if db.exists():
        try:
            tables, _ = read_tables(db)
            count = len(tables.get("annotations", {}))
            wrong = [(t, k, why) for t, rows in tables.items() for k, r in rows.items()
                     if (why := _record_problem(annotation_problem, t, r)) is not None]
            if wrong:
                table, key, why = wrong[0]
                more = f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""
                yield Finding("problem", str(db), f"table {table!r}, record {key}: {why}{more}; the file was left "
                                                  "untouched (`tahqiq --read-only` shows the other records)")
            else:
                yield Finding("ok", str(db), f"{count} annotation(s) as of the last fold")
        except CorruptFileError as exc:
            yield _rebuild_database(db, _after_path(exc, db), dry_run)
    if not journal.exists():
        return
    data = journal.read_bytes()
    end = data.rfind(b"\n") + 1
    good: list[bytes] = []
    bad: list[int] = []
    for number, line in enumerate(data[:end].split(b"\n")[:-1], 1):
        if read_line(line, annotation_problem)[0] is None:
            good.append(line + b"\n")
        else:
            bad.append(number)
    torn = data[end:]
    if not bad and not torn:
        yield Finding("ok", str(journal), f"{len(good)} save(s) since the last fold")
        return
    what = []
    if bad:
        what.append(f"damaged line(s) {', '.join(map(str, bad[:MAX_LINES_PER_CHECK]))}"
                    + (" ..." if len(bad) > MAX_LINES_PER_CHECK else ""))
    if torn:
        what.append(f"a torn last line ({len(torn)} bytes of a save cut short by a crash)")
    described = " and ".join(what)
    with _Lock(db.with_suffix(LOCK_SUFFIX)) as free:
        if not free:
            level = "problem" if bad else "note"
            yield Finding(level, str(journal), f"{described}; open for writing in process {_Lock_holder(db)}, "
                                               "not repaired (close it and run doctor again)")
            return
        if dry_run:
            yield Finding("problem", str(journal), f"{described} (would be repaired)")
            return
        if bad:
            backup = journal.with_name(f"{journal.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
            write_atomic(backup, data)
        if torn:
            write_atomic(db.with_suffix(TORN_SUFFIX), torn)
        write_atomic(journal, b"".join(good))
        kept = f"kept {len(good)} good save(s)"
        where = f"original kept in {backup.name}" if bad else f"torn bytes kept in {db.with_suffix(TORN_SUFFIX).name}"
        yield Finding("repaired", str(journal), f"{described}: removed; {kept}; {where}")


def _rebuild_database(db: Path, problem: str, dry_run: bool) -> Finding:
    """A damaged annotator database rebuilt from its intact records and the previous version; the damaged
    file is kept beside it. The journal is left as it is: it replays over the rebuilt file."""
    tables, how = recover_tables(db)
    count = len(tables.get("annotations", {}))
    with _Lock(db.with_suffix(LOCK_SUFFIX)) as free:
        if not free:
            return Finding("problem", str(db), f"{problem}; open for writing in process {_Lock_holder(db)}, "
                                               "not repaired (close it and run doctor again)")
        if dry_run:
            return Finding("problem", str(db), f"{problem} (would be rebuilt from {how}: {count} annotation(s))")
        backup = db.with_name(f"{db.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        keep_version(db, backup)
        write_atomic_chunks(db, encode_tables(tables))
    return Finding("repaired", str(db), f"{problem}: rebuilt from {how}: {count} annotation(s) as of the last "
                                        f"fold; the damaged file is kept in {backup.name}")


def _Lock_holder(db: Path) -> str:  # noqa: N802
    try:
        text = db.with_suffix(LOCK_SUFFIX).read_text(encoding="utf-8").split()
    except OSError:
        return "?"
    return " on ".join(text[:2]) if text else "?"


def _mismatches(folder: Path) -> Iterator[Finding]:
    """Annotations whose text no longer matches the body at their offsets, or on articles not in the corpus."""
    from store.workspace import Workspace

    try:
        ws = Workspace.open(folder)
    except StoreError as exc:
        yield Finding("problem", str(folder), f"cannot open the workspace: {exc}")
        return
    try:
        for name in ws.annotators():
            try:
                notes = ws.annotations(name, check=False)
            except StoreError:
                continue  # already reported file by file
            articles = sorted({r["article_id"] for r in notes.records()})
            shifted = missing = 0
            first = None
            for article_id in articles:
                try:
                    wrong = notes.mismatches(article_id)
                except StoreError:
                    missing += 1
                    continue
                if wrong and first is None:
                    first = (article_id, wrong[0])
                shifted += len(wrong)
            where = f"annotations of {name}"
            if missing:
                yield Finding("problem", where, f"annotations on {missing} article(s) not in the corpus")
            if shifted:
                article_id, row = first
                yield Finding("problem", where, f"{shifted} annotation(s) no longer match the article text at their "
                                                f"offsets (first: article {article_id}, {row['start']}-{row['end']}, "
                                                f"stored {row['text']!r}); fix them in the reader")
            if not missing and not shifted:
                yield Finding("ok", where, f"{len(articles)} article(s) checked, every span matches its text")
    finally:
        ws.close()


def _after_path(exc: Exception, path: Path) -> str:
    text = str(exc)
    prefix = f"{path}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def problems(findings: list[Finding]) -> int:
    return sum(f.level == "problem" for f in findings)


def _settings(folder: Path) -> Iterator[Finding]:
    """The files the app reads besides the corpus, labels and annotations: keymap.toml, claim_rules.toml,
    patterns.jsonl, assignments.json, and each annotator's rejected suggestions and app state. Only read."""
    from store.annotation.labels import load_schema
    from store.assist.claim_rules import RULES_FILE, parse_rules
    from store.assist.suggest import PATTERNS_FILE, Rejections, load_patterns
    from store.keymap import KEYMAP_FILE, load_keymap
    from store.session import STATE_DIR, SessionState
    from store.team import assign

    def read_rules(path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise StoreError(f"{path}: cannot read ({exc})") from exc
        parse_rules(text, path)

    def read_patterns(path: Path) -> str | None:
        try:
            labels = load_schema(folder / "labels.toml").entities
        except StoreError:
            return "not checked (labels.toml is broken)"
        load_patterns(path, labels)
        return None

    checks = [(folder / KEYMAP_FILE, lambda p: load_keymap(p)), (folder / RULES_FILE, read_rules),
              (folder / PATTERNS_FILE, read_patterns),
              (folder / assign.ASSIGNMENTS_FILE, lambda p: assign.load(folder))]
    checks += [(p, lambda p: Rejections(folder, p.stem)) for p in sorted((folder / "suggestions").glob("*.json"))]
    checks += [(p, lambda p: SessionState(folder, p.stem).problem) for p in sorted((folder / STATE_DIR).glob("*.json"))]
    for path, read in checks:
        if not path.exists():
            continue
        try:
            note = read(path)
        except StoreError as exc:
            where, message = _where(str(exc), path)
            yield Finding("problem", where, message)
            continue
        if isinstance(note, str):  # a state file the app would start afresh from
            where, message = _where(note, path)
            yield Finding("note" if note.startswith("not checked") else "problem", where, message)
        else:
            yield Finding("ok", str(path), "valid")


def _where(message: str, path: Path) -> tuple[str, str]:
    """(`file` or `file:line`, the rest) of a one-line error that starts with the file's name."""
    head = str(path)
    if not message.startswith(head):
        return head, message
    rest = message[len(head):]
    line = re.match(r":(\d+)", rest)
    if line:
        head, rest = head + line.group(0), rest[line.end():]
    return head, rest[2:] if rest.startswith(": ") else rest.lstrip(":").strip()
