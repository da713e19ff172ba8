"""Command palette provider: every key binding active on the current screen, searchable by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class BindingCommands(Provider):
    """Lists the actions of the screen the palette was opened from, with their keys."""

    def _commands(self):
        seen = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.action in seen or not active.enabled:
                continue
            seen.add(binding.action)
            keys = self.app.get_key_display(binding)
            yield (f"{binding.description} ({keys})", partial(self.app.run_action, binding.action, active.node),
                   binding.tooltip or binding.action)

    async def discover(self) -> Hits:
        for name, run, help_text in self._commands():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, run, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
