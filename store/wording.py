"""How counts read in messages: "1 hit", "2 hits", never "1 hits"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun in the number it takes: counted(1, "hit") == "1 hit", counted(0, "hit") == "0 hits"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
