"""The command palette: every key binding active on the current screen, searchable by name (`BindingCommands`), in
Textual's palette with paging that cannot crash (`Palette`)."""

from __future__ import annotations

from functools import partial

from textual.binding import Binding
from textual.command import CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider


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


class Palette(CommandPalette):
    """Textual's command palette, whose PageDown and PageUp do nothing while its list of commands has options but
    is not laid out yet (hidden, or not yet sized): Textual 8.2's OptionList then looks up lines it has not made
    and raises KeyError, which ended the whole app (found by the key walk under load)."""

    BINDINGS = [Binding("pagedown", "page('page_down')", "Next page", show=False),
                Binding("pageup", "page('page_up')", "Previous page", show=False)]

    def action_page(self, direction: str) -> None:
        commands = self.query_one(CommandList)
        if commands.option_count and commands.scrollable_content_region:
            getattr(commands, f"action_{direction}")()
