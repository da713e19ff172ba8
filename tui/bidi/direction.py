"""The engine's one paragraph-direction decision.

`direction` (a `Layout`'s, `resolve`'s, a `DisplayOptions`') is one of:

- "ltr" / "rtl": every paragraph that direction;
- "auto": Unicode bidi rules P2-P3, the paragraph's first strong character outside isolates;
- a rule: a callable `rule(paragraph) -> "rtl" | "ltr" | None` that imposes a direction, or returns None to
  leave it to P2-P3. The app passes the workspace's rule, `store.text.direction.paragraph_rule(name)`: the
  engine knows no rule by name and imports neither `store` nor textual.

P2-P3 are python-bidi's (the Rust crate unicode-bidi): `get_base_level` here, the same code as the levels
`resolve` gets from it, and as `store.text.direction.first_strong` uses for the exports.
"""
from __future__ import annotations

from collections.abc import Callable

from bidi import get_base_level

Rule = Callable[[str], str | None]
"""A paragraph direction rule: the direction it imposes on a paragraph ("rtl" / "ltr"), or None for P2-P3."""
Direction = str | Rule
"""What the engine takes as `direction`: a name of DIRECTIONS or a Rule."""
DIRECTIONS = ("ltr", "rtl", "auto")
"""The directions the engine knows by name; any other rule is passed in as a callable."""


def check_direction(direction: Direction) -> Direction:
    """`direction` unchanged if the engine can use it; ValueError otherwise."""
    if callable(direction) or direction in DIRECTIONS:
        return direction
    hint = " (pass store.text.direction.paragraph_rule(name) for a workspace rule)" \
        if isinstance(direction, str) else ""
    raise ValueError(f"direction must be one of {', '.join(map(repr, DIRECTIONS))} or a rule, "
                     f"not {direction!r}{hint}")


def imposed_direction(text: str, direction: Direction) -> str | None:
    """"rtl" or "ltr" if `direction` imposes it on `text`, None where rules P2-P3 decide."""
    if callable(direction):
        forced = direction(text)
        if forced not in ("rtl", "ltr", None):
            raise ValueError(f"a direction rule must return 'rtl', 'ltr' or None, not {forced!r}")
        return forced
    return None if check_direction(direction) == "auto" else direction


def base_direction(paragraph: str, direction: Direction) -> str:
    """"rtl" or "ltr": the direction of `paragraph` (no newline) under `direction`. A paragraph with no
    strong character is "ltr"."""
    forced = imposed_direction(paragraph, direction)
    if forced is not None:
        return forced
    return "rtl" if paragraph and get_base_level(paragraph) % 2 else "ltr"
