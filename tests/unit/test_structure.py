"""The package's shape: no import circles, no reaching into another module's private names, short functions,
and a thin facade. Read from the source with ``ast``, so nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import REPO

PACKAGE = REPO / "harness"
MAX_FUNCTION_LINES = 60
LONG_ALLOWED = {("harness.cli", "build_parser")}  # the CLI parser's builder: one add_argument per flag


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _target(module: str, path: Path, node: ast.ImportFrom) -> str | None:
    if not node.level:
        return node.module
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[:len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _owner(name: str, known: dict[str, Path]) -> str:
    while name not in known:
        name = name.rpartition(".")[0]
    return name


def import_graph() -> tuple[dict[str, set[str]], list[tuple[str, str]]]:
    """Edges module -> imported harness modules (function-level imports and the packages' ``__init__`` of an
    import included, the importer's own ancestors excepted); and imports of another module's private names."""
    known = modules()
    edges: dict[str, set[str]] = {m: set() for m in known}
    private = []
    for module, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names if alias.name.split(".")[0] == "harness"]
            elif isinstance(node, ast.ImportFrom):
                target = _target(module, path, node)
                if not target or target.split(".")[0] != "harness":
                    continue
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    names.append(full if full in known else target)
                    if alias.name.startswith("_") and not alias.name.startswith("__") and full not in known:
                        private.append((module, full))
            for name in names:
                owner = _owner(name, known)
                parts = owner.split(".")
                packages = {".".join(parts[:i]) for i in range(1, len(parts))}
                edges[module] |= {p for p in packages | {owner} if p != module and not module.startswith(p + ".")}
    return edges, private


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in edges[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_circle():
    edges, _ = import_graph()
    assert circles(edges) == []


def test_the_graph_walker_sees_a_circle_hidden_in_a_function():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(edges) == [["a", "b", "c"]]
    graph, _ = import_graph()
    assert "harness.api" in graph["harness"]  # the lazy re-export inside harness.__getattr__ counts


def test_no_module_imports_another_modules_private_names():
    _, private = import_graph()
    assert private == []


def test_no_function_is_longer_than_sixty_lines():
    long = []
    for module, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES and (module, node.name) not in LONG_ALLOWED:
                    long.append(f"{module}.{node.name}: {lines}")
    assert long == []


def test_the_api_is_a_thin_facade():
    source = (PACKAGE / "api.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) < 250
    tree = ast.parse(source)
    longest = max(n.end_lineno - n.lineno + 1 for n in tree.body if isinstance(n, ast.FunctionDef))
    assert longest <= 40
