"""The reader's word cursor and selection never split an emoji or any other grapheme cluster."""

from __future__ import annotations

import pytest
import regex
from textual.app import App, ComposeResult

from store.text.direction import paragraph_rule
from store.text.normalize import WORD
from tui.bidi import DisplayOptions
from tui.widgets.article_view import ArticleView

pytestmark = pytest.mark.usefixtures("quiet_waits")  # Pilot waits for the app, not the clock (conftest.py)

FAMILY = "👨\u200d👩\u200d👧"
SCOTLAND = "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
TEXT = "\n".join([
    f"عائلة {FAMILY} في 🇲🇦 المغرب ترحب بكم 👍🏽",
    "الرقم 1\ufe0f\u20e3 ثم #\ufe0f\u20e3 وكلمة café مع e\u0301 بالعلم " + SCOTLAND + " و ❤\ufe0f أخيرا",
    f"المغرب 🇲🇦🇪🇬 يفوز {FAMILY}",
])
BOUNDARIES = {m.start() for m in regex.finditer(r"\X", TEXT)} | {len(TEXT)}


class ViewApp(App[None]):
    display_options = DisplayOptions(direction=paragraph_rule("arabic"))

    def compose(self) -> ComposeResult:
        yield ArticleView(TEXT, id="view")


def test_words_are_whole_grapheme_clusters() -> None:
    words = [TEXT[s:e] for s, e in (m.span() for m in WORD.finditer(TEXT))]
    assert "1\ufe0f\u20e3" in words and "#" not in words  # a keycap digit keeps its VS16 and U+20E3
    assert "café" in words and "e\u0301" in words
    assert not any(FAMILY in w or "🇲" in w or "👍" in w for w in words)  # emoji are not words
    for m in WORD.finditer(TEXT):
        assert m.start() in BOUNDARIES and m.end() in BOUNDARIES, m.group()
    assert [m.group() for m in WORD.finditer("مُحَمَّدٌ، الـ2009 x_y")] == ["مُحَمَّدٌ", "الـ2009", "x_y"]


async def test_arrowing_through_every_word_never_splits_a_cluster() -> None:
    app = ViewApp()
    async with app.run_test(size=(34, 14)) as pilot:
        view = app.query_one(ArticleView)
        layout = view.text_layout
        cells = [c for r in range(len(layout)) for c in layout.line(r).cells]
        assert all(layout.line(r).rtl for r in range(len(layout)))
        visited = []
        for _ in range(3 * len(view.words)):
            visited.append(view.cursor)
            start, end = view.words[view.cursor]
            assert start in BOUNDARIES and end in BOUNDARIES, TEXT[start:end]
            for c in cells:  # the cursor covers each cell whole or not at all
                assert c.end <= start or c.start >= end or (start <= c.start and c.end <= end), c
            before = view.cursor
            await pilot.press("left")  # right to left rows: left is forward in the text
            if view.cursor == before:
                break
        assert sorted(set(visited)) == list(range(len(view.words)))
        # A selection from the first word to the keycap is whole clusters too.
        view.move_to_offset(0)
        while TEXT[slice(*view.words[view.cursor])] != "1\ufe0f\u20e3":
            await pilot.press("shift+left")
        start, end = view.selection_range()
        assert TEXT[start:end].endswith("1\ufe0f\u20e3") and end in BOUNDARIES
