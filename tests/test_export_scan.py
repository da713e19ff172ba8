"""An export reads each annotator's database run by run through its record index (GroupReader.scan, checked in
store.exchange.scan): the output must be byte for byte what reading the whole files gives (the path taken without
an index, which says what is damaged), in every format, whatever the journal changed, the order the database holds
the articles in, or the characters a body holds; a damaged record is never skipped in silence."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from test_export_fixtures import make_annotated

from store import Workspace
from store.annotation.record import GROUP_FIELD, stored_problem
from store.corpus.article import Article
from store.db.group_reader import GroupReader
from store.db.record_index import Stale, index_of, next_keys, offsets_path, rebuild_record_index, write_record_index
from store.db.storage import dumps, read_tables
from store.errors import StoreError
from store.exchange import FORMATS, export, to_record
from store.exchange.records import Item, json_safe

BODY = ('قال "المتحدث" إن \\ الأسعار\tارتفعت\nثم 😀 غادر\u2028إلى \u202eباريس\u202c و\x85 \x01 بعدها\r\nنهاية '
        '\u061c \u2066x\u2069 \x7f')


def _outputs(ws_path: Path, out: Path, **kw) -> dict[str, bytes]:
    """Every format's output (a folder's files joined) and notes, exported from a hard-linked copy of the
    workspace (links keep the files' stamps, so their indexes still fit)."""
    copy = out / "ws"
    shutil.copytree(ws_path, copy, copy_function=os.link)
    got: dict[str, bytes] = {}
    ws = Workspace.open(copy)
    try:
        for fmt, spec in FORMATS.items():
            target = out / fmt
            try:
                ctx = export(ws, fmt, path=target, **kw)
            except StoreError as exc:
                got[fmt] = f"refused: {exc}".replace(str(copy), "WS").encode()
                continue
            files = sorted(p for p in target.rglob("*") if p.is_file()) if spec.to_dir else [target]
            got[fmt] = b"\n--\n".join(f.read_bytes() for f in files) + "\n".join(ctx.notes).replace(
                str(copy), "WS").encode()
    finally:
        ws.close()
    return got


def _without_index(ws_path: Path, to: Path) -> Path:
    shutil.copytree(ws_path, to)
    for index in (to / "annotations").glob("*.offsets"):
        index.unlink()
    return to


def _same_as_whole(ws_path: Path, tmp: Path, **kw) -> dict[str, bytes]:
    indexed = _outputs(ws_path, tmp / "indexed", **kw)
    whole = _outputs(_without_index(ws_path, tmp / "plain"), tmp / "whole", **kw)
    assert indexed.keys() == whole.keys()
    for fmt in indexed:
        assert indexed[fmt] == whole[fmt], fmt
    return indexed


def _hostile(path: Path) -> Path:
    """Articles whose bodies hold what the JSON writers must escape; annotations on them, folded."""
    ws = Workspace.open(path)
    ws.add_articles([Article(id="h1", body=BODY, title="عنوان \u2067x\u2069"),
                     Article(id="h2", body='plain "quoted" text\twith a tab, a \\ backslash\nand a line'),
                     Article(id="h3", body="نص عربي قصير للاختبار فقط")])
    alice, bob = ws.annotations("alice"), ws.annotations("bob")
    alice.add_entity("h1", 0, 3, "PER")
    alice.add_claim("h1", 4, 13, note="\u2028سطر", verdict="true")
    alice.set_credibility("h1", 2, note="ملاحظة \u202e")
    alice.add_entity("h3", 3, 7, "LOC")
    bob.add_entity("h2", 0, 5, "ORG")
    bob.set_state("h2", "done")
    bob.set_state("h3", "in progress")
    ws.close()
    return path


def test_scanned_exports_are_the_whole_files_exports(workspace_path: Path, tmp_path: Path) -> None:
    path = make_annotated(workspace_path, tmp_path)
    assert offsets_path(path / "annotations" / "alice.json").exists()
    _same_as_whole(path, tmp_path / "all")
    _same_as_whole(path, tmp_path / "some", articles="state=done|not-started")
    _same_as_whole(path, tmp_path / "bob", annotators=["bob"])


def test_hostile_bodies_are_encoded_as_json_safe_dumps(tmp_path: Path) -> None:
    """Bodies and titles holding quotes, backslashes, tabs, line feeds, other controls and the characters
    json_safe escapes: every jsonl/json record is json_safe(dumps(record)), to a file or to a text stream alike."""
    path = _hostile(tmp_path / "ws")
    got = _same_as_whole(path, tmp_path / "out")
    ws = Workspace.open(path)
    try:
        expected = []
        for article in ws.articles():
            for name in ("alice", "bob"):
                notes = ws.annotations(name)
                rows, state = notes.for_article(article.id), notes.state(article.id)
                if rows or state != "not started":
                    expected.append(json_safe(dumps(to_record(Item(article, name, state, rows))).decode()))
        text = io.StringIO()
        export(ws, "jsonl", out=text)
    finally:
        ws.close()
    assert got["jsonl"].decode() == "".join(line + "\n" for line in expected) == text.getvalue()
    assert got["json"].decode() == "[\n" + ",\n".join(expected) + "\n]\n"


def test_journal_changes_and_database_order(workspace_path: Path, tmp_path: Path) -> None:
    """Saves still in the journal (puts, deletes, relabels, states) over a folded database whose articles lie in
    another order than the corpus's: the export follows the journal and the corpus order."""
    ws = Workspace.open(workspace_path)
    ids = [a.id for a in ws.articles()]
    alice = ws.annotations("alice")
    for article_id in reversed(ids):  # (the database then holds the last article first)
        body = ws.article(article_id).body
        alice.add_entity(article_id, 0, body.index(" "), "ORG")
        alice.set_state(article_id, "in progress")
    ws.close()
    ws = Workspace.open(workspace_path)
    try:
        alice = ws.annotations("alice")
        first = alice.for_article(ids[0])[0]
        alice.update(first["id"], label="PER")
        alice.remove(alice.for_article(ids[1])[0]["id"])
        alice.set_state(ids[2], "done")
        alice.add_claim(ids[3], 0, ws.article(ids[3]).body.index(" "))
        journal = workspace_path / "annotations" / "alice.journal"
        assert journal.stat().st_size > 0  # (not folded: the export reads the journal over the database)
        shutil.copytree(workspace_path, tmp_path / "open")
    finally:
        ws.close()
    assert rebuild_record_index(tmp_path / "open" / "annotations" / "alice.json", GROUP_FIELD)
    _same_as_whole(tmp_path / "open", tmp_path / "out")


@pytest.mark.parametrize("skip", [False, True])
def test_a_damaged_record_the_index_points_at_is_told(workspace_path: Path, tmp_path: Path, skip: bool) -> None:
    """A record the check refuses, in a database whose index fits it: the export says so (or, with
    --skip-damaged, names what it left out) exactly as without the index."""
    path = make_annotated(workspace_path, tmp_path)
    db = path / "annotations" / "bob.json"
    db.write_bytes(db.read_bytes().replace(b'"kind":"entity","start":', b'"kind":"entity","start":-', 1))
    assert rebuild_record_index(db, GROUP_FIELD)
    got = _same_as_whole(path, tmp_path / "out", skip_damaged=skip)
    for fmt, output in got.items():
        assert (b"fields 'start'/'end'" in output) and (skip or output.startswith(b"refused")), fmt


def test_scan_checks_bytes_and_leaves_journal_changes_to_read(workspace_path: Path, tmp_path: Path) -> None:
    """GroupReader.scan gives every group `read` gives, the same records; None for a group the journal changed;
    Stale for bytes that are not the ones indexed, even when the database keeps the stamp the index holds."""
    path = make_annotated(workspace_path, tmp_path)
    db = path / "annotations" / "alice.json"
    reader = GroupReader(db, GROUP_FIELD, stored_problem)
    try:
        scanned = dict(reader.scan())
        assert scanned and all(tables == reader.read(group) for group, tables in scanned.items())
        assert set(scanned) == reader.groups()
    finally:
        reader.close()
    ws = Workspace.open(path)
    try:
        alice = ws.annotations("alice")
        changed = next(iter(scanned))
        alice.set_state(changed, "in progress")
        reader = GroupReader(db, GROUP_FIELD, stored_problem)
        try:
            again = dict(reader.scan())
            assert again[changed] is None and all(again[g] == scanned[g] for g in scanned if g != changed)
        finally:
            reader.close()
    finally:
        ws.close()
    raw = db.read_bytes()
    at = raw.index(b'"label":"PER"') + len(b'"label":"')
    db.write_bytes(raw[:at] + b"X" + raw[at + 1:])  # a label changed in place: the same size
    assert rebuild_record_index(db, GROUP_FIELD)
    mtime = db.stat().st_mtime_ns
    db.write_bytes(raw)  # the bytes before, in place (the same inode and size) ...
    os.utime(db, ns=(mtime, mtime))  # ... and the stamp the index was made for: only the crc32s tell
    reader = GroupReader(db, GROUP_FIELD, stored_problem)
    try:
        with pytest.raises(Stale):
            list(reader.scan())
    finally:
        reader.close()
    _same_as_whole(path, tmp_path / "out")


def test_a_scan_for_some_groups_gives_exactly_them(tmp_path: Path) -> None:
    """GroupReader.scan(wanted) skips the other groups' index lines unparsed, told by the id at a line's start: ids
    with a quote, a backslash, Arabic letters or a slash are told right (or parsed, then judged), and every subset
    gives exactly the groups of a whole scan that it wants."""
    ids = ['a"q', "b\\s", "ج1", "d/e", "plain", "\u00e9t\u00e9"]
    ws = Workspace.open(tmp_path / "ws")
    try:
        ws.add_articles([Article(id=i, body="نص عربي قصير للاختبار فقط") for i in ids])
        alice = ws.annotations("alice")
        for i in ids:
            alice.add_entity(i, 0, 2, "PER")
    finally:
        ws.close()
    db = tmp_path / "ws" / "annotations" / "alice.json"
    assert rebuild_record_index(db, GROUP_FIELD)
    reader = GroupReader(db, GROUP_FIELD, stored_problem)
    try:
        every = dict(reader.scan())
        assert set(every) == set(ids)
        for n in range(len(ids) + 1):
            for wanted in ({*ids[:n]}, {*ids[n:]}, set(ids[n::2])):
                assert dict(reader.scan(wanted.__contains__)) == {g: every[g] for g in wanted}, wanted
    finally:
        reader.close()


def test_a_record_indexed_under_another_article_is_not_exported_there(workspace_path: Path, tmp_path: Path) -> None:
    """An index that files a record under the wrong article (its crc32 right): the record's own article_id
    decides, as reading the whole files does."""
    path = make_annotated(workspace_path, tmp_path)
    db = path / "annotations" / "alice.json"
    raw = db.read_bytes()
    tables, stamp = read_tables(db)
    places = index_of(raw, tables, GROUP_FIELD)
    groups = list(dict.fromkeys(p[0] for p in places))
    moved = [(groups[1] if n == 0 else p[0], *p[1:]) for n, p in enumerate(places)]
    write_record_index(db, moved, list(tables), next_keys(tables), stamp)
    reader = GroupReader(db, GROUP_FIELD, stored_problem)
    try:
        assert dict(reader.scan())[groups[1]] is not None  # (the bytes are what the index says: the check refuses)
    finally:
        reader.close()
    _same_as_whole(path, tmp_path / "out")


def test_the_bytes_check_escapes_what_json_safe_escapes() -> None:
    """ours._safe looks at orjson's UTF-8 for what json_safe escapes in text: every code point, alone and among
    others, gives what json_safe gives."""
    from store.exchange.ours import _safe

    points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    for n in range(0, len(points), 61):
        text = "".join(map(chr, points[n:n + 61]))
        data = dumps(text)
        assert _safe(data) == json_safe(data.decode("utf-8")).encode("utf-8"), hex(points[n])
    for c in range(0x2100):
        data = dumps(f"ا{chr(c)}«" if not 0xD800 <= c <= 0xDFFF else "")
        assert _safe(data) == json_safe(data.decode("utf-8")).encode("utf-8"), hex(c)
