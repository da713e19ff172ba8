"""Pilot tests: the app starts on the library, opens an article, and annotates it by keyboard alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli

from store import Workspace
from store.text.normalize import find_all
from tui.app import make_app
from tui.bidi import visual_line
from tui.screens.reader import ReaderScreen
from tui.widgets.article_table import ArticleTable
from tui.widgets.article_view import ArticleView

ARTICLE = "52f015e52f40b84e"
ROOT = Path(__file__).resolve().parent.parent
READ_BACK = """
import json, sys
from store import Workspace
ws = Workspace.open(sys.argv[1])
notes = ws.annotations(sys.argv[2])
print(json.dumps({"rows": notes.for_article(sys.argv[3]), "state": notes.state(sys.argv[3])}))
ws.close()
"""
"""Run in a new process: what a restarted app reads from the files (no store cached by this process)."""

pytestmark = pytest.mark.usefixtures("quiet_waits")  # Pilot waits for the app, not the clock (conftest.py)


async def test_app_lists_the_five_seeds_and_opens_one(workspace_path: Path) -> None:
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.screen.query_one(ArticleTable)
        keys = [row.id for row in table.rows]
        assert keys == [a.id for a in app.workspace.articles()]
        await pilot.press("down", "down", "down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ReaderScreen) and app.screen.article.id == ARTICLE
        await pilot.press("escape")
        assert not isinstance(app.screen, ReaderScreen)


def _open(app, article_id: str) -> ReaderScreen:
    screen = ReaderScreen(article_id)
    app.push_screen(screen)
    return screen


async def _cursor_to(pilot, view: ArticleView, word: str) -> None:
    """Move the cursor with arrow keys only, until it is on `word` (first occurrence)."""
    target = view.word_at(view.text.index(word))
    for _ in range(400):
        if view.cursor == target:
            return
        row_target = view.text_layout.row_of(view.words[target][0])[0]
        row_now = view.text_layout.row_of(view.words[view.cursor][0])[0]
        if row_now < row_target:
            await pilot.press("down")
        elif row_now > row_target:
            await pilot.press("up")
        else:
            # In an RTL paragraph, later words are further left.
            await pilot.press("left" if view.cursor < target else "right")
    raise AssertionError(f"cursor never reached {word!r}")


async def test_keyboard_annotation_survives_restart(workspace_path: Path) -> None:
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = _open(app, ARTICLE)
        await pilot.pause()
        view = screen.view
        body = view.text
        # Entity: "بوبكر سبيك" as PER via a selection made with shift+arrow (RTL: the next word is to the left).
        await _cursor_to(pilot, view, "بوبكر")
        await pilot.press("shift+left", "p")
        # Entity: "تويتر" as ORG, the word under the cursor.
        await _cursor_to(pilot, view, "تويتر")
        await pilot.press("o")
        messages = [n.message for n in app._notifications]
        assert visual_line("ORG: تويتر", "ltr") in messages  # notices quote Arabic in visual order
        # Claim: the sentence under the cursor, attributes chosen in the form with the keyboard.
        await _cursor_to(pilot, view, "الأخيرة")
        await pilot.press("c")
        await pilot.pause()
        # every attribute starts "(not set)", the first row of its list
        await pilot.press("enter", "down", "down", "enter")  # check-worthiness: not check-worthy
        await pilot.press("tab", "enter", "down", "down", "enter")  # type: quote
        await pilot.press("ctrl+s")
        await pilot.pause()
        # Credibility 4, then an entity added and undone, then redone, then undone for good.
        await pilot.press("4")
        await _cursor_to(pilot, view, "سيت")
        await pilot.press("l", "u", "ctrl+r", "u")
        await pilot.press("d")
        await pilot.pause()

    app.workspace.close()  # as quitting does: folds the journal and releases the writer lock
    # Restart: a new process reads the workspace from disk.
    done = subprocess.run([sys.executable, "-c", READ_BACK, str(workspace_path), "alice", ARTICLE],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    saved = json.loads(done.stdout)
    rows = saved["rows"]
    by_kind = {k: [r for r in rows if r["kind"] == k] for k in ("entity", "claim", "credibility")}
    entities = {(r["label"], r["text"]) for r in by_kind["entity"]}
    assert entities == {("PER", "بوبكر سبيك"), ("ORG", "تويتر")}
    for r in rows:
        if r["start"] is not None:
            assert body[r["start"]:r["end"]] == r["text"]
    per = next(r for r in by_kind["entity"] if r["label"] == "PER")
    assert per["start"] == body.index("بوبكر سبيك")
    [claim] = by_kind["claim"]
    assert "الأخيرة" in claim["text"] and claim["text"].endswith(".")
    assert claim["attributes"]["type"] == "quote"
    assert claim["attributes"]["check_worthiness"] == "not check-worthy"
    assert by_kind["credibility"][0]["attributes"]["score"] == 4
    assert saved["state"] == "done"


async def test_tag_everywhere_and_clitic_adjustment(workspace_path: Path) -> None:
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = _open(app, ARTICLE)
        await pilot.pause()
        view = screen.view
        body = view.text
        # "لـ “سيت أنفو”": tag "بالأمن" then shrink its start past the clitic "بال".
        await _cursor_to(pilot, view, "بالأمن")
        await pilot.press("o", "less_than_sign", "less_than_sign", "less_than_sign")
        entity = screen.annotation_under_cursor(("entity",))
        assert entity is not None and entity["text"] == "أمن"
        await _cursor_to(pilot, view, "سبيك")
        await pilot.press("p", "g")
        await pilot.pause()
    rows = Workspace.open(workspace_path).annotations("alice").for_article(ARTICLE)
    texts = [(r["label"], r["text"]) for r in rows if r["kind"] == "entity"]
    assert ("ORG", "أمن") in texts
    expected = find_all(body, "سبيك", clitics=True)
    assert len(expected) >= 5
    assert sorted((r["start"], r["end"]) for r in rows if r["label"] == "PER") == expected


async def test_keymap_file_remaps_and_palette_lists_actions(workspace_path: Path) -> None:
    (workspace_path / "keymap.toml").write_text('[keys]\nclaim = "k"\nundo = "z"\n', encoding="utf-8")
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = _open(app, ARTICLE)
        await pilot.pause()
        keys = {b.binding.action: k for k, b in screen.active_bindings.items()}
        assert keys["claim"] == "k" and keys["undo"] == "z"
        from tui.palette import BindingCommands

        names = [name for name, _, _ in BindingCommands(screen)._commands()]
        assert "Claim (k)" in names and "PER (p)" in names


async def test_palette_paging_before_its_list_is_laid_out_does_not_crash(workspace_path: Path) -> None:
    """PageDown or PageUp in the palette while its list has commands but is not laid out yet: nothing happens
    (Textual 8.2's OptionList raised KeyError, ending the app); once the list is shown they page as Textual's do."""
    from textual.command import CommandList

    from tui.palette import Palette

    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+p")
        palette = app.screen
        assert isinstance(palette, Palette)
        commands = palette.query_one(CommandList)
        commands.display = False  # the state a busy start can leave: commands found, the list without a size,
        commands.clear_options()  # its lines not made (the key walk under load met it)
        commands.add_options([f"command {n}" for n in range(80)])
        commands.highlighted = 3
        await pilot.pause()
        commands._line_cache.clear()  # noqa: SLF001 - (lines cannot be made without a size)
        assert not commands.scrollable_content_region and commands.option_count == 80
        for key in ("pagedown", "pageup", "pagedown"):
            await pilot.press(key)  # Textual's own palette: KeyError, the app ended with code 1
        assert app.is_running and app.screen is palette and commands.highlighted == 3
        commands.display = True
        await pilot.pause()
        await pilot.press("pagedown")
        assert commands.highlighted is not None and commands.highlighted > 3
        await pilot.press("escape")
    app.workspace.close()


def test_broken_labels_toml_is_one_line_at_start(workspace_path: Path) -> None:
    (workspace_path / "labels.toml").write_text("[entities.PER]\ncolor = 12\n", encoding="utf-8")
    result = run_cli(["--workspace", str(workspace_path)])
    assert result.returncode == 1
    assert result.stderr.strip() == (f"tahqiq: error: {workspace_path / 'labels.toml'}:2: "
                                     "entities.PER.color: 12 is not a #rrggbb colour")


async def test_bidi_controls_are_counted_and_revealed(tmp_path: Path) -> None:
    import json as _json

    ws = Workspace.open(tmp_path / "ws")
    src = tmp_path / "a.jsonl"
    text = "قال \u202eالوزير\u202c إن \x1b]0;pwned\x07 الأمر انتهى"
    src.write_text(_json.dumps({"id": "ctl", "title": "عنوان", "text": text}, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    assert ws.import_paths([src]).imported == ["ctl"]
    app = make_app(ws, "alice")
    async with app.run_test(size=(100, 20)) as pilot:
        screen = _open(app, "ctl")
        await pilot.pause()
        assert "2 bidi control characters" in screen.query_one("#byline").text
        view = screen.view
        drawn = "".join(view.render_line(y).text for y in range(3))
        assert "\x1b" not in drawn and "␛" in drawn and "⇚" not in drawn
        await pilot.press("ctrl+t")
        await pilot.pause()
        drawn = "".join(view.render_line(y).text for y in range(3))
        assert "⇚" in drawn and "⇞" in drawn  # RLO and PDF shown as marks


async def test_collection_paused_at_start_resumes_at_the_first_screen(workspace_path: Path, tmp_path: Path) -> None:
    """`tahqiq` starts with garbage collection paused (tui.cli.entry.run_app); the first screen drawn resumes it,
    and what was made until then is frozen out of later collections. A start that fails resumes it too."""
    import gc

    from tui.cli.entry import main

    frozen = gc.get_freeze_count()
    gc.disable()
    try:
        app = make_app(Workspace.open(workspace_path), "alice")
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen.query_one(ArticleTable), ArticleTable)
            assert gc.isenabled() and gc.get_freeze_count() > frozen
        app.workspace.close()
    finally:
        gc.enable()
        gc.unfreeze()
    (tmp_path / "not-a-workspace").write_text("x", encoding="utf-8")
    assert main(["--workspace", str(tmp_path / "not-a-workspace"), "--annotator", "alice"]) != 0
    assert gc.isenabled()


async def test_an_article_opened_before_the_library_is_drawn_still_ends_the_start(workspace_path: Path) -> None:
    """What waits for the first screen (collection resumed, the suggestions built once the user is idle) is not
    held by a library covered before it was drawn: Textual runs an after-refresh callback on the screen current
    when it takes it up, and a covered screen with no messages never does (the suggestions never came, in CI)."""
    import gc

    try:
        workspace = Workspace.open(workspace_path)
        article_id = workspace.catalog().ids[0]
        async with make_app(workspace, "alice").run_test(size=(100, 30)) as pilot:
            await pilot.press("enter")  # a library that starts on the last article opened: without it, the
            # library is drawn before the reader's push is taken up and the race is not met
            await pilot.pause()
        frozen = gc.get_freeze_count()
        gc.disable()  # (as `tahqiq` starts)
        app = make_app(workspace, "alice")
        async with app.run_test(size=(100, 30)) as pilot:
            app.push_screen(ReaderScreen(article_id))  # in the same turn as the library: before it is drawn
            for _ in range(100):
                await pilot.pause(0.05)
                if app.suggester_or_none() is not None:
                    break
            assert gc.isenabled() and gc.get_freeze_count() > frozen
            assert app.suggester_or_none() is not None, "the suggestions were not built within 5 s of idling"
        workspace.close()
    finally:
        gc.enable()
        gc.unfreeze()


async def test_a_suggestion_build_ending_as_the_app_closes_touches_no_screen(
        workspace_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader that waits for the suggestions is told when their build ends, unless the app is closing by then:
    its widgets are being taken down, and telling it crashed the app on its way out (seen in CI)."""
    import threading

    import store.assist.suggest as suggest

    started, closing, built = threading.Event(), threading.Event(), threading.Event()

    class HeldBuild(suggest.Suggester):  # ends only once the app has begun to close
        def __init__(self, *args, **kwargs) -> None:
            started.set()
            closing.wait(10)
            super().__init__(*args, **kwargs)
            built.set()

    def unmount(self: ArticleView) -> None:  # the reader's text is taken down: the app is closing
        closing.set()
        built.wait(10)  # (the build's word to the app is then queued while the reader is still on the stack)

    monkeypatch.setattr(suggest, "Suggester", HeldBuild)
    monkeypatch.setattr(ArticleView, "on_unmount", unmount, raising=False)
    workspace = Workspace.open(workspace_path)
    app = make_app(workspace, "alice")
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(ReaderScreen(workspace.catalog().ids[0]))
        for _ in range(100):  # (the build starts once the user has been idle)
            await pilot.pause(0.05)
            if started.is_set():
                break
        assert started.is_set() and app.suggester_or_none() is None and app.screen.is_current
    workspace.close()
    assert built.is_set() and app.return_code in (None, 0)
