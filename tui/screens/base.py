"""What every full screen of the app shares: keys keep their declared order after keymap.toml remaps them."""

from __future__ import annotations

from textual.binding import ActiveBinding
from textual.screen import Screen


class AppScreen(Screen[None]):
    """A screen whose footer, keys panel and palette list bindings in the order they are declared.

    Textual moves a binding remapped by a keymap to the end of its list, so in a narrow footer the remapped
    keys (often the ones a team uses most) were the first to be cut off.
    """

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        active = super().active_bindings
        declared: dict[tuple[int, str | None, str], int] = {}
        for node in [self.app, *self.ancestors_with_self, *(self.focused.ancestors_with_self if self.focused else ())]:
            for position, binding in enumerate(b for bs in node._bindings.key_to_bindings.values() for b in bs):
                declared.setdefault((id(node), binding.id, binding.action), position)
        chain = [node for node, _ in self._modal_binding_chain]

        def place(item: tuple[str, ActiveBinding]) -> tuple[int, int]:
            active_binding = item[1]
            node = active_binding.node
            depth = chain.index(node) if node in chain else len(chain)
            binding = active_binding.binding
            return depth, declared.get((id(node), binding.id, binding.action), 10_000)

        return dict(sorted(active.items(), key=place))
