"""README.md's key tables against the real bindings: a key the README lists must be bound on that screen,
and a key the app binds must be in the README.

The bindings are read from a running app (so the reader's entity keys from labels.toml count, and the
keys of the focused widget: the library's table, the reader's ArticleView), never from a list written
here. Which bindings must be documented: every binding with an `id` (ours: the app's, the screens', our
widgets'; Textual's built-in bindings have none and are Textual's to document, e.g. DataTable's Enter,
Screen's tab). A binding counts as documented when any of its keys is in the table (`escape,backspace`:
backspace is an alias). App-wide bindings (`ctrl+q`, `f2`, ...) may be in either table.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.keys import _character_to_key

from store import Workspace
from tui.app import make_app
from tui.screens.library import LibraryScreen
from tui.screens.reader import ReaderScreen

pytestmark = pytest.mark.usefixtures("quiet_waits")  # Pilot waits for the app, not the clock (conftest.py)

README = Path(__file__).resolve().parent.parent / "README.md"
ARTICLE = "52f015e52f40b84e"

UNDOCUMENTED = {
    # id: why it need not be in the README's key tables
}
"""Bindings with an id that the tables leave out on purpose, each with its reason."""

TABLES = {"library": "In the library", "reader": "In the reader"}
"""The line each table follows in README.md's "### Keys" section."""

WORDS = {"enter": "enter", "escape": "escape", "esc": "escape", "tab": "tab", "space": "space",
         "backspace": "backspace", "delete": "delete", "home": "home", "end": "end",
         "←": "left", "→": "right", "↑": "up", "↓": "down"}
"""Keys the tables write outside backticks."""
ARROWS = ("left", "right", "up", "down")


def normalise(token: str) -> str:
    """A key as the README writes it -> Textual's name: `/` slash, `<` less_than_sign, `Enter` enter,
    `ctrl+R` ctrl+r; letters keep their case (`N` is shift+n's character)."""
    token = token.strip()
    if "+" in token and len(token) > 1:
        *mods, last = [p.strip() for p in token.split("+")]
        return "+".join([m.lower() for m in mods] + [normalise(last or "+")])
    if len(token) == 1:
        return token if token.isalnum() else _character_to_key(token)
    return WORDS.get(token.lower(), token.lower())


def keys_in_cell(cell: str) -> set[str]:
    """The keys of a table's first column: backticked keys (`1`-`5` is a range), Enter and the like,
    arrows, `shift + arrows`; words that are not keys ("click a header", "mouse drag") are left out."""
    keys: set[str] = set()
    for low, high in re.findall(r"`(\d)`\s*-\s*`(\d)`", cell):
        keys |= {str(n) for n in range(int(low), int(high) + 1)}
    cell = re.sub(r"`\d`\s*-\s*`\d`", " ", cell)
    keys |= {normalise(t) for t in re.findall(r"`([^`]+)`", cell)}
    rest = re.sub(r"`[^`]+`", " ", cell)
    if re.search(r"shift\s*\+\s*arrows", rest, re.I):
        keys |= {f"shift+{a}" for a in ARROWS}
        rest = re.sub(r"shift\s*\+\s*arrows", " ", rest, flags=re.I)
    for word in re.findall(r"[←→↑↓]|[A-Za-z]+", rest):
        if word.lower() in WORDS or word in WORDS:
            keys.add(WORDS.get(word, WORDS.get(word.lower())))
    return keys


def readme_tables(text: str) -> dict[str, dict[str, str]]:
    """screen -> {key: the row's first cell} from the tables under "### Keys"."""
    section = text.split("### Keys", 1)[1]
    section = re.split(r"\n#{2,3} ", section, maxsplit=1)[0]
    tables: dict[str, dict[str, str]] = {}
    for screen, intro in TABLES.items():
        after = section.split(intro, 1)[1]
        rows = []
        for line in after.splitlines()[1:]:
            if line.startswith("|"):
                rows.append(line)
            elif rows:
                break
        keys: dict[str, str] = {}
        for row in rows[2:]:  # header and |---|
            first = row.strip("|").split(" | ")[0].strip()
            for key in keys_in_cell(first):
                keys[key] = first
        tables[screen] = keys
    return tables


def test_the_parser_reads_the_ways_the_readme_writes_keys() -> None:
    assert keys_in_cell("`/`") == {"slash"}
    assert keys_in_cell("Enter") == {"enter"}
    assert keys_in_cell("`s` / `r` / click a header") == {"s", "r"}
    assert keys_in_cell("← → ↑ ↓") == {"left", "right", "up", "down"}
    assert keys_in_cell("shift + arrows, mouse drag") == {"shift+left", "shift+right", "shift+up", "shift+down"}
    assert keys_in_cell("`<` `>` / `,` `.`") == {"less_than_sign", "greater_than_sign", "comma", "full_stop"}
    assert keys_in_cell("`1`-`5`, `i`") == {"1", "2", "3", "4", "5", "i"}
    assert keys_in_cell("`y`, `Y`, `ctrl+e`") == {"y", "Y", "ctrl+e"}
    assert keys_in_cell("`?`") == {"question_mark"}
    assert keys_in_cell("`\\`") == {"backslash"}
    assert keys_in_cell("`escape`") == {"escape"}


def _chain(app) -> list:
    """Where a key press goes: the focused widget and its ancestors, the screen, the app."""
    screen = app.screen
    nodes = [app, screen]
    if screen.focused is not None:
        nodes += [n for n in screen.focused.ancestors_with_self if n is not screen and n is not app]
    return nodes


def _bindings(nodes: list) -> list[tuple[str, Binding, object]]:
    return [(key, b, node) for node in nodes for key, bs in node._bindings.key_to_bindings.items() for b in bs]


@pytest.fixture(scope="module")
def readme() -> dict[str, dict[str, str]]:
    return readme_tables(README.read_text(encoding="utf-8"))


@pytest.fixture
async def bound(workspace_path: Path) -> dict[str, list[tuple[str, Binding, object]]]:
    """screen -> (key, binding, node) of every binding where a key press goes, in a running app."""
    app = make_app(Workspace.open(workspace_path), "alice")
    out = {}
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, LibraryScreen)
            out["library"] = _bindings(_chain(app))
            app.push_screen(ReaderScreen(ARTICLE))
            await pilot.pause()
            assert isinstance(app.screen, ReaderScreen)
            out["reader"] = _bindings(_chain(app))
    finally:
        app.workspace.close()
    return out


def test_the_collection_finds_the_known_keys(bound, readme) -> None:
    library = {k for k, _, _ in bound["library"]}
    reader = {k for k, _, _ in bound["reader"]}
    assert {"slash", "enter", "f", "t", "f2", "ctrl+q"} <= library
    assert {"p", "o", "l", "m", "4", "i", "less_than_sign", "shift+left", "ctrl+t", "escape"} <= reader
    assert {"slash", "enter", "f2"} <= set(readme["library"])
    assert {"p", "4", "i", "less_than_sign", "shift+left", "ctrl+o", "escape"} <= set(readme["reader"])


@pytest.mark.parametrize("screen", list(TABLES))
def test_every_key_in_the_readme_is_bound(screen: str, bound, readme) -> None:
    keys = {k for k, _, _ in bound[screen]}
    missing = {key: cell for key, cell in readme[screen].items() if key not in keys}
    assert not missing, (f"README.md's {screen} table lists keys that are not bound on that screen: "
                         + ", ".join(f"{k!r} (row {c!r})" for k, c in sorted(missing.items())))


@pytest.mark.parametrize("screen", list(TABLES))
def test_every_binding_is_in_the_readme(screen: str, bound, readme) -> None:
    app_wide = set(readme["library"]) | set(readme["reader"])
    by_id: dict[str, list[tuple[str, Binding, object]]] = {}
    for key, binding, node in bound[screen]:
        if binding.id is not None and binding.id not in UNDOCUMENTED:
            by_id.setdefault(binding.id, []).append((key, binding, node))
    missing = []
    for binding_id, entries in sorted(by_id.items()):
        documented = app_wide if all(type(n).__module__.startswith("tui.app") for _, _, n in entries) \
            else set(readme[screen])
        if not {key for key, _, _ in entries} & documented:
            key, binding, node = entries[0]
            missing.append(f"{'/'.join(sorted({k for k, _, _ in entries}))} ({binding_id}: "
                           f"{binding.description or binding.action}, {type(node).__name__})")
    assert not missing, (f"bound on the {screen} screen but not in README.md's {screen} key table "
                         f"(add a row, or an entry with its reason to UNDOCUMENTED): " + "; ".join(missing))
