"""The key bar at the bottom of every screen: Textual's Footer, rebuilt once per frame at most, and only on the
screen that is shown."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """Textual's Footer rebuilds its keys (a widget each) after every change of the screen's bindings. Opening the
    reader changes them three times in one frame (focus, the screen resumed, a callback) and the library's hidden
    footer was rebuilt as it was covered: ~70 key widgets made for the reader's ~20. Here changes that come
    before the rebuild share it, and a screen that is not shown rebuilds when it is shown again (resuming a
    screen changes its bindings)."""

    _rebuild_queued = False

    def bindings_changed(self, screen: Screen) -> None:
        stack = screen.app.screen_stack  # (Screen.is_current also counts a screen covered by one that is not modal)
        if self._rebuild_queued or (screen in stack and stack[-1] is not screen):
            self._bindings_ready = True  # (what Textual's Footer sets before its first rebuild)
            return
        super().bindings_changed(screen)  # queues a rebuild after the next refresh, if the three below hold
        self._rebuild_queued = screen.app.app_focus and self.is_attached and screen is self.screen

    async def recompose(self) -> None:
        self._rebuild_queued = False
        await super().recompose()
