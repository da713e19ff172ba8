"""What `tahqiq doctor` reports: one Finding per line, and the wording they share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Finding:
    """One line of the report. level: "ok", "repaired", "note" (no action needed) or "problem"."""

    level: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.where}: {self.message}"


def after_path(exc: Exception, path: Path) -> str:
    """The message of `exc` without the leading `path: ` (the finding names the file already)."""
    text = str(exc)
    prefix = f"{path}: "
    return text[len(prefix):] if text.startswith(prefix) else text
