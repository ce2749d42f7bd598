"""The house rules of bench/'s layout, read from its imports: no cycle, no reach into another
module's privates, the Docker SDK behind its seam, and each subpackage importing only downward."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "bench"

# Pipeline order, top to bottom: a subpackage may import those after it, never one before.
# The leaves (errors, models, units, stats, storage, manifest, redaction) sit below them all.
LAYERS = (
    "commands",
    "perf",
    "run",
    "gate",
    "report",
    "lab",
    "engine",
    "layers",
    "wheels",
    "context",
)
LEAVES = {"errors", "models", "units", "stats", "storage", "manifest", "redaction", "dependencies"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(module imported, names taken from it) for every import, function-level ones too."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, tuple(alias.name for alias in node.names)


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for imported, names in _imports(path):
            targets = [f"{imported}.{n}" for n in names if f"{imported}.{n}" in modules]
            if not targets and imported in modules:
                targets = [imported]
            graph[name].update(t for t in targets if t != name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _room(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else module


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_no_module_imports_another_modules_private_names() -> None:
    reaches = [
        f"{_module_name(path)} takes {name} from {imported}"
        for path in PACKAGE.rglob("*.py")
        for imported, names in _imports(path)
        if imported.startswith("bench")
        for name in names
        if name.startswith("_")
    ]
    assert reaches == []


def test_the_docker_sdk_is_imported_only_by_the_engine() -> None:
    users = {
        _module_name(path)
        for path in PACKAGE.rglob("*.py")
        for imported, _ in _imports(path)
        if imported == "docker" or imported.startswith("docker.")
    }
    # context.listing takes docker-py's `.dockerignore` matcher (a pure function over the
    # tree), so what it lists is what docker-py would send; it never reaches an engine.
    assert users == {"bench.engine.client", "bench.context.listing"}


@pytest.mark.parametrize("room", LAYERS)
def test_subpackages_import_only_downward(room: str) -> None:
    below = set(LAYERS[LAYERS.index(room) + 1 :]) | LEAVES | {room}
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in _graph().items()
        if _room(module) == room
        for target in targets
        if _room(target) not in below
    )
    assert upward == []


def test_the_leaves_import_only_leaves() -> None:
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in _graph().items()
        if _room(module) in LEAVES
        for target in targets
        if _room(target) not in LEAVES
    )
    assert upward == []
