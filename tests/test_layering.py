"""Layering ("one house"): `store` is the pure data layer, `tui.bidi` the pure bidi engine, and no project module
imports itself back through others. Read from the source (every `import` and `from` statement, those inside
functions too), so a lazy import cannot hide an edge."""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("store", "tui")

KNOWN_CYCLES: set[frozenset[str]] = set()
"""Import cycles that exist today and are expected to go; any other cycle fails the test, and so does a cycle
listed here that no longer exists (so the list cannot go stale)."""


@dataclass(frozen=True)
class Edge:
    source: str  # importing module
    target: str  # imported project module, or the imported name for others ("textual.app", "rich")
    where: str  # path:line of the statement


def module_files() -> dict[str, Path]:
    """Dotted name -> file of every module under PACKAGES (a package is its __init__.py)."""
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = module_files()


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def imports(name: str) -> list[Edge]:
    """What module `name` imports: `import a.b` is an edge to a.b; `from p import x` an edge to p.x when that is
    a module (of ours), else to p; relative imports resolved."""
    path = MODULES[name]
    where = path.relative_to(ROOT).as_posix()
    package = name if is_package(name) else name.rpartition(".")[0]
    edges = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            edges += [Edge(name, alias.name, f"{where}:{node.lineno}") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source == "__future__":
                continue
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                edges.append(Edge(name, sub if sub in MODULES else source, f"{where}:{node.lineno}"))
    return edges


@functools.cache
def all_edges() -> dict[str, list[Edge]]:
    """Every module's imports (`imports`), read once, by the first test that asks: not when the module is
    collected (every xdist worker collects every module)."""
    return {name: imports(name) for name in MODULES}


def offending(prefix: str, banned: tuple[str, ...]) -> list[str]:
    """'path:line imports X' for each import of a banned top-level name (or dotted prefix) by a module under
    `prefix`."""
    return [f"{e.where} imports {e.target}" for name, edges in all_edges().items()
            if name == prefix or name.startswith(prefix + ".")
            for e in edges if any(e.target == b or e.target.startswith(b + ".") for b in banned)]


def test_every_module_is_read() -> None:
    edges = all_edges()
    assert {"store", "store.text.direction", "store.exchange.offsets", "tui.bidi.layout", "tui.bidi.navigator",
            "tui.widgets.article_view", "tui.cli.entry"} <= set(MODULES)
    # The import resolution the other tests rely on, on known statements.
    assert Edge("tui.bidi.layout", "tui.bidi.direction", "tui/bidi/layout.py") in [
        Edge(e.source, e.target, e.where.split(":")[0]) for e in edges["tui.bidi.layout"]]
    assert any(e.target == "store.text.direction" for e in edges["store.exchange.offsets"])  # from ..direction import
    assert any(e.target == "tui.bidi" for e in edges["tui.widgets.article_view"])  # from ..bidi import Layout
    assert any(e.target == "textual.app" for e in edges["tui.app"])


def test_store_imports_no_user_interface() -> None:
    assert offending("store", ("tui", "textual", "rich")) == []


def test_the_bidi_engine_imports_neither_textual_nor_store_nor_the_rest_of_tui() -> None:
    assert offending("tui.bidi", ("textual", "store")) == []
    others = [f"{e.where} imports {e.target}" for name, edges in all_edges().items() if name.startswith("tui.bidi")
              for e in edges if (e.target == "tui" or e.target.startswith("tui."))
              and not (e.target == "tui.bidi" or e.target.startswith("tui.bidi."))]
    assert others == []


def cycles() -> set[frozenset[str]]:
    """Strongly connected components (more than one module) of the project's import graph (Tarjan).

    Edges are the statements only (see `imports`): importing `a.b.c` is no edge to the packages `a` and `a.b`
    that Python runs first, so a package's __init__ importing (re-exporting) its own submodules makes no cycle.
    `from a.b import name` (not a module) is an edge to `a.b`, and through its __init__'s imports to the
    submodule that defines the name, so a cycle through a re-export is found."""
    graph = {name: sorted({e.target for e in edges if e.target in MODULES and e.target != name})
             for name, edges in all_edges().items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()

    def visit(v: str) -> None:  # recursion depth is bounded by the number of modules
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_but_the_known_ones() -> None:
    found = cycles()
    assert found - KNOWN_CYCLES == set(), "new import cycle(s)"
    assert KNOWN_CYCLES - found == set(), "a known cycle is gone: remove it from KNOWN_CYCLES"


def test_the_cycle_finder_finds_a_cycle() -> None:
    """`cycles` is no no-op: an edge back from the bidi engine to the widget using it closes a cycle."""
    all_edges()["tui.bidi.layout"].append(Edge("tui.bidi.layout", "tui.widgets.article_view", "test"))
    try:
        assert any({"tui.bidi.layout", "tui.widgets.article_view"} <= c for c in cycles())
    finally:
        all_edges()["tui.bidi.layout"].pop()


MAX_LINES = 400
"""A module longer than this does more than one job, unless its docstring says why it is one file."""
ONE_FILE = "one file because"
"""The words (any case, a line break counting as a space) with which a longer module's docstring says why it is one
file."""


def test_long_modules_say_why_they_are_one_file() -> None:
    """One house, one job per room: a module over MAX_LINES lines is split, or its docstring says why not."""
    unexplained = []
    for path in MODULES.values():
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        words = " ".join((ast.get_docstring(ast.parse(text)) or "").split()).lower()  # (wrapped lines too)
        if lines > MAX_LINES and ONE_FILE not in words:
            unexplained.append(f"{path.relative_to(ROOT).as_posix()}: {lines} lines")
    assert unexplained == [], f"over {MAX_LINES} lines: split them, or say in the docstring {ONE_FILE!r} ..."
