"""Cursor, selection and mouse clicks land on the right word in RTL, LTR and mixed lines."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from tui.widgets.article_view import ArticleView

pytestmark = pytest.mark.usefixtures("quiet_waits")  # Pilot waits for the app, not the clock (conftest.py)

RTL = "قال الوزير إن عام 2009 كان صعبا"
LTR = "The minister said 2009 was hard"
MIXED = "The page “تويتر الرسمية” opened in 2014"
TEXT = "\n".join([RTL, LTR, MIXED])


class ViewApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ArticleView(TEXT, id="view")


def word(view: ArticleView) -> str:
    start, end = view.words[view.cursor]
    return view.text[start:end]


def place(view: ArticleView, text: str) -> tuple[int, int]:
    """Screen (x, y) inside the view of the first cell of the first occurrence of `text`."""
    row, col = view.text_layout.row_of(view.text.index(text))
    region = view.scrollable_content_region
    return region.x - view.region.x + view.GUTTER + col, region.y - view.region.y + row


async def test_arrows_move_in_screen_direction() -> None:
    app = ViewApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(ArticleView)
        assert word(view) == "قال"
        await pilot.press("left")  # RTL: left on screen is the next word in the text
        assert word(view) == "الوزير"
        await pilot.press("left", "left", "left")
        assert word(view) == "2009"
        await pilot.press("right")
        assert word(view) == "عام"
        # Down to the LTR line: the word nearest in screen column, then right = forward in text.
        await pilot.press("down")
        assert view.words[view.cursor][0] >= len(RTL) + 1
        view.move_to_offset(TEXT.index("The"))
        await pilot.press("right", "right")
        assert word(view) == "said"
        # Mixed line: moving right from "page" enters the Arabic run at its visual left end.
        view.move_to_offset(TEXT.index("page"))
        await pilot.press("right")
        assert word(view) == "الرسمية"
        await pilot.press("right")
        assert word(view) == "تويتر"
        await pilot.press("right")
        assert word(view) == "opened"


async def test_selection_with_shift_is_logical_text() -> None:
    app = ViewApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(ArticleView)
        await pilot.press("shift+left", "shift+left")
        start, end = view.selection_range()
        assert view.text[start:end] == "قال الوزير إن"
        await pilot.press("y")
        assert app.clipboard == "قال الوزير إن"
        await pilot.press("escape")
        assert view.selection_range() is None


async def test_click_and_drag_hit_the_word_drawn_there() -> None:
    app = ViewApp()
    async with app.run_test(size=(60, 10)) as pilot:
        view = app.query_one(ArticleView)
        for target in ("الوزير", "2009", "minister", "تويتر", "2014"):
            x, y = place(view, target)
            await pilot.click(ArticleView, offset=(x, y))
            assert word(view) == target, target
        # Drag from "قال" to "عام" on the RTL line selects the logical run between them.
        x0, y0 = place(view, "قال")
        x1, y1 = place(view, "عام")
        await pilot.mouse_down(ArticleView, offset=(x0, y0))
        await pilot.hover(ArticleView, offset=(x1, y1))
        await pilot.mouse_up(ArticleView, offset=(x1, y1))
        start, end = view.selection_range()
        assert view.text[start:end] == "قال الوزير إن عام"


async def test_wrapped_rtl_lines_read_top_to_bottom() -> None:
    app = ViewApp()
    async with app.run_test(size=(24, 12)) as pilot:
        view = app.query_one(ArticleView)
        layout = view.text_layout
        rows = [layout.line(r) for r in range(len(layout)) if layout.line(r).paragraph == 0]
        assert len(rows) > 1
        assert [r.start for r in rows] == sorted(r.start for r in rows)
        for r in rows:  # each row right to left: logical offsets fall from left to right
            starts = [c.start for c in r.cells if not c.text.isdigit()]
            assert starts == sorted(starts, reverse=True)
        await pilot.press("down")
        assert layout.row_of(view.words[view.cursor][0])[0] == 1


async def test_first_screen_does_not_lay_out_the_whole_article() -> None:
    long_text = "\n".join(f"فقرة رقم {i} فيها كلام كثير عن الأمن الوطني." for i in range(3000))

    before_measure: list[int] = []

    class Recording(ArticleView):
        def _measure(self) -> None:
            before_measure.append(self.text_layout.paragraphs_laid_out)  # what the first paint needed
            super()._measure()

    class LongApp(App[None]):
        def compose(self) -> ComposeResult:
            view = Recording(long_text, id="view")
            view.set_marks([(0, 10), (len(long_text) - 10, len(long_text))])
            yield view

    app = LongApp()
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        view = app.query_one(ArticleView)
        assert before_measure and before_measure[0] < 50  # painted from a partial layout
        assert view.virtual_size.height == len(view.text_layout) >= 3000  # then measured in full
