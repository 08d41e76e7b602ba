"""
Which tests prove which promises, read from the test sources without running them.

A test says which rules it proves with a pytest marker, on the test, its class or the module
(``pytestmark``)::

    @pytest.mark.promise("get_apps.points_mall_markets", "get_apps.recommendations_market_exclusion")
    def test_market_rules(...): ...

The files are parsed (never imported), so collecting proofs is fast and runs nothing.
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
        module_ids = _module_marks(tree)
        for node_id, ids in _tests(tree, rel):
            for promise in (*module_ids, *ids):
                found.setdefault(promise, []).append(node_id)
    return {k: tuple(dict.fromkeys(v)) for k, v in sorted(found.items())}


def _tests(tree: ast.Module, rel: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            yield f"{rel}::{node.name}", _marks(node.decorator_list)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            class_ids = _marks(node.decorator_list)
            for item in node.body:
                if isinstance(
                    item, ast.FunctionDef | ast.AsyncFunctionDef
                ) and item.name.startswith("test"):
                    yield (
                        f"{rel}::{node.name}::{item.name}",
                        (*class_ids, *_marks(item.decorator_list)),
                    )


def _module_marks(tree: ast.Module) -> tuple[str, ...]:
    out: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            values = (
                node.value.elts if isinstance(node.value, ast.List | ast.Tuple) else [node.value]
            )
            out.extend(_marks(values))
    return tuple(out)


def _marks(nodes: list[ast.expr]) -> tuple[str, ...]:
    out: list[str] = []
    for node in nodes:
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == MARKER
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "mark"
        ):
            out.extend(
                a.value
                for a in node.args
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            )
    return tuple(out)
