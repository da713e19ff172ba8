"""`tahqiq doctor`: check a workspace file by file, repair what can be repaired safely, report the rest.

Checked: corpus.json (parses, records well formed), bodies.bin (every text where its record says, with
its checksum; bytes past the last referenced text), labels.toml, each annotator's database and journal,
and annotations whose stored text no longer matches the article at their offsets.

Repaired (always keeping a copy of what is changed): a journal's torn last line (a save cut short by a
crash; it never returned) is cut off, the bytes kept in `<name>.journal.torn`; damaged journal lines are
dropped after the whole journal is copied to `<name>.journal.bak-<time>`; bytes past the last article
text in bodies.bin (an import killed before it finished) are cut off, kept in `bodies.bin.orphaned`;
stale temp files of interrupted atomic writes (older than a minute) are removed. Files of an annotator
another process has open for writing are checked but never repaired. Nothing is repaired in `dry_run`.
"""

from __future__ import annotations

import fcntl
import os
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .atomic import write_atomic
from .corpus import BODIES_FILE, TEXT_AT, referenced_end
from .errors import CorruptFileError, StoreError
from .journal import JOURNAL_SUFFIX, LOCK_SUFFIX, TORN_SUFFIX, database_names, read_line
from .storage import read_tables

STALE_TMP_SECONDS = 60
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
    rows, corpus_ok = _corpus(folder, findings)
    if corpus_ok:
        findings += _bodies(folder, rows, dry_run)
    findings += _labels(folder)
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
            if age < STALE_TMP_SECONDS:
                continue
            if dry_run:
                yield Finding("problem", str(tmp), "temp file of an interrupted write (would be removed)")
                continue
            try:
                tmp.unlink()
                yield Finding("repaired", str(tmp), "removed the temp file of an interrupted write")
            except OSError as exc:
                yield Finding("problem", str(tmp), f"temp file of an interrupted write; cannot remove ({exc.strerror})")


def _corpus(folder: Path, findings: list[Finding]) -> tuple[list[dict], bool]:
    path = folder / "corpus.json"
    if not path.exists():
        findings.append(Finding("note", str(path), "no corpus yet (nothing imported)"))
        return [], True
    try:
        tables, _ = read_tables(path)
    except CorruptFileError as exc:
        findings.append(Finding("problem", str(path), _after_path(exc, path) + "; the file was left untouched"))
        return [], False
    rows = list((tables.get("articles") or {}).values())
    bad = [i for i, r in enumerate(rows) if not isinstance(r, dict) or not isinstance(r.get("id"), str)
           or ("body" not in r and not _ref_ok(r.get(TEXT_AT)))]
    if bad:
        findings.append(Finding("problem", str(path), f"{len(bad)} article record(s) malformed (first at position {bad[0]})"))
        return [r for i, r in enumerate(rows) if i not in set(bad)], False
    findings.append(Finding("ok", str(path), f"{len(rows)} article(s)"))
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
    end = referenced_end(rows)
    if size > end:
        with _Lock(folder / "corpus.lock") as free:
            if not free:
                yield Finding("note", str(path), f"{size - end} bytes past the last article text; "
                                                 "an import is running, left alone")
            elif dry_run:
                yield Finding("problem", str(path), f"{size - end} bytes past the last article text "
                                                    "(an interrupted import; would be cut off)")
            else:
                with open(path, "rb") as handle:
                    handle.seek(end)
                    write_atomic(path.with_name(path.name + ".orphaned"), handle.read())
                os.truncate(path, end)
                yield Finding("repaired", str(path), f"cut off {size - end} bytes an interrupted import left "
                                                     f"(kept in {path.name}.orphaned)")


def _labels(folder: Path) -> Iterator[Finding]:
    from .labels import load_schema

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
            yield Finding("ok", str(db), f"{count} annotation(s) as of the last fold")
        except CorruptFileError as exc:
            yield Finding("problem", str(db), _after_path(exc, db) + "; the file was left untouched "
                                              "(restore it from a backup)")
    if not journal.exists():
        return
    data = journal.read_bytes()
    end = data.rfind(b"\n") + 1
    good: list[bytes] = []
    bad: list[int] = []
    for number, line in enumerate(data[:end].split(b"\n")[:-1], 1):
        if read_line(line)[0] is None:
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


def _Lock_holder(db: Path) -> str:  # noqa: N802
    try:
        text = db.with_suffix(LOCK_SUFFIX).read_text(encoding="utf-8").split()
    except OSError:
        return "?"
    return " on ".join(text[:2]) if text else "?"


def _mismatches(folder: Path) -> Iterator[Finding]:
    """Annotations whose text no longer matches the body at their offsets, or on articles not in the corpus."""
    from .workspace import Workspace

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
