"""
Which tests prove which promises, read from the test sources without running them.

A test says which rules it proves with a pytest marker, on the test, its class or the module
(``pytestmark``)::

    @pytest.mark.promise("get_apps.points_mall_markets", "get_apps.recommendations_market_exclusion")
    def test_market_rules(...): ...

The ids are string literals, or ``*NAME`` where ``NAME`` is a module-level tuple or list of
string literals. The files are parsed (never imported), so collecting proofs is fast and runs
nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

MARKER = "promise"


def collect_proofs(tests_dir: Path) -> dict[str, tuple[str, ...]]:
    """
    Every promise id named by a ``promise`` marker under ``tests_dir``, with the test node ids
    (``tests/<path>::<test>``, relative to the folder holding ``tests_dir``) that name it.
    """
    found: dict[str, list[str]] = {}
    if not tests_dir.is_dir():
        return {}
    root = tests_dir.parent
    for file in sorted(tests_dir.rglob("test_*.py")):
        try:
            tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
        except (SyntaxError, UnicodeDecodeError):
            continue
        rel = file.relative_to(root).as_posix()
        names = _constants(tree)
        module_ids = _module_marks(tree, names)
        for node_id, ids in _tests(tree, rel, names):
            for promise in (*module_ids, *ids):
                found.setdefault(promise, []).append(node_id)
    return {k: tuple(dict.fromkeys(v)) for k, v in sorted(found.items())}


def _constants(tree: ast.Module) -> dict[str, tuple[str, ...]]:
    """Module-level names bound to a tuple or list of string literals."""
    out: dict[str, tuple[str, ...]] = {}
    for node in tree.body:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and isinstance(value, ast.Tuple | ast.List):
            items = [e.value for e in value.elts if isinstance(e, ast.Constant)]
            if len(items) == len(value.elts) and all(isinstance(i, str) for i in items):
                out[target.id] = tuple(str(i) for i in items)
    return out


def _tests(
    tree: ast.Module, rel: str, names: dict[str, tuple[str, ...]]
) -> Iterator[tuple[str, tuple[str, ...]]]:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            yield f"{rel}::{node.name}", _marks(node.decorator_list, names)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            class_ids = _marks(node.decorator_list, names)
            for item in node.body:
                if isinstance(
                    item, ast.FunctionDef | ast.AsyncFunctionDef
                ) and item.name.startswith("test"):
                    yield (
                        f"{rel}::{node.name}::{item.name}",
                        (*class_ids, *_marks(item.decorator_list, names)),
                    )


def _module_marks(tree: ast.Module, names: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    out: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            values = (
                node.value.elts if isinstance(node.value, ast.List | ast.Tuple) else [node.value]
            )
            out.extend(_marks(values, names))
    return tuple(out)


def _marks(nodes: list[ast.expr], names: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    out: list[str] = []
    for node in nodes:
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == MARKER
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "mark"
        ):
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    out.append(arg.value)
                elif isinstance(arg, ast.Starred) and isinstance(arg.value, ast.Name):
                    out.extend(names.get(arg.value.id, ()))
    return tuple(out)
