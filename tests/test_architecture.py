"""The layout rules of docs/architecture.md, checked on the source: no import cycle (module-level
or deferred inside a function), no function over 40 lines, no use of another module's
underscore names, at most 10 modules at service/'s top level, and the pure packages free of
FastAPI and Starlette. Read with `ast`, nothing is imported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("service", "training")
GENERATED = {"service/grpc/inference_pb2.py", "service/grpc/inference_pb2_grpc.py"}
"""Written by grpcio-tools (scripts/dev/codegen_grpc.py), not by hand."""
MAX_FUNCTION_LINES = 40
MAX_TOP_LEVEL_MODULES = 10
PURE = ("service.images", "service.protocol", "service.descent")
"""Packages that import nothing from the web framework (docs/architecture.md)."""
WEB = ("fastapi", "starlette")
LAYERS = [
    {"__init__", "errors", "config", "cards", "logs", "metrics"},
    {"protocol", "images"},
    {"runtime"},
    {"descent", "dataplane"},
    {"asgi", "grpc"},
    {"routes"},
    {"app"},
    {"cli"},
    {"__main__"},
]
"""service/'s packages and top-level modules, bottom up: each imports only from layers below it
(docs/architecture.md draws this). training/ imports only service.cards, the model card, and
the pure service.images (with service.errors, whose 422s it raises): the digit gate learns on
the pieces the service itself cuts."""
TRAINING_MAY_IMPORT = ("service.cards", "service.errors", "service.images.")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, ast.Module]:
    """Every hand-written module of the checked packages, by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if str(path.relative_to(ROOT)) not in GENERATED:
                found[module_name(path)] = ast.parse(path.read_text(), str(path))
    return found


def imported(name: str, tree: ast.Module) -> Iterator[tuple[str, ast.ImportFrom | ast.Import]]:
    """(module imported, statement) for every import anywhere in the module, functions too."""
    package = name if _is_package(name) else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            for alias in node.names:
                child = f"{base}.{alias.name}"
                yield (child if child in modules() else base), node


def _is_package(name: str) -> bool:
    return (ROOT / name.replace(".", "/") / "__init__.py").exists()


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    base = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def graph() -> dict[str, set[str]]:
    """Module -> the checked modules it imports (a package's __init__ counts as its name)."""
    known = modules()
    return {
        name: {target for target, _ in imported(name, tree) if target in known and target != name}
        for name, tree in known.items()
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = stack[stack.index(node) :]
                    del stack[stack.index(node) :]
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                work.append((child, iter(sorted(edges[child]))))
            elif child in stack:
                low[node] = min(low[node], index[child])
    return found


def long_functions() -> list[str]:
    return [
        f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for name, tree in modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_uses() -> list[str]:
    """`from m import _x`, and `m._x` on a module bound by an import, across modules."""
    found = []
    for name, tree in modules().items():
        aliases = set()
        for target, node in imported(name, tree):
            for alias in node.names:
                bound = alias.asname or alias.name
                if isinstance(node, ast.ImportFrom) and _private(alias.name):
                    found.append(f"{name} imports {alias.name} from {target}")
                elif target in modules() and target.endswith(alias.name):
                    aliases.add(bound)
        found += [
            f"{name} uses {node.value.id}.{node.attr}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and _private(node.attr)
        ]
    return found


def test_no_import_cycle_module_level_or_deferred() -> None:
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_are_found(package: str) -> None:
    assert any(name.startswith(f"{package}.") for name in modules())


def test_no_function_over_40_lines() -> None:
    assert long_functions() == []


def test_no_module_uses_another_modules_underscore_names() -> None:
    assert private_uses() == []


def test_service_top_level_stays_small() -> None:
    top = sorted(p.name for p in (ROOT / "service").glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def part(module: str) -> str:
    """service.runtime.registry -> "runtime"; service.app -> "app"; training.x -> "training"."""
    pieces = [*module.split("."), "__init__"]
    return pieces[1] if pieces[0] == "service" else pieces[0]


def layer(module: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if part(module) in names)


def test_each_layer_imports_only_from_below() -> None:
    upward = [
        f"{source} imports {target}"
        for source, targets in graph().items()
        for target in targets
        if part(source) != part(target)
        and (
            target.startswith("training.")
            or (source.startswith("training.") and not target.startswith(TRAINING_MAY_IMPORT))
            or (source.startswith("service.") and layer(target) >= layer(source))
        )
    ]
    assert upward == []


def test_pure_packages_import_no_web_framework() -> None:
    web = [
        f"{name} imports {target}"
        for name, tree in modules().items()
        if name.startswith(PURE)
        for target, _ in imported(name, tree)
        if target.split(".")[0] in WEB
    ]
    assert web == []
