"""What an annotator meets in the first hour (issue 14): each defect found, as the user met it."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from conftest import until_suggestions_built
from textual.widgets import Input

from store import Workspace
from store.db.journal import _OPEN
from tui.app import make_app
from tui.dialogs.claim_form import ClaimForm
from tui.dialogs.credibility_form import CredibilityForm
from tui.screens.reader import ReaderScreen
from tui.widgets.annotation_panel import AnnotationPanel
from tui.widgets.article_table import ArticleTable

pytestmark = pytest.mark.usefixtures("quiet_waits")  # Pilot waits for the app, not the clock (conftest.py)

ARTICLE = "52f015e52f40b84e"
MOROCCO = "d1451bac8b1dfa5c"  # holds "بالمغرب وكيفية"


def _fresh(workspace_path: Path, annotator: str = "alice"):
    """An app on the workspace as a restart opens it: every cached store closed first, read from disk."""
    cached = [k for k in _OPEN if k.startswith(os.path.realpath(workspace_path))]
    assert not cached, f"stores still cached: {cached}"
    return make_app(Workspace.open(workspace_path), annotator)


def _close(app) -> None:
    app.workspace.close()


async def _open(app, pilot, article_id: str) -> ReaderScreen:
    screen = ReaderScreen(article_id)
    app.push_screen(screen)
    await pilot.pause()
    return screen


async def _type(pilot, text: str) -> None:
    for ch in text:
        await pilot.press(ch if ch != " " else "space")


def _on_word(screen: ReaderScreen, word: str) -> None:
    view = screen.view
    view.move_to_offset(view.text.index(word))


# 1. Score with a key, then `i`: the form opens (it crashed, and crashed again on every reopening).
async def test_score_then_indicators_then_restart(workspace_path: Path) -> None:
    app = _fresh(workspace_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await _open(app, pilot, ARTICLE)
        await pilot.press("4", "i")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, CredibilityForm)
        assert form.query_one("#score-4").value is True
        form.query_one("#note", Input).focus()
        await _type(pilot, "مصادر مجهولة")
        await pilot.press("ctrl+s")
        await pilot.pause()
    _close(app)
    app = _fresh(workspace_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await _open(app, pilot, ARTICLE)
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, CredibilityForm)
        assert app.screen.query_one("#note", Input).value == "مصادر مجهولة"
        await pilot.press("escape")
    _close(app)
    [record] = Workspace.open(workspace_path).annotations("alice").for_article(ARTICLE)
    assert record["attributes"] == {"score": 4, "indicators": [], "note": "مصادر مجهولة"}


# 3. Nothing is stored that the user did not choose.
async def test_a_note_alone_stores_no_score(workspace_path: Path) -> None:
    app = _fresh(workspace_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open(app, pilot, ARTICLE)
        await pilot.press("i")
        await pilot.pause()
        assert app.screen.query_one("#score-unset").value is True  # no score offered as if chosen
        app.screen.query_one("#note", Input).focus()
        await _type(pilot, "عنوان مثير")
        await pilot.press("ctrl+s")
        await pilot.pause()
        panel = screen.query_one(AnnotationPanel)
        assert "no score" in str(panel.get_option_at_index(0).prompt)
        await pilot.press("escape")
        await pilot.pause()
        table = app.screen.query_one(ArticleTable)
        row = table.cell_texts(table.rows[table.index_of(ARTICLE)])
        assert row[[key for key, _, _ in table.columns].index("credibility")].strip() == "-"
    _close(app)
    [record] = Workspace.open(workspace_path).annotations("alice").for_article(ARTICLE)
    assert record["attributes"] == {"score": None, "indicators": [], "note": "عنوان مثير"}


async def test_a_form_saved_with_nothing_chosen_saves_nothing(workspace_path: Path) -> None:
    app = _fresh(workspace_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await _open(app, pilot, ARTICLE)
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert any("Nothing saved" in n.message for n in app._notifications)
    _close(app)
    assert Workspace.open(workspace_path).annotations("alice").for_article(ARTICLE) == []


async def test_a_claim_saved_untouched_has_no_type_or_verdict(workspace_path: Path) -> None:
    app = _fresh(workspace_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open(app, pilot, ARTICLE)
        _on_word(screen, "الأخيرة")
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ClaimForm)
        await pilot.press("ctrl+s")
        await pilot.pause()
    _close(app)
    [claim] = Workspace.open(workspace_path).annotations("alice").for_article(ARTICLE)
    assert claim["kind"] == "claim"
    assert {k: v for k, v in claim["attributes"].items() if v is not None} == {}


# 4. Growing an entity skips white space; the store refuses edge white space.
async def test_growing_skips_white_space(workspace_path: Path) -> None:
    app = _fresh(workspace_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open(app, pilot, MOROCCO)
        body = screen.view.text
        at = body.index("بالمغرب")
        _on_word(screen, "بالمغرب")
        await pilot.press("l")
        await pilot.press("full_stop")
        await pilot.pause()
        entity = screen.annotation_under_cursor(("entity",))
        end = at + len("بالمغرب")
        assert body[end] == " "  # the next character is a space: growing takes the letter after it
        assert entity["text"] == body[at:end + 2] and not entity["text"].endswith(" ")
        await pilot.press("comma")
        await pilot.pause()
        assert screen.annotation_under_cursor(("entity",))["text"] == "بالمغرب"
    _close(app)


# 5. Suggestions follow every change at once.
async def test_suggestions_follow_adjust_remove_undo_and_redo(workspace_path: Path) -> None:
    other = next(a.id for a in Workspace.open(workspace_path).articles()
                 if a.id != MOROCCO and "المغرب" in a.body)
    Workspace.open(workspace_path).close()
    app = _fresh(workspace_path)

    def suggested(screen: ReaderScreen) -> set[str]:
        return {screen.article.body[s.start:s.end] for s in screen.suggestions}

    async with app.run_test(size=(120, 36)) as pilot:
        await until_suggestions_built(pilot, app)
        screen = await _open(app, pilot, MOROCCO)
        _on_word(screen, "بالمغرب")
        await pilot.press("l", "less_than_sign")  # بالمغرب -> المغرب
        await pilot.pause()
        assert screen.annotation_under_cursor(("entity",))["text"] == "المغرب"
        app.pop_screen()
        second = await _open(app, pilot, other)
        assert "المغرب" in suggested(second)
        assert not any(s.startswith("بال") for s in suggested(second))
        await pilot.press("u")  # the shrink undone: بالمغرب is tagged again
        await pilot.pause()
        assert "بالمغرب" in suggested(second) and "المغرب" not in suggested(second)
        await pilot.press("u")  # the tag undone: nothing of it is suggested
        await pilot.pause()
        assert not suggested(second) & {"المغرب", "بالمغرب"}
        await pilot.press("ctrl+r")  # redone: suggested again
        await pilot.pause()
        assert "بالمغرب" in suggested(second)
    _close(app)


# 6. Export says where it wrote only once it has written there; a failure is a failure.
async def test_export_creates_the_folder_and_reports_failure(workspace_path: Path, tmp_path: Path) -> None:
    from tui.screens.deliver import export_jsonl

    ws = Workspace.open(workspace_path)
    ws.annotations("alice").add_entity(ARTICLE, *_word(ws, "تويتر"), "ORG")
    ws.close()
    app = _fresh(workspace_path)
    missing = tmp_path / "no" / "downloads"
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    async with app.run_test(size=(120, 30)) as pilot:
        export_jsonl(app.screen, save_directory=missing)
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
        [written] = list(missing.glob("tahqiq-export-*.jsonl"))
        assert json.loads(written.read_text(encoding="utf-8").splitlines()[0])["id"] == ARTICLE
        assert any(f"to {written}" in n.message for n in app._notifications)
        export_jsonl(app.screen, save_directory=blocked / "sub")
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
        failures = [n for n in app._notifications if n.message.startswith("Export failed")]
        assert failures and failures[-1].severity == "error" and str(blocked / "sub") in failures[-1].message
        assert not any(f"to {blocked}" in n.message for n in app._notifications)
    _close(app)


def _word(ws: Workspace, word: str) -> tuple[int, int]:
    start = ws.article(ARTICLE).body.index(word)
    return start, start + len(word)


# 10. The keys panel closes with ? and escape; triage shows its keys; remapped keys stay in the footer.
async def test_keys_panel_toggles_and_escape_closes_it(workspace_path: Path) -> None:
    from textual.widgets import HelpPanel

    app = _fresh(workspace_path)
    async with app.run_test(size=(120, 36)) as pilot:
        for opener in (None, ARTICLE):
            if opener:
                await _open(app, pilot, opener)
            screen = app.screen
            await pilot.press("question_mark")
            await pilot.pause()
            assert screen.query(HelpPanel)
            await pilot.press("question_mark")
            await pilot.pause()
            assert not screen.query(HelpPanel)
            await pilot.press("question_mark")
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
            assert not screen.query(HelpPanel) and app.screen is screen  # escape closed the panel only
    _close(app)


async def test_triage_shows_its_keys(workspace_path: Path) -> None:
    app = _fresh(workspace_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, ReaderScreen) and app.screen.triage is not None
        keys = str(app.screen.query_one("#triage-keys").render())
        assert "1-5 rate and next" in keys and "s skip" in keys and "b back one" in keys
    _close(app)


async def test_remapped_keys_keep_their_place_in_the_footer(workspace_path: Path) -> None:
    async def shown(keymap: str | None) -> tuple[list[str], list[str], str]:
        path = workspace_path / "keymap.toml"
        path.unlink(missing_ok=True)
        if keymap:
            path.write_text(keymap, encoding="utf-8")
        app = _fresh(workspace_path)
        async with app.run_test(size=(100, 36)) as pilot:
            await pilot.pause()
            library = _footer_order(app)
            footer = _footer(app)
            await _open(app, pilot, ARTICLE)
            reader = _footer_order(app)
        _close(app)
        return library, reader, footer

    plain = await shown(None)
    remapped = await shown('[keys]\nclaim = "k"\ntriage = "T"\n')
    assert remapped[:2] == plain[:2]  # same bindings, same order
    assert "T Triage" in remapped[2]  # still on screen at 100 columns (it was cut off at the end)


def _footer_order(app) -> list[str]:
    return [b.binding.description for b in app.screen.active_bindings.values() if b.binding.show]


def _footer(app) -> str:
    from textual.widgets import Footer

    return " ".join(str(key.render()) for key in app.screen.query_one(Footer).children)


# 11. Narrow terminals.
@pytest.mark.parametrize("width", [80, 50])
async def test_library_fits_narrow_terminals(workspace_path: Path, width: int) -> None:
    app = _fresh(workspace_path)
    async with app.run_test(size=(width, 30)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(ArticleTable)
        used = sum(w + 2 for _, _, w in table.columns)
        assert used <= width - 2
        headers = [label for _, label, _ in table.columns]
        assert {"Cred", "Mean", "E", "C"} <= set(headers)
        assert table.render_line(0).text.split() == headers  # the header as drawn: every label, in order
        title = app.workspace.article(ARTICLE).title
        cell = table.cell_texts(table.rows[table.index_of(ARTICLE)])[headers.index("Title")]
        first_word = app.display_options.snippet(title.split()[0], 20)
        assert cell.rstrip().endswith(first_word)  # RTL: the beginning is at the right, never cut
    _close(app)


async def test_reader_side_panel_collapses_and_resize_keeps_the_cursor(workspace_path: Path) -> None:
    app = _fresh(workspace_path)
    async with app.run_test(size=(90, 30)) as pilot:
        screen = await _open(app, pilot, ARTICLE)
        panel = screen.query_one(AnnotationPanel)
        assert not panel.display
        await pilot.press("backslash")
        await pilot.pause()
        assert panel.display
        await pilot.press("backslash")
        view = screen.view
        for _ in range(30):
            await pilot.press("down")
        await pilot.pause()
        cursor = view.cursor
        assert view.scroll_offset.y > 0
        await pilot.resize_terminal(70, 24)
        await pilot.pause()
        await pilot.pause()
        row, _ = view.text_layout.row_of(view.words[view.cursor][0])
        assert view.cursor == cursor
        assert view.scroll_offset.y <= row < view.scroll_offset.y + view.scrollable_content_region.height
    _close(app)


# 12. Clean exits fold the journal; cursor moves are not written one by one.
async def test_cursor_moves_are_saved_on_leaving_and_capped(workspace_path: Path) -> None:
    from store.session import MAX_CURSORS

    state = workspace_path / "state" / "alice.json"
    app = _fresh(workspace_path)
    app.SESSION_SAVE_SECONDS = 3600  # the periodic save (a safety net) must not land between the moves below
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open(app, pilot, ARTICLE)
        before = state.stat().st_mtime_ns if state.exists() else None
        for _ in range(5):
            await pilot.press("left")
        await pilot.pause()
        assert (state.stat().st_mtime_ns if state.exists() else None) == before  # not written per move
        offset = screen.view.words[screen.view.cursor][0]
        await pilot.press("escape")
        await pilot.pause()
        assert json.loads(state.read_text(encoding="utf-8"))["cursors"][ARTICLE] == offset
        for n in range(MAX_CURSORS + 50):
            app.session.set_cursor(f"a{n}", n)
        app.session.save()
    _close(app)
    cursors = json.loads(state.read_text(encoding="utf-8"))["cursors"]
    assert len(cursors) == MAX_CURSORS and f"a{MAX_CURSORS + 49}" in cursors and ARTICLE not in cursors


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")
def test_a_clean_exit_folds_the_journal(workspace_path: Path, tmux) -> None:
    session = "tahqiq-fold"  # on this test's own tmux server (conftest's `tmux`)
    command = f"{sys.executable} -m tui.cli --workspace {workspace_path} --annotator folder"
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", command,
         env={**os.environ, "TERM": "xterm-256color"})
    try:
        def wait_for(text: str, timeout: float = 20) -> None:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if text in tmux("capture-pane", "-p", "-t", session, check=False).stdout:
                    return
                time.sleep(0.2)
            raise AssertionError(f"{text!r} never appeared")

        wait_for("2014-11-25")
        tmux("send-keys", "-t", session, "Down", "Down", "Down", "Enter")
        wait_for("Claim")
        tmux("send-keys", "-t", session, "p")
        wait_for("PER")
        tmux("send-keys", "-t", session, "C-q")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and tmux("has-session", "-t", session, check=False).returncode == 0:
            time.sleep(0.2)
    finally:
        tmux("kill-session", "-t", session, check=False)
    folded = json.loads((workspace_path / "annotations" / "folder.json").read_text(encoding="utf-8"))
    assert len(folded["annotations"]) == 1
    journal = workspace_path / "annotations" / "folder.journal"
    assert not journal.exists() or journal.stat().st_size == 0


def test_counts_read_in_the_right_number() -> None:
    from store.wording import counted

    assert [counted(n, "hit") for n in (0, 1, 2)] == ["0 hits", "1 hit", "2 hits"]
    assert counted(1, "annotator") == "1 annotator" and counted(3, "disagreement") == "3 disagreements"
