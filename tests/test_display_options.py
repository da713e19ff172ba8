"""`display_options(node)`: the one place a widget, screen or dialog finds how to draw text."""

from __future__ import annotations

from types import SimpleNamespace

from tui.bidi import DEFAULT_DISPLAY, DisplayOptions, display_options


def test_the_apps_options_when_it_has_them() -> None:
    options = DisplayOptions(reorder=False, shape=False, direction="rtl")
    node = SimpleNamespace(app=SimpleNamespace(display_options=options))
    assert display_options(node) is options


def test_the_default_in_an_app_without_them() -> None:
    """A widget tested on its own, in a plain Textual App."""
    assert display_options(SimpleNamespace(app=SimpleNamespace())) is DEFAULT_DISPLAY
