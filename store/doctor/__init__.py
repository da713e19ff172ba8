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
finished are set aside into `bodies.bin.orphaned`; the corpus index (corpus.idx) and the search index, derived
files, are rebuilt when missing, stale or damaged; stale temp files of interrupted atomic writes (writer
gone, or older than a minute) are removed. Files of an annotator or corpus another process has open for
writing are checked but never repaired. Nothing is repaired in `dry_run`.

The corpus is checked by store.doctor.corpus and each annotator's files by store.doctor.annotators (reporting
through store.doctor.findings); `check` runs them in order with the checks of the other files here (temp files,
labels.toml, the settings files, annotations against their articles' text).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

from store.annotation.labels import load_schema
from store.db.atomic import pid_alive
from store.doctor.annotators import annotator_names, check_annotator
from store.doctor.corpus import check_bodies, check_corpus, check_indexes
from store.doctor.findings import Finding, after_path
from store.errors import StoreError
from store.keymap import KEYMAP_FILE, load_keymap
from store.session import STATE_DIR, SessionState
from store.team import assign
from store.workspace import Workspace

STALE_TMP_SECONDS = 60
_TMP_PID = re.compile(r"\.(\d+)-[A-Za-z0-9_]{8}\.tmp$")

__all__ = ["Finding", "check", "problems"]


def check(path: str | os.PathLike[str], dry_run: bool = False) -> list[Finding]:
    """Every finding for the workspace at `path` (repairs done unless `dry_run`)."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        return [Finding("problem", str(folder), "not a workspace folder")]
    findings: list[Finding] = []
    findings += _temp_files(folder, dry_run)
    rows, corpus_ok = check_corpus(folder, findings, dry_run)
    if corpus_ok:
        findings += check_bodies(folder, rows, dry_run)
        findings += check_indexes(folder, dry_run)
    findings += _labels(folder)
    findings += _settings(folder)
    for name in annotator_names(folder):
        findings += check_annotator(folder, name, dry_run)
    findings += _tagged_index(folder, dry_run)
    if corpus_ok:
        findings += _mismatches(folder, dry_run)
    return findings


def _tagged_index(folder: Path, dry_run: bool) -> Iterator[Finding]:
    """The team's shared index of tagged strings (store.assist.tagged_index) is derived: rebuilt from every
    annotator's counts file when it is there but not of them (stale after a fold, or damaged). Missing is fine:
    the next session builds it."""
    from store.annotators import is_predictions
    from store.assist.tagged_index import INDEX_PATH, TaggedIndex, build, sources_of

    path = folder / INDEX_PATH
    if not path.exists():
        return
    dbs = {n: folder / "annotations" / f"{n}.json" for n in annotator_names(folder) if not is_predictions(n)}
    sources = sources_of(dbs)
    found = TaggedIndex.open(path, sources) if sources is not None else None
    if found is not None:
        found.close()
        yield Finding("ok", str(path), f"{len(dbs)} annotator(s)' tagged strings, as their counts files say")
    elif sources is None:
        yield Finding("note", str(path), "not checked: an annotator's counts file is not current (the next session "
                                         "rebuilds both)")
    elif dry_run:
        yield Finding("note", str(path), "not of the counts files now (stale after a fold, or damaged): would be "
                                         "rebuilt")
    else:
        try:
            build(path, dbs, sources)
        except (OSError, ValueError) as exc:
            yield Finding("problem", str(path), f"cannot rebuild it ({exc})")
            return
        yield Finding("repaired", str(path), "not of the counts files now (stale after a fold, or damaged): rebuilt")


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


def _labels(folder: Path) -> Iterator[Finding]:
    path = folder / "labels.toml"
    if not path.exists():
        yield Finding("note", str(path), "missing; the default labels are written when the workspace opens")
        return
    try:
        load_schema(path)
    except StoreError as exc:
        yield Finding("problem", str(path), after_path(exc, path))
        return
    yield Finding("ok", str(path), "valid")


def _mismatches(folder: Path, dry_run: bool = False) -> Iterator[Finding]:
    """Annotations whose text no longer matches the body at their offsets, or on articles not in the corpus
    (the workspace opened read-only in a dry run: opening it may otherwise write what is derived)."""
    try:
        ws = Workspace.open(folder, read_only=dry_run)
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


def problems(findings: list[Finding]) -> int:
    return sum(f.level == "problem" for f in findings)


def _settings(folder: Path) -> Iterator[Finding]:
    """The files the app reads besides the corpus, labels and annotations: keymap.toml, claim_rules.toml,
    patterns.jsonl, assignments.json, and each annotator's rejected suggestions and app state. Only read."""
    # Not at the top: these two (with the regex package) cost every `tahqiq` command ~15 ms at start.
    from store.assist.claim_rules import RULES_FILE, parse_rules
    from store.assist.rejections import Rejections
    from store.assist.suggest import PATTERNS_FILE, load_patterns

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
