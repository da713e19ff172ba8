"""The article the interchange tests hand to the consumers' own code (spaCy, Label Studio's SDK): emoji
outside the BMP before, inside and after every entity — 😀 (one code point), 🇲🇦 (two regional indicators),
👨‍👩‍👧 (three code points joined by ZWJ) — so any reader counting UTF-16 units or graphemes instead of code
points lands elsewhere. Entity edges are on white space, so every tokenizer can cut there."""

from __future__ import annotations

import json
from pathlib import Path

from store import Workspace

ARTICLE_ID = "interop-emoji"
TEXT = ("😀 🇲🇦 أعلن 👨‍👩‍👧 نادي 😀 الرجاء 🇲🇦 فوزه في الدار 🇲🇦 البيضاء 👨‍👩‍👧 على ملعب 👨‍👩‍👧 محمد الخامس "
        "😀 أمس\nقال Paris 😀 Saint-Germain 🇲🇦 شيئا 👨‍👩‍👧")
ENTITIES = [("نادي 😀 الرجاء", "ORG"), ("الدار 🇲🇦 البيضاء", "LOC"), ("ملعب 👨‍👩‍👧 محمد الخامس", "MISC"),
            ("Paris 😀 Saint-Germain", "ORG")]
CLAIM = "فوزه في الدار 🇲🇦 البيضاء"
LTR_ID = "interop-ltr"
LTR_TEXT = "PSG 😀 beat 🇲🇦 Raja in Casablanca 👨‍👩‍👧 on Sunday."


def spans() -> list[tuple[int, int, str]]:
    """(start, end, label) of ENTITIES in code points."""
    out = []
    for text, label in ENTITIES:
        start = TEXT.index(text)
        out.append((start, start + len(text), label))
    return out


def add(ws: Workspace, tmp: Path, annotator: str = "alice", claim: bool = False) -> list[tuple[int, int, str]]:
    """Import the article (and an LTR one), annotate its entities (and the claim) for `annotator`, mark
    both done; returns the entity spans."""
    src = tmp / "interop.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (
        {"id": ARTICLE_ID, "text": TEXT, "title": "اختبار", "source": "test", "date": "2024-06-01"},
        {"id": LTR_ID, "text": LTR_TEXT, "title": "LTR", "source": "test", "date": "2024-06-02"})),
        encoding="utf-8")
    ws.import_paths([src])
    notes = ws.annotations(annotator)
    for start, end, label in spans():
        notes.add_entity(ARTICLE_ID, start, end, label)
    if claim:
        start = TEXT.index(CLAIM)
        notes.add_claim(ARTICLE_ID, start, start + len(CLAIM), verdict="true")
    start = LTR_TEXT.index("Raja")
    notes.add_entity(LTR_ID, start, start + 4, "ORG")
    notes.set_state(ARTICLE_ID, "done")
    notes.set_state(LTR_ID, "in progress")
    return spans()
