"""The layout keeps its shape: no import cycles between modules (the import-linter contract
in ``scripts/test`` checks the direction of the layers; this checks every module pair), and no
module over about 500 lines outside the migrations."""

from __future__ import annotations

from pathlib import Path

import grimp

import charter

SRC = Path(charter.__file__).parent
MAX_LINES = 520


def test_no_module_imports_itself_back() -> None:
    graph = grimp.build_graph("charter")
    cycles = sorted(
        (module, imported)
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
        if graph.chain_exists(importer=imported, imported=module)
    )
    assert cycles == []


def test_modules_stay_small() -> None:
    sizes = {
        str(path.relative_to(SRC)): len(path.read_text(encoding="utf-8").splitlines())
        for path in SRC.rglob("*.py")
        if "migrations" not in path.parts
    }
    assert len(sizes) > 100
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
