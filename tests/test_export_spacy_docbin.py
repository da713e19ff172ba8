"""The .spacy DocBin written beside the spaCy JSONL, read by spaCy itself: spans aligned to tokens, misaligned
ones reported, and on an article with emoji before, inside and after its entities every entity's text is
the body at its offsets. Needs the `interop` extra (pip install -e '.[test,interop]'): no skip."""

from __future__ import annotations

import json
from pathlib import Path

from interop_article import ARTICLE_ID, LTR_ID, LTR_TEXT, TEXT, add
from test_export_fixtures import EMOJI_ID, EMOJI_TEXT

from store import Workspace
from store.exchange import export


def read_docbin(path: Path, lang: str) -> list:
    """The docs of a .spacy file, read by spaCy with the vocabulary of `spacy.blank(lang)`. spaCy is imported
    here, by the tests that use it, not when the module is collected (~0.7 s, in every xdist worker)."""
    import spacy
    from spacy.tokens import DocBin

    return list(DocBin().from_disk(path).get_docs(spacy.blank(lang).vocab))


def test_docbin_spans_align_and_misaligned_ones_are_reported(annotated_path: Path, tmp_path: Path) -> None:
    ws = Workspace.open(annotated_path)
    try:
        start = EMOJI_TEXT.index("ارتفعت")
        ws.annotations("alice").add_entity(EMOJI_ID, start + 1, start + 4, "MISC")  # mid-word: cannot align
        ctx = export(ws, "spacy", path=tmp_path / "out.jsonl", annotators=["alice"])
        docs = read_docbin(tmp_path / "out.spacy", "ar")
        bodies = {a.id: a.body for a in ws.articles()}
        for doc in docs:
            body = bodies[doc.user_data["article_id"]]
            for span in list(doc.spans["sc"]) + list(doc.ents):
                assert body[span.start_char:span.end_char] == span.text
        assert sum(len(doc.ents) for doc in docs) >= 5  # most entities align to spaCy's Arabic tokens
        assert any(f"MISC span {start + 1}-{start + 4}" in n and "does not align" in n for n in ctx.notes)
    finally:
        ws.close()


def test_spacy_reads_every_entity_of_an_emoji_article_at_its_offsets(workspace: Workspace, tmp_path: Path) -> None:
    spans = add(workspace, tmp_path, claim=True)
    ctx = export(workspace, "spacy", path=tmp_path / "out.jsonl", annotators=["alice"],
                 articles=f"{ARTICLE_ID},{LTR_ID}")
    assert tmp_path / "out.spacy" in ctx.written and not [n for n in ctx.notes if "does not align" in n]
    docs = {doc.user_data["article_id"]: doc  # any vocab reads a DocBin: no model needed
            for doc in read_docbin(tmp_path / "out.spacy", "xx")}
    doc = docs[ARTICLE_ID]
    assert doc.text == TEXT and docs[LTR_ID].text == LTR_TEXT
    assert {(e.start_char, e.end_char, e.label_) for e in doc.ents} == set(spans)
    for span in list(doc.ents) + list(doc.spans["sc"]):
        assert TEXT[span.start_char:span.end_char] == span.text
    assert {s.label_ for s in doc.spans["sc"]} == {"ORG", "LOC", "MISC", "CLAIM"}
    [(start, end)] = [(e.start_char, e.end_char) for e in docs[LTR_ID].ents]
    assert LTR_TEXT[start:end] == "Raja"
    # The JSONL beside it carries the same code point offsets.
    line = next(json.loads(x) for x in (tmp_path / "out.jsonl").read_text("utf-8").splitlines()
                if json.loads(x)["meta"]["article_id"] == ARTICLE_ID)
    assert {(s["start"], s["end"], s["label"]) for s in line["spans"] if s["label"] != "CLAIM"} == set(spans)
