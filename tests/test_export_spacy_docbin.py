"""The .spacy DocBin written beside the spaCy JSONL: spans aligned to tokens, misaligned ones reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_export_fixtures import EMOJI_ID, EMOJI_TEXT

from store import Workspace
from store.exchange import export

spacy = pytest.importorskip("spacy", reason="spaCy is not installed: the optional .spacy DocBin is not tested")


def test_docbin_spans_align_and_misaligned_ones_are_reported(annotated_path: Path, tmp_path: Path) -> None:
    from spacy.tokens import DocBin

    ws = Workspace.open(annotated_path)
    try:
        start = EMOJI_TEXT.index("ارتفعت")
        ws.annotations("alice").add_entity(EMOJI_ID, start + 1, start + 4, "MISC")  # mid-word: cannot align
        ctx = export(ws, "spacy", path=tmp_path / "out.jsonl", annotators=["alice"])
        docs = list(DocBin().from_disk(tmp_path / "out.spacy").get_docs(spacy.blank("ar").vocab))
        bodies = {a.id: a.body for a in ws.articles()}
        for doc in docs:
            body = bodies[doc.user_data["article_id"]]
            for span in list(doc.spans["sc"]) + list(doc.ents):
                assert body[span.start_char:span.end_char] == span.text
        assert sum(len(doc.ents) for doc in docs) >= 5  # most entities align to spaCy's Arabic tokens
        assert any(f"MISC span {start + 1}-{start + 4}" in n and "does not align" in n for n in ctx.notes)
    finally:
        ws.close()
