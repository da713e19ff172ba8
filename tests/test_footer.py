"""The key bar (tui.widgets.footer): always the keys of the screen shown, rebuilt once however many times the
bindings change in one frame, and not while its screen is covered."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets._footer import FooterKey

from store import Workspace
from tui.app import make_app
from tui.screens.library import LibraryScreen
from tui.screens.reader import ReaderScreen
from tui.widgets.footer import Footer

pytestmark = pytest.mark.usefixtures("quiet_waits")  # Pilot waits for the app, not the clock (conftest.py)


def keys_shown(screen) -> list[str]:
    """The descriptions on the screen's key bar, left to right."""
    return [key.description for key in screen.query_one(Footer).query(FooterKey)
            if not key.has_class("-command-palette")]


def keys_bound(screen) -> list[str]:
    """What the screen's bindings say the key bar should show (shown ones, in order, once each)."""
    out: list[str] = []
    for _, binding, _, _ in screen.active_bindings.values():
        if binding.show and binding.description not in out:
            out.append(binding.description)
    return out


async def test_each_screen_shows_its_own_keys_after_opening_going_back_and_a_dialog(workspace_path: Path,
                                                                                   monkeypatch) -> None:
    made: list[FooterKey] = []
    init = FooterKey.__init__

    def counted(self, *args, **kwargs) -> None:
        made.append(self)
        init(self, *args, **kwargs)

    monkeypatch.setattr(FooterKey, "__init__", counted)
    app = make_app(Workspace.open(workspace_path), "alice")
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        library = app.screen
        assert isinstance(library, LibraryScreen) and "Triage" in keys_shown(library)
        made.clear()
        await pilot.press("enter")
        await pilot.pause()
        reader = app.screen
        assert isinstance(reader, ReaderScreen)
        assert keys_shown(reader) == keys_bound(reader) and "Claim" in keys_shown(reader)
        # Opening the reader changes its bindings three times in one frame: one rebuild for them (Textual
        # itself asks for a second, a frame later), and none for the library's bar, which is covered.
        assert all(key.screen is reader for key in made if key.is_attached)
        assert len(made) <= 2 * len(reader.query_one(Footer).query(FooterKey)), len(made)
        await pilot.press("c")  # a dialog over the reader, then back
        await pilot.pause()
        assert app.screen is not reader
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is reader and keys_shown(reader) == keys_bound(reader)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is library and keys_shown(library) == keys_bound(library)
    app.workspace.close()
