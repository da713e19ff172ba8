"""The reader's cursor rule, without a widget: tui.bidi.navigator on mixed Arabic/English/number text, narrow."""

from __future__ import annotations

import pytest

from store.text.direction import paragraph_rule
from store.text.normalize import WORD
from tui.bidi import layout
from tui.bidi.navigator import Navigator, word_at

# An RTL paragraph holding an English run and numbers, an empty paragraph, an LTR one holding an Arabic run.
TEXT = "قال مدير Apple Inc إن أرباح 2009 كانت 12.5% فقط\n\nThe minister said 2009 was hard for الشركات الصغيرة today"
WORDS = [m.span() for m in WORD.finditer(TEXT)]
INDEX = {}
for _i, (_s, _e) in enumerate(WORDS):
    INDEX.setdefault(TEXT[_s:_e], _i)  # the first "2009" is the Arabic paragraph's


def name(index: int | None) -> str | None:
    return None if index is None else TEXT[slice(*WORDS[index])]


def navigator(width: int = 16, direction="auto") -> Navigator:
    return Navigator(layout(TEXT, width, direction=direction), WORDS)


def row_names(nav: Navigator, row: int) -> list[str]:
    return [name(i) for _, _, i in nav.words_on_row(row)]


def press(nav: Navigator, word: str | int, *moves: str) -> list[str | None]:
    """The word under the cursor after each move (as the reader does: up/down keep the goal column)."""
    at = INDEX[word] if isinstance(word, str) else word
    goal, seen = None, []
    for move in moves:
        target, goal = nav.target(at, move, goal)
        at = at if target is None else target
        seen.append(name(target))
    return seen


def test_rows_list_their_words_left_to_right_with_their_columns() -> None:
    nav = navigator()
    #  row 0: "  Apple ﺮﻳﺪﻣ ﻝﺎﻗ"   row 1: "    ﺡﺎﺑﺭﺃ ﻥﺇ Inc"   row 2: " %12.5 ﺖﻧﺎﻛ 2009"   row 3: "      ﻂﻘﻓ"
    assert row_names(nav, 0) == ["Apple", "مدير", "قال"]
    assert row_names(nav, 1) == ["أرباح", "إن", "Inc"]
    assert row_names(nav, 2) == ["12", "5", "كانت", "2009"]
    assert nav.words_on_row(0)[-1] == (13, 15, 0)  # right-aligned: "قال" ends at the last column
    assert nav.words_on_row(4) == [] and nav.words_on_row(99) == []  # the empty paragraph; past the end
    assert row_names(nav, 7) == ["hard", "for", "الشركات"]
    assert nav.place(INDEX["قال"]) == (0, 13, 15) and nav.place(INDEX["The"]) == (5, 0, 2)
    assert nav.next_row(3, 1) == 5 and nav.next_row(5, -1) == 3  # the empty row is skipped
    assert nav.next_row(0, -1) is None and nav.next_row(8, 1) is None
    assert [nav.word_at(TEXT.index(w)) for w in ("قال", "Inc", "today")] == [0, INDEX["Inc"], len(WORDS) - 1]
    assert word_at([0, 4, 9], 3) == 0 and word_at([0, 4, 9], 4) == 1 and word_at([3], 0) == 0


def test_left_and_right_move_on_screen_in_an_rtl_row() -> None:
    nav = navigator()
    # Left on an RTL row is the next word in the text...
    assert press(nav, "قال", "left", "left") == ["مدير", "Apple"]
    # ... but on screen, not in text order: right of "Apple" is "مدير", left of "إن" is "أرباح" and right of it
    # is "Inc", though "Inc" follows "Apple" in the text.
    assert press(nav, "Apple", "right") == ["مدير"]
    assert press(nav, "إن", "right", "left", "left") == ["Inc", "إن", "أرباح"]
    # A number and a percentage inside the row are words like the others.
    assert press(nav, "2009", "left", "left", "left", "right") == ["كانت", "5", "12", "5"]
    for word in INDEX:
        row, first, last = nav.place(INDEX[word])
        for move in ("left", "right"):
            target, goal = nav.target(INDEX[word], move)
            assert goal is None
            t_row, t_first, t_last = nav.place(target) if target is not None else (None, 0, 0)
            if t_row == row:  # a move within the row goes to the nearest word that side
                assert (t_first > last) if move == "right" else (t_last < first)


def test_an_english_run_in_an_rtl_row_reads_left_to_right() -> None:
    nav = navigator(direction=paragraph_rule("arabic"))  # the workspace rule: "The minister..." is RTL too
    assert nav.layout.paragraph_directions == ["rtl", "ltr", "rtl"]  # the empty one has no letter
    row = nav.place(INDEX["The"])[0]
    assert row_names(nav, row) == ["The", "minister"]  # right-aligned, but English still left to right
    assert press(nav, "minister", "left") == ["The"]


def test_leaving_a_row_crosses_to_the_next_or_previous_row_in_text_order() -> None:
    nav = navigator()
    # RTL: left off the left end goes on to the row below, entering at its right (the next word in the text);
    # right off the right end goes back to the row above, entering at its left (the previous word).
    assert press(nav, "Apple", "left") == ["Inc"]
    assert press(nav, "Inc", "right") == ["Apple"]
    assert press(nav, "12", "left") == ["فقط"]
    # Into and out of the LTR paragraph, over the empty one: left off the RTL paragraph's last row enters the
    # LTR row at its right (the move goes left); left off the LTR row's start goes back up.
    assert press(nav, "فقط", "left") == ["minister"]
    assert press(nav, "The", "left") == ["فقط"]
    # LTR: right off the right end is the row below, entering at its left; left off the left end the row above.
    assert press(nav, "minister", "right", "right") == ["said", "2009"]
    assert press(nav, "for", "right", "right", "right") == ["الشركات", "الصغيرة", "today"]
    assert press(nav, "الصغيرة", "left") == ["الشركات"]


def test_no_move_past_either_end() -> None:
    nav = navigator()
    first, last = 0, len(WORDS) - 1
    assert nav.target(first, "right") == (None, None)  # RTL: right of the first word is before the text
    assert nav.target(first, "up") == (None, 14)  # the goal column is still the word's middle
    assert nav.target(last, "right") == (None, None) and nav.target(last, "down") == (None, 10)
    assert press(nav, "said", *["right"] * 10) == ["2009", "was", "hard", "for", "الشركات", "الصغيرة", "today",
                                                   None, None, None]
    assert press(nav, "أرباح", *["right"] * 6) == ["إن", "Inc", "Apple", "مدير", "قال", None]
    assert press(nav, "12", "up", "up", "up") == ["أرباح", "Apple", None]
    with pytest.raises(ValueError, match="move must be one of"):
        nav.target(first, "forward")


def test_walking_left_through_an_rtl_paragraph_visits_its_words_in_text_order_at_any_width() -> None:
    text = "قال الوزير إن عام 2009 كان صعبا على الشركات"
    words = [m.span() for m in WORD.finditer(text)]
    for width in range(8, 40):  # every word fits a row (see the xfail below)
        nav = Navigator(layout(text, width), words)
        at, seen = 0, [0]
        for move in ["left"] * len(words) + ["right"] * len(words):
            at = nav.target(at, move)[0]
            if at is not None:
                seen.append(at)
                continue
            assert move == "right" or seen == list(range(len(words))), width
            at = seen[-1]
        assert seen == [*range(len(words)), *reversed(range(len(words) - 1))], width


def test_up_and_down_keep_the_goal_column() -> None:
    nav = navigator()
    # From "Apple" (columns 2-6, middle 4) down, over the row holding only "فقط" (columns 13-15), to the LTR
    # paragraph: it is entered near column 4 again ("The"), not near "فقط" ("minister").
    assert press(nav, "Apple", "down", "down", "down", "down") == ["أرباح", "5", "فقط", "The"]
    # Up goes back the same way, to the words nearest the same column.
    assert press(nav, "Apple", "down", "down", "down", "down", "up", "up") == ["أرباح", "5", "فقط", "The", "فقط", "5"]
    # A sideways move forgets the goal: from "فقط" itself, down picks the word nearest its middle...
    assert press(nav, "فقط", "down") == ["minister"]
    # ... and so does a move left or right: up from "إن" (columns 10-11) is "مدير" above it, not "Apple".
    assert press(nav, "Apple", "down", "right", "up") == ["أرباح", "إن", "مدير"]
    target, goal = nav.target(INDEX["Apple"], "down", 13)
    assert (name(target), goal) == ("Inc", 13)  # a goal passed in wins over the word's middle


def test_a_word_wrapped_over_two_rows_can_be_left() -> None:
    nav = navigator(width=7)  # "ministe" / "r said"
    assert [row_names(nav, r) for r in (11, 12)] == [["minister"], ["minister", "said"]]
    assert press(nav, "minister", "right") == ["said"]
    assert press(nav, "said", "left") == ["minister"]
    down = press(nav, "minister", "down")
    assert down and down != ["minister"]  # its own second piece is not a row below it
