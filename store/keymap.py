"""`keymap.toml` in the workspace: remap any binding by its id, e.g. `claim = "k"` under `[keys]`."""

from __future__ import annotations

import tomllib
from pathlib import Path

from store.db.storage import TOO_DEEP
from store.errors import StoreError

KEYMAP_FILE = "keymap.toml"


def load_keymap(path: Path) -> dict[str, str]:
    """Binding id -> keys (comma-separated); an absent file is an empty keymap, a broken one a StoreError."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise StoreError(f"{path}: {exc}") from exc
    except RecursionError:
        raise StoreError(f"{path}: {TOO_DEEP}") from None
    keys = data.get("keys", {})
    if not isinstance(keys, dict) or not all(isinstance(v, str) and v for v in keys.values()):
        raise StoreError(f"{path}: [keys] must map binding ids to key names, e.g. claim = \"k\"")
    return dict(keys)
