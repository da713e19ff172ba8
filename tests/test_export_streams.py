"""Export streams (docs/storage.md section 6): one annotator's database in memory at a time, records written as
they are made, and the output the same bytes as each record made whole."""

from __future__ import annotations

import gc
import io
import json
import tracemalloc
from pathlib import Path

from store import Workspace
from store.corpus.article import Article
from store.db.storage import dumps
from store.exchange import FORMATS, export, to_record
from store.exchange.records import Item, json_safe

STAMP = "2025-01-01T00:00:00+00:00"
WORDS = "الأمن الوطني مواقع التواصل المغرب وزارة الخارجية عدد من المواطنين".split()


def _body(i: int) -> str:
    return " ".join(WORDS[(i + k) % len(WORDS)] for k in range(300))


def _write_annotator(folder: Path, name: str, articles: list[Article], per_article: int) -> None:
    """`name`'s folded database written straight to disk (as bench/synth does): `per_article` entities on each."""
    rows, progress, key = {}, {}, 0
    for n, article in enumerate(articles):
        for k in range(per_article):
            key += 1
            start = 6 * k
            rows[str(key)] = {"id": f"{name}-{key:08d}", "annotator": name, "created": STAMP, "updated": STAMP,
                              "article_id": article.id, "kind": "entity", "start": start, "end": start + 5,
                              "text": article.body[start:start + 5], "label": "ORG", "attributes": {}}
        progress[str(n + 1)] = {"article_id": article.id, "state": "done", "updated": STAMP}
    (folder / "annotations" / f"{name}.json").write_bytes(dumps({"annotations": rows, "progress": progress}))


def _workspace(path: Path, annotators: int, articles: int = 60, per_article: int = 60) -> Path:
    ws = Workspace.open(path)
    corpus = [Article(id=f"a{i:04d}", body=_body(i), title=f"t{i}") for i in range(articles)]
    ws.add_articles(corpus)
    ws.close()
    for a in range(annotators):
        _write_annotator(path, f"annotator{a + 1}", corpus, per_article)
    ws = Workspace.open(path)
    ws.schema  # noqa: B018 - labels.toml's check of the labels in use (reads everyone once) is done here
    ws.close()
    return path


def _export_peak(path: Path, out: Path) -> tuple[int, int]:
    """(peak traced bytes of one jsonl export, records written), the workspace opened before tracing."""
    ws = Workspace.open(path)
    ws.articles()
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        export(ws, "jsonl", path=out)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
        ws.close()
    return peak, len(out.read_text("utf-8").splitlines())


def test_memory_of_an_export_does_not_grow_with_the_number_of_annotators(tmp_path: Path) -> None:
    """One annotator's database is loaded at a time and dropped: four times the annotators (each with the same
    3,600 annotations) must not cost four times the memory. Holding every annotator's records, as the export
    did before it streamed, costs ~4x here."""
    few, few_records = _export_peak(_workspace(tmp_path / "two", 2), tmp_path / "two.jsonl")
    many, many_records = _export_peak(_workspace(tmp_path / "eight", 8), tmp_path / "eight.jsonl")
    assert (few_records, many_records) == (2 * 60, 8 * 60)
    assert many < 1.6 * few, f"2 annotators: {few / 1e6:.1f} MB, 8 annotators: {many / 1e6:.1f} MB"


def test_the_writer_gets_items_one_article_at_a_time(tmp_path: Path, monkeypatch) -> None:
    """The writer is handed a stream, not a list, and each article's items share one article holding its body
    (read once), whatever the number of annotators."""
    path = _workspace(tmp_path / "ws", 3, articles=5, per_article=2)
    seen: list[tuple[str, str, Article]] = []

    def write(items, out, ctx):
        assert not isinstance(items, (list, tuple))
        for item in items:
            seen.append((item.article.id, item.annotator, item.article))  # (kept: ids of freed objects recur)
            assert "_body" in item.article.__dict__ or type(item.article) is Article
            out.write(ctx.saw(item))

    from store.exchange.format import Format

    monkeypatch.setitem(FORMATS, "jsonl", Format("jsonl", write, "codepoint"))
    ws = Workspace.open(path)
    try:
        export(ws, "jsonl", out=io.StringIO())
    finally:
        ws.close()
    assert [(a, n) for a, n, _ in seen] == [(f"a{i:04d}", f"annotator{k}") for i in range(5) for k in (1, 2, 3)]
    assert len({id(obj) for _, _, obj in seen}) == 5  # one article object per article, shared by its annotators


def test_each_record_is_the_same_text_as_the_record_made_whole(tmp_path: Path) -> None:
    """jsonl and json write the article's part once and each annotator's part from the spool: byte for byte
    what `json_safe(dumps(to_record(item)))` gives, controls and all (escaped in body, claims and notes)."""
    ws = Workspace.open(tmp_path / "ws")
    body = "خبر \u202eعاجل\u202c عن \x85 الأمن 😀 في\u2028المغرب ومواقع التواصل"
    ws.add_articles([Article(id="x1", body=body, title="عنوان \u2067x\u2069"), Article(id="x2", body="plain text")])
    alice, bob = ws.annotations("alice"), ws.annotations("bob")
    alice.add_entity("x1", 0, 3, "ORG")
    alice.add_claim("x1", 4, 13)
    alice.set_credibility("x1", 2, note="ملاحظة \u202e")
    bob.set_state("x1", "done")
    bob.add_entity("x2", 0, 5, "PER")
    expected = []
    for article in ws.articles():
        for notes in (alice, bob):
            rows = notes.for_article(article.id)
            state = notes.state(article.id)
            if rows or state != "not started":
                item = Item(article, notes.annotator, state, rows)
                expected.append(json_safe(dumps(to_record(item)).decode("utf-8")))
    ws.close()
    ws = Workspace.open(tmp_path / "ws")
    try:
        out = io.StringIO()
        export(ws, "jsonl", out=out)
        assert out.getvalue() == "".join(line + "\n" for line in expected)
        out = io.StringIO()
        export(ws, "json", out=out)
        assert out.getvalue() == "[\n" + ",\n".join(expected) + "\n]\n"
        assert json.loads(out.getvalue())[0]["credibility"]["note"] == "ملاحظة \u202e"
    finally:
        ws.close()
