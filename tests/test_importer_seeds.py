"""The importer on each real seed page: title, outlet, date, byline, and no page chrome left in the body."""

from __future__ import annotations

import pytest

from store import Workspace
from store.corpus import chrome
from store.corpus.article import Article, derive_title

CHROME_FRAGMENTS = ["شكرا على الإبلاغ", "سيتم حجب هذه الصورة", "انقر هنا لقراءة الخبر", "تعليقات الزوار",
                    "\u00a0\u00a0\u00a0"]

EXPECTED = {
    "f6acadc5c55dd27f": dict(title="«الخارجية» المغربية تعيد النظر في آليات تواصلها بالشبكات الاجتماعية",
                             source="محيط", date="2014-11-25", byline=None, derived=False,
                             body_start="عاد مجددا مطلع هذا الأسبوع"),
    "d9577bfa1a0662c0": dict(title="هكذا تشتغل « الكتائب الالكترونية » لحزب « المصباح", source="فبراير",
                             date="2016-08-11", byline=None, derived=False, body_start="في خضم النقاش"),
    "d1451bac8b1dfa5c": dict(title_start="تقرير أمريكي يضع المغرب في المرتبة السابعة", source=None,
                             date=None, byline=None, derived=False, body_start="أضحت مدينة الدارالبيضاء"),
    "52f015e52f40b84e": dict(title_start="بالفيديو.. سبيك: هذا هو الهدف من “تويتر”", source=None, date=None,
                             byline="كوثر زكي ورضى الرحماني", derived=False, body_start="بعد مرور أسابيع"),
    "73d8cda007db96f7": dict(title_start="بخلاف المؤسسة العسكرية", source=None, date=None, byline=None,
                             derived=True, body_start="بخلاف المؤسسة العسكرية"),
}


def is_chrome(line: str) -> bool:
    """True for any line that is page furniture rather than article text."""
    return chrome.is_notice(line) or chrome.is_navigation(line) or chrome.parse_published(line) is not None


@pytest.mark.parametrize("article_id", sorted(EXPECTED))
def test_seed_fields(workspace: Workspace, article_id: str) -> None:
    expected = EXPECTED[article_id]
    a = workspace.article(article_id)
    if "title" in expected:
        assert a.title == expected["title"]
    else:
        assert a.title.startswith(expected["title_start"])
    assert a.title_derived is expected["derived"]
    assert a.source == expected["source"]
    assert a.date == expected["date"]
    assert a.byline == expected["byline"]
    assert a.body.startswith(expected["body_start"])
    for fragment in CHROME_FRAGMENTS:
        assert fragment not in a.body, fragment
    assert a.title not in a.body.split("\n")
    assert not any(is_chrome(p) for p in a.body.split("\n"))
    assert "\n\n" not in a.body and not a.body.endswith("\n")
    # Every body paragraph is a line of the raw page: the importer removed lines, never rewrote them.
    raw_lines = {line.strip() for line in a.raw.splitlines()}
    assert all(p in raw_lines for p in a.body.split("\n"))


def test_seed_004_keeps_section_headings_and_drops_footer(workspace: Workspace) -> None:
    body = workspace.article("73d8cda007db96f7").body
    assert "-مأسسة التواصل الأمني" in body.split("\n")
    assert body.split("\n")[-1].endswith("سنة 2024.")


def test_derived_title_is_first_sentence() -> None:
    assert derive_title("قال الوزير إن الخطة نجحت. ثم أضاف شيئا") == "قال الوزير إن الخطة نجحت"
    long = " ".join(["كلمة"] * 60)
    title = derive_title(long)
    assert title.endswith("…") and len(title) <= 121 and not title[:-1].endswith(" ")


def test_chrome_recognised_by_shape_not_by_these_files() -> None:
    menu = "    ".join(f"عنوان خبر رقم {i}" for i in range(6))
    assert chrome.is_navigation(menu)
    assert not chrome.is_navigation("جملة عادية فيها  مسافتان فقط")
    assert chrome.parse_published("نشر في هسبريس يوم 03 - 02 - 2020") == chrome.Published("هسبريس", "2020-02-03")
    assert chrome.is_notice("تعليقات الزوار ( 12 )")
    assert not chrome.is_notice("تعليقات الزوار كانت كثيرة في هذا الموضوع")


def test_reimport_is_a_no_op(workspace: Workspace) -> None:
    before = workspace.corpus_path.read_bytes()
    report = workspace.import_seeds()
    assert report.imported == [] and len(report.duplicates) == 5 and report.skipped == []
    assert workspace.corpus_path.read_bytes() == before
    assert len(workspace.articles()) == 5


def _seed_records() -> list[dict]:
    """The seed pages as JSONL records: real-size Arabic articles with their metadata."""
    from pathlib import Path

    from store.corpus.article import parse_page

    records = []
    for page in sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt")):
        a = parse_page(page.read_text(encoding="utf-8"), page.stem.split("_")[1])
        records.append({"id": a.id, "title": a.title, "source": a.source or "محيط", "date": a.date,
                        "text": a.body, "lang": "ar", "tags": ["سياسة", 3, None]})
    return records


def test_a_jsonl_import_stores_each_text_once(tmp_path, capsys) -> None:
    """Issue: the raw record kept for a JSONL article still held its text, so bodies.bin held every text
    twice (a 500 KB file became a 1 MB bodies.bin). The raw record is rebuilt exactly from the stored body."""
    import json

    from tui.cli import main

    records = _seed_records()
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    source = tmp_path / "news.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = tmp_path / "ws"
    assert main(["import", str(source), "--workspace", str(path)]) == 0
    texts = sum(len(r["text"].encode("utf-8")) for r in records)
    assert texts > 40_000  # real-size articles, so headers and metadata are a small share
    stored = (path / "bodies.bin").stat().st_size
    assert stored < 1.2 * texts, f"bodies.bin is {stored / texts:.2f}x the texts"
    capsys.readouterr()

    for record in records:
        assert main(["show", record["id"], "--workspace", str(path)]) == 0
        assert capsys.readouterr().out.endswith("\n" + record["text"] + "\n")
    ws = Workspace.open(path)
    try:
        for record, line in zip(records, lines):
            article = ws.article(record["id"])
            assert article.body == record["text"]
            assert article.raw == line  # the raw record, text and all, exactly as before
    finally:
        ws.close()

    (path / "corpus.json").unlink()  # `tahqiq doctor` rebuilds the index from bodies.bin: the raw records too
    assert main(["doctor", "--workspace", str(path)]) == 0
    capsys.readouterr()
    ws = Workspace.open(path)
    try:
        assert [ws.article(r["id"]).raw for r in records] == lines
    finally:
        ws.close()


def test_raw_records_stored_whole_by_older_versions_still_read(tmp_path) -> None:
    """Workspaces whose bodies.bin holds each raw record with its text (before it was stored once)."""
    import json

    from store.corpus.bodies import metadata_record
    from store.corpus.importer import read_file

    records = _seed_records()[:2]
    source = tmp_path / "news.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    articles = [a for a in read_file(source) if isinstance(a, Article)]
    path = tmp_path / "ws"
    ws = Workspace.open(path)
    with ws._corpus_locked():  # what the older version wrote: metadata, body, and the whole raw record
        ws._write_batch([(metadata_record(a), a.body.encode("utf-8"), a.raw.encode("utf-8")) for a in articles])
    ws.close()
    ws = Workspace.open(path)
    try:
        for record in records:
            article = ws.article(record["id"])
            assert article.body == record["text"]
            assert json.loads(article.raw) == record
    finally:
        ws.close()
