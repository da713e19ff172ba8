"""Triage: one article after another, one key per decision, resumable across restarts."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from store.session import SessionState


@dataclass
class Triage:
    """A queue of article ids and where we are in it; saved in the session state on every step."""

    session: SessionState
    queue: list[str]
    position: int = 0
    decided: int = 0
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def resume(cls, session: SessionState, queue: list[str]) -> Triage:
        """Continue the saved triage if it was over the same articles, else start on `queue`."""
        saved = session.get("triage") or {}
        if saved.get("queue") and set(saved["queue"]) >= set(queue) and saved.get("position", 0) < len(saved["queue"]):
            triage = cls(session, list(saved["queue"]), int(saved.get("position", 0)))
        else:
            triage = cls(session, queue)
        triage.save()
        return triage

    @property
    def current(self) -> str | None:
        return self.queue[self.position] if 0 <= self.position < len(self.queue) else None

    @property
    def remaining(self) -> int:
        return max(0, len(self.queue) - self.position)

    def save(self) -> None:
        self.session.set("triage", {"queue": self.queue, "position": self.position})

    def advance(self, decided: bool) -> str | None:
        """Move to the next article (counting a decision or a skip); returns it, or None at the end."""
        self.decided += decided
        self.position += 1
        self.save()
        return self.current

    def back(self) -> str | None:
        self.position = max(0, self.position - 1)
        self.save()
        return self.current

    def summary(self) -> str:
        """The footer line: decided, time per article, remaining."""
        elapsed = time.monotonic() - self.started
        per = f"{elapsed / self.decided:.0f}s/article" if self.decided else "–"
        return f"triage {self.position + 1}/{len(self.queue)} · decided {self.decided} · {per} · {self.remaining} left"
