"""BidiInput: Arabic typed in logical order, drawn in visual order with joined letters; caret, arrows,
selection and clicks on screen cells; Input's messages unchanged."""
from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual import events, on
from textual.app import App, ComposeResult
from textual.widgets import Input

from tui.bidi.display import DisplayOptions
from tui.widgets.bidi_input import BidiInput

pytestmark = pytest.mark.usefixtures("quiet_waits")  # Pilot waits for the app, not the clock (conftest.py)

SOURCES = "مصادر مجهولة"
SOURCES_DRAWN = "ﺔﻟﻮﻬﺠﻣ ﺭﺩﺎﺼﻣ"  # presentation forms, visual order


class InputApp(App):
    def __init__(self, options: DisplayOptions | None = None, width: int = 30, **kwargs) -> None:
        super().__init__()
        if options is not None:
            self.display_options = options
        self.field_width, self.kwargs = width, kwargs
        self.changed: list[str] = []
        self.submitted: list[str] = []

    def compose(self) -> ComposeResult:
        box = BidiInput(id="box", **self.kwargs)
        box.styles.width = self.field_width + 6  # tall border and padding 2 on each side
        yield box

    def on_mount(self) -> None:
        self.query_one(BidiInput).cursor_blink = False

    @on(Input.Changed, "#box")
    def note_changed(self, event: Input.Changed) -> None:
        self.changed.append(event.value)

    @on(Input.Submitted, "#box")
    def note_submitted(self, event: Input.Submitted) -> None:
        self.submitted.append(event.value)


def columns(box: Input) -> list[tuple[str, object]]:
    """(drawn text, style) of each content column of the field, marks joined to their base."""
    out: list[tuple[str, object]] = []
    for segment in box.render_line(0):
        for ch in segment.text:
            if cell_len(ch) == 0 and out:
                out[-1] = (out[-1][0] + ch, out[-1][1])
            else:
                out.extend([(ch, segment.style)] + [("", segment.style)] * (cell_len(ch) - 1))
    return out


def drawn(box: Input) -> str:
    return box.render_line(0).text


def caret_columns(box: Input) -> list[int]:
    """Columns painted with the cursor style; the terminal's cursor must be on the same one."""
    cursor = box.get_component_rich_style("input--cursor").bgcolor
    painted = [x for x, (_, style) in enumerate(columns(box)) if style.bgcolor == cursor]
    assert [box.cursor_screen_offset.x - box.content_region.x] == painted
    return painted


def selected_columns(box: Input) -> list[int]:
    selection = box.get_component_rich_style("input--selection").bgcolor
    return [x for x, (_, style) in enumerate(columns(box)) if style.bgcolor == selection]


async def test_typed_arabic_is_logical_and_drawn_joined_right_aligned():
    app = InputApp()
    async with app.run_test() as pilot:
        box = app.query_one(BidiInput)
        await pilot.press(*SOURCES)
        assert box.value == SOURCES
        width = box.scrollable_content_region.width
        assert width == 30
        line = DisplayOptions().layout(SOURCES, 100).line(0)
        assert "".join(c.text for c in line.cells) == SOURCES_DRAWN
        assert drawn(box) == SOURCES_DRAWN.rjust(width)
        # the caret at the end of the value: the visual end, left of the text
        assert caret_columns(box) == [width - len(SOURCES_DRAWN) - 1]


async def test_home_puts_the_caret_on_the_first_letter_rightmost():
    app = InputApp()
    async with app.run_test() as pilot:
        box = app.query_one(BidiInput)
        await pilot.press(*SOURCES, "home")
        assert box.cursor_position == 0
        width = box.scrollable_content_region.width
        assert caret_columns(box) == [width - 1]
        assert columns(box)[width - 1][0] == "ﻣ"
        await pilot.press("end")
        assert box.cursor_position == len(SOURCES)
        assert caret_columns(box) == [width - len(SOURCES) - 1]


async def test_arrows_move_on_screen():
    app = InputApp()
    async with app.run_test() as pilot:
        box = app.query_one(BidiInput)
        await pilot.press(*SOURCES, "home", "left", "left")
        width = box.scrollable_content_region.width
        assert box.cursor_position == 2  # left on screen is forward in Arabic
        assert caret_columns(box) == [width - 3]
        await pilot.press("right")
        assert box.cursor_position == 1
        await pilot.press("right", "right")  # already on the rightmost cell
        assert box.cursor_position == 0
        await pilot.press("end", "right")  # from the end (left of the text) to the last letter
        assert box.cursor_position == len(SOURCES) - 1
        assert caret_columns(box) == [width - len(SOURCES)]
        await pilot.press("left", "left")
        assert box.cursor_position == len(SOURCES)


async def test_shift_arrows_select_the_logical_range_of_the_cells_passed():
    app = InputApp()
    async with app.run_test() as pilot:
        box = app.query_one(BidiInput)
        await pilot.press(*SOURCES, "home", "shift+left", "shift+left", "shift+left")
        width = box.scrollable_content_region.width
        assert box.selection == (0, 3)
        assert box.selected_text == "مصا"
        assert selected_columns(box) == [width - 3, width - 2, width - 1]
        assert caret_columns(box) == [width - 4]
        await pilot.press("shift+right")
        assert box.selection == (0, 2)
        await pilot.press("right")  # collapses to the selection's right end on screen
        assert box.selection == (0, 0)


async def test_backspace_deletes_the_logical_previous_letter():
    app = InputApp()
    async with app.run_test() as pilot:
        box = app.query_one(BidiInput)
        await pilot.press(*SOURCES, "backspace")
        assert box.value == SOURCES[:-1]
        expected = "".join(c.text for c in DisplayOptions().layout(SOURCES[:-1], 100).line(0).cells)
        assert drawn(box).strip() == expected
        await pilot.press("home", "left", "backspace")
        assert box.value == SOURCES[1:-1]
        assert box.cursor_position == 0


async def test_mixed_arabic_latin_digits_in_visual_order():
    text = "قال Reuters 2024 إن"
    app = InputApp()
    async with app.run_test() as pilot:
        box = app.query_one(BidiInput)
        await pilot.press(*text)
        assert box.value == text
        assert drawn(box).strip() == "ﻥﺇ Reuters 2024 ﻝﺎﻗ"
        await pilot.press("home", "left", "left", "left", "left")
        assert box.cursor_position == text.index("4")  # past the space, onto the LTR run's left neighbour
        assert columns(box)[caret_columns(box)[0]][0] == "4"


async def test_latin_is_left_aligned_with_the_caret_after_it():
    app = InputApp()
    async with app.run_test() as pilot:
        box = app.query_one(BidiInput)
        await pilot.press(*"Reuters", "left")
        assert drawn(box).rstrip() == "Reuters"
        assert box.cursor_position == 6
        assert caret_columns(box) == [6]


async def test_bidi_terminal_mode_draws_logical_order():
    app = InputApp(DisplayOptions(reorder=False))
    async with app.run_test() as pilot:
        box = app.query_one(BidiInput)
        await pilot.press(*SOURCES)
        assert drawn(box).rstrip() == "ﻣﺼﺎﺩﺭ ﻣﺠﻬﻮﻟﺔ"
        assert caret_columns(box) == [len(SOURCES)]
        await pilot.press("home", "right")
        assert box.cursor_position == 1


async def test_no_shaping_draws_plain_letters_in_visual_order():
    app = InputApp(DisplayOptions(shape=False))
    async with app.run_test() as pilot:
        box = app.query_one(BidiInput)
        await pilot.press(*SOURCES)
        text = drawn(box)
        assert text.strip() == "ةلوهجم رداصم"
        assert not any("\ufb50" <= ch <= "\ufeff" for ch in text)


async def test_narrow_field_scrolls_to_keep_the_caret_visible():
    text = "مصادر مجهولة قالت اليوم"
    full = " " + "".join(c.text for c in DisplayOptions().layout(text, 100).line(0).cells)
    app = InputApp(width=10)
    async with app.run_test() as pilot:
        box = app.query_one(BidiInput)
        await pilot.press(*text)
        assert box.scrollable_content_region.width == 10
        assert drawn(box) == full[:10]  # the end of the text, on the left
        assert caret_columns(box) == [0]
        await pilot.press("home")
        assert drawn(box) == full[-10:]  # the start of the text, on the right
        assert caret_columns(box) == [9]
        assert columns(box)[9][0] == "ﻣ"
        left = box.content_region.x - box.region.x
        await pilot.click(box, offset=(left + 6, 1))  # a click in the scrolled field
        assert box.cursor_position == 3
        await pilot.press("home", *["left"] * 14)
        assert box.cursor_position == 14
        assert caret_columns(box) == [0]
        await pilot.press("delete", "delete")  # the text after the caret is on its left: the caret moves
        assert box.value == text[:14] + text[16:]
        [x] = caret_columns(box)
        assert 0 <= x < 10


async def test_click_and_drag_map_screen_cells_to_letters():
    app = InputApp()
    async with app.run_test() as pilot:
        box = app.query_one(BidiInput)
        await pilot.press(*SOURCES)
        width = box.scrollable_content_region.width
        left = box.content_region.x - box.region.x
        await pilot.click(box, offset=(left + width - 4, 1))  # the fourth cell from the right
        assert box.cursor_position == 3
        assert columns(box)[width - 4][0] == "ﺩ"
        await pilot.click(box, offset=(left + 2, 1))  # left of the text: its logical end
        assert box.cursor_position == len(SOURCES)
        await pilot.mouse_down(box, offset=(left + width - 1, 1))  # drag over the first three letters
        await pilot.hover(box, offset=(left + width - 4, 1))
        await pilot.mouse_up(box, offset=(left + width - 4, 1))
        assert box.selection == (0, 3)
        assert selected_columns(box) == [width - 3, width - 2, width - 1]


async def test_lam_alef_and_harakat_are_one_caret_stop():
    app = InputApp()
    async with app.run_test() as pilot:
        box = app.query_one(BidiInput)
        await pilot.press(*"سلام", "home", "left")
        assert box.cursor_position == 1
        await pilot.press("left")
        assert box.cursor_position == 3  # never between lam and alef
        box.cursor_position = 2
        assert box.cursor_position == 3
        box.clear()
        box.post_message(events.Paste("بَيت"))  # pilot cannot press a haraka
        await pilot.pause()
        await pilot.press("home", "left")
        assert box.cursor_position == 2  # past the fatha with its letter
        assert columns(box)[caret_columns(box)[0]][0] == "ﻴ"
        assert [text for text, _ in columns(box)][-1] == "ﺑَ"
        await pilot.press("backspace")  # the logical previous code point: the fatha
        assert box.value == "بيت"


async def test_pasted_controls_never_reach_the_terminal():
    app = InputApp()
    async with app.run_test() as pilot:
        box = app.query_one(BidiInput)
        box.post_message(events.Paste("خبر\x1b[2J\x07 عاجل"))
        await pilot.pause()
        assert box.value == "خبر\x1b[2J\x07 عاجل"
        text = drawn(box)
        assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in text)
        assert "␛" in text and "␇" in text


async def test_placeholder_and_password():
    app = InputApp(placeholder="ابحث")
    async with app.run_test() as pilot:
        box = app.query_one(BidiInput)
        assert drawn(box).rstrip() == "ﺚﺤﺑﺍ"
        assert caret_columns(box) == [0]
        box.password = True
        await pilot.press(*SOURCES, "home", "right")
        assert box.value == SOURCES
        assert drawn(box).rstrip() == "•" * len(SOURCES)
        assert box.cursor_position == 1
        assert caret_columns(box) == [1]


async def test_changed_and_submitted_still_fire():
    app = InputApp()
    async with app.run_test() as pilot:
        box = app.query_one("#box", Input)
        assert isinstance(box, BidiInput)
        await pilot.press("ن", "ص", "enter")
        assert app.changed == ["ن", "نص"]
        assert app.submitted == ["نص"]


async def test_ctrl_arrows_move_by_words_on_screen():
    app = InputApp()
    async with app.run_test() as pilot:
        box = app.query_one(BidiInput)
        await pilot.press(*SOURCES, "home", "ctrl+left")
        assert box.cursor_position == SOURCES.index("مجهولة")
        await pilot.press("ctrl+right")
        assert box.cursor_position == 0


async def test_initial_value_is_drawn_and_selected_on_focus():
    class Prefilled(App):
        def compose(self) -> ComposeResult:
            yield Input(id="first")
            yield BidiInput(SOURCES, id="note")

    app = Prefilled()
    async with app.run_test() as pilot:
        box = app.query_one(BidiInput)
        box.cursor_blink = False
        assert box.cursor_position == len(SOURCES)
        assert drawn(box).strip() == SOURCES_DRAWN
        await pilot.press("tab")
        assert box.has_focus and box.selection == (0, len(SOURCES))
        width = box.scrollable_content_region.width
        assert selected_columns(box) == list(range(width - len(SOURCES), width))
