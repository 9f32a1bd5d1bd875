"""The house plan (docs/architecture.md): routes at module level, no giant functions or classes.

Read from the source with ``ast``, so a route hidden in a closure or a function grown past the limit
fails here, before a maintainer or a tool has to find it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_FUNCTION_LINES = 120
MAX_CLASS_LINES = 300
ROUTE_METHODS = {"get", "post", "put", "patch", "delete", "api_route", "route", "websocket"}
Function = ast.FunctionDef | ast.AsyncFunctionDef


def _sources() -> Iterator[tuple[str, ast.Module]]:
    for pattern in ("libs/*/src/**/*.py", "services/*/src/**/*.py"):
        for path in sorted(ROOT.glob(pattern)):
            if "migrations" not in path.parts:
                yield str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"))


def _is_route_decorator(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ROUTE_METHODS
    )


def _nested_routes(tree: ast.Module) -> Iterator[str]:
    for outer in ast.walk(tree):
        if not isinstance(outer, Function):
            continue
        inner_functions = {n.name: n for n in ast.walk(outer) if isinstance(n, Function) and n is not outer}
        for inner in inner_functions.values():
            if any(_is_route_decorator(d) for d in inner.decorator_list):
                yield f"{outer.name}.{inner.name}"
        for call in ast.walk(outer):
            # an endpoint defined in the function and added by name is a route in a closure too
            endpoint = _added_endpoint(call)
            if endpoint in inner_functions:
                yield f"{outer.name} adds {endpoint}"


def _added_endpoint(node: ast.AST) -> str | None:
    """The name in ``router.add_api_route(path, name, ...)``; None for any other expression."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    if node.func.attr != "add_api_route" or len(node.args) < 2:
        return None
    return node.args[1].id if isinstance(node.args[1], ast.Name) else None


def _lengths(tree: ast.Module, kind: type | tuple[type, ...]) -> Iterator[tuple[str, int]]:
    for node in ast.walk(tree):
        if isinstance(node, kind):
            yield node.name, node.end_lineno - node.lineno + 1  # type: ignore[attr-defined]


def test_no_route_is_defined_inside_a_function() -> None:
    found = [f"{path}: {name}" for path, tree in _sources() for name in _nested_routes(tree)]
    assert found == []


def test_no_function_is_longer_than_the_limit() -> None:
    long = [
        f"{path}: {name} ({lines} lines)"
        for path, tree in _sources()
        for name, lines in _lengths(tree, (ast.FunctionDef, ast.AsyncFunctionDef))
        if lines > MAX_FUNCTION_LINES
    ]
    assert long == []


def test_no_class_is_longer_than_the_limit() -> None:
    long = [
        f"{path}: {name} ({lines} lines)"
        for path, tree in _sources()
        for name, lines in _lengths(tree, ast.ClassDef)
        if lines > MAX_CLASS_LINES
    ]
    assert long == []


def test_the_check_sees_a_route_in_a_closure() -> None:
    """The check itself can fail: a route added from a closure, as the old routers did, is found."""
    tree = ast.parse(
        "def build(router):\n"
        "    @router.get('/x')\n"
        "    async def x(): ...\n"
        "    async def y(): ...\n"
        "    router.add_api_route('/y', y)\n"
    )
    assert sorted(_nested_routes(tree)) == ["build adds y", "build.x"]
