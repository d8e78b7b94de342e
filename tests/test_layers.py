"""The house's rules of import (docs/architecture.md), read from the source with ``ast``:

- each package imports only the packages below it (the table :data:`MAY_IMPORT`);
- no import cycles between modules at import time (imports inside functions and under
  ``TYPE_CHECKING`` are deferred, so they are left out of that graph).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "engagement_api"

#: What each part of the package may import of the project, besides itself.
MAY_IMPORT: dict[str, set[str]] = {
    "contract": set(),
    "client": set(),
    "clock": set(),
    "domain": set(),
    "store": {"contract", "domain"},
    "ingest": {"contract", "domain", "store"},
    "auth": {"clock", "contract", "domain", "store"},
    "settings": {"clock", "store"},
    "service": {"auth", "clock", "contract", "domain", "ingest", "settings", "store"},
    "dashboard": {"auth", "clock", "contract", "domain", "service", "settings", "store"},
    "api": {
        "auth",
        "clock",
        "contract",
        "dashboard",
        "domain",
        "ingest",
        "service",
        "settings",
        "store",
    },
    "cli": {
        "api",
        "auth",
        "client",
        "clock",
        "contract",
        "dashboard",
        "domain",
        "ingest",
        "service",
        "settings",
        "store",
    },
    # the stand-in as a Python object and pytest fixture, for client test suites: it starts
    # the server (api) and hands out our client (client); nothing imports it
    "testing": {"api", "client", "clock", "contract"},
    "(root)": set(),  # __init__.py: the version, which every part may import
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _part(module: str) -> str:
    """``engagement_api.store.sqlite.counters`` -> ``store``; the package itself: (root)."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "(root)"


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, eager_only: bool, modules: set[str]) -> set[str]:
    """Project modules imported: ``from X import y`` is X.y when that is a module, else X (a
    package's ``__init__`` runs before any of its modules anyway, so it is no edge of its own)."""
    found: set[str] = set()

    def visit(node: ast.AST, eager: bool) -> None:
        for child in ast.iter_child_nodes(node):
            deferred = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) or (
                isinstance(child, ast.If) and _is_type_checking(child)
            )
            if isinstance(child, ast.ImportFrom) and child.module and (eager or not eager_only):
                if child.module.split(".")[0] == PACKAGE:
                    for alias in child.names:
                        submodule = f"{child.module}.{alias.name}"
                        found.add(submodule if submodule in modules else child.module)
            elif isinstance(child, ast.Import) and (eager or not eager_only):
                found.update(a.name for a in child.names if a.name.split(".")[0] == PACKAGE)
            visit(child, eager and not deferred)

    visit(tree, True)
    return found


def _graph(eager_only: bool) -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in (SRC / PACKAGE).rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        imported = _imports(ast.parse(path.read_text("utf-8")), eager_only, set(modules))
        graph[name] = {m for m in imported if m in modules and m != name}
    return graph


def test_every_part_of_the_package_is_in_the_table() -> None:
    parts = {_part(name) for name in _graph(eager_only=False)}
    assert parts == set(MAY_IMPORT)


@pytest.mark.parametrize("part", sorted(MAY_IMPORT))
def test_each_part_imports_only_what_lies_below_it(part: str) -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in _graph(eager_only=False).items()
        if _part(module) == part
        for target in targets
        if _part(target) not in {part, "(root)"} and _part(target) not in MAY_IMPORT[part]
    )
    assert wrong == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_no_import_cycles() -> None:
    assert _cycles(_graph(eager_only=True)) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_clickhouse_driver_is_imported_only_when_a_counters_url_is_used() -> None:
    """The optional ClickHouse driver stays out of a process that has no counters URL: a fresh
    interpreter imports every command and builds the app over a migrated SQLite store, and the
    driver is not among its modules."""
    code = (
        "import sys, tempfile\n"
        "import engagement_api.cli.main\n"
        "from engagement_api.api.app import create_app\n"
        "from engagement_api.settings import Settings\n"
        "url = 'sqlite:///' + tempfile.mkdtemp() + '/e.db'\n"
        "settings = Settings.from_env({}, database_url=url)\n"
        "store = settings.open_store()\n"
        "store.migrate()\n"
        "create_app(settings, store)\n"
        "store.close()\n"
        "print('clickhouse_driver' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", done.stderr
