"""
Mutation tests: break a valid catalog in one place and expect one precise error.

Every mutation must raise CatalogError (never another exception, never a partial catalog),
and a problem must point at the mutated file, at the mutated line where the mutation has one.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from charter.catalog import builtin_catalog_path, load_catalog
from charter.errors import CatalogError, Problem

ROW = re.compile(r"^  - \{category: ")


def _rows(text: str) -> list[int]:
    return [i for i, line in enumerate(text.splitlines()) if ROW.match(line)]


def _mutate(
    mutation: Callable[[Path], tuple[str, int | None, str]],
) -> tuple[list[Problem], str, int | None, str]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "catalog"
        shutil.copytree(builtin_catalog_path(), folder)
        file_name, line, needle = mutation(folder)
        with pytest.raises(CatalogError) as info:
            load_catalog(folder)
        return list(info.value.problems), file_name, line, needle


def _edit_line(folder: Path, name: str, index: int, edit: Callable[[str], str]) -> None:
    path = folder / name
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[index] = edit(lines[index])
    path.write_text("".join(lines), encoding="utf-8")


def _assert_reported(
    problems: list[Problem], file_name: str, line: int | None, needle: str
) -> None:
    matching = [p for p in problems if Path(p.file).name == file_name and needle in str(p)]
    assert matching, f"no problem mentions {needle!r} in {file_name}: {problems}"
    if line is not None:
        assert any(p.line == line for p in matching), f"expected line {line}: {matching}"


# Each example copies a catalog folder: few examples, and no slow shrinking of file layouts.
FILE_BASED = settings(max_examples=20, phases=[Phase.explicit, Phase.reuse, Phase.generate])
SERVICE_FILES = (
    "cloud.yaml",
    "account.yaml",
    "themes.yaml",
    "browser.yaml",
    "video.yaml",
    "pay.yaml",
)
garbage = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=3, max_size=12).filter(
    lambda s: (
        s
        not in {"identified", "pseudonymized", "anonymized", "aggregated", "unlinked_pseudonymized"}
    )
)


@FILE_BASED
@given(
    file_name=st.sampled_from(SERVICE_FILES),
    pick=st.integers(min_value=0, max_value=10_000),
    word=garbage,
)
def test_wrong_qualifier_is_reported_at_its_line(file_name: str, pick: int, word: str) -> None:
    def mutation(folder: Path) -> tuple[str, int | None, str]:
        rows = _rows((folder / file_name).read_text(encoding="utf-8"))
        index = rows[pick % len(rows)]
        _edit_line(
            folder,
            file_name,
            index,
            lambda line: re.sub(r"qualifier: \w+", f"qualifier: {word}", line),
        )
        return file_name, index + 1, "qualifier"

    problems, name, line, needle = _mutate(mutation)
    _assert_reported(problems, name, line, needle)


@FILE_BASED
@given(
    file_name=st.sampled_from(SERVICE_FILES),
    pick=st.integers(min_value=0, max_value=10_000),
    field=st.sampled_from(["qualifier", "retention", "at_rest", "purposes", "transit", "category"]),
)
def test_missing_field_is_named(file_name: str, pick: int, field: str) -> None:
    def mutation(folder: Path) -> tuple[str, int | None, str]:
        rows = _rows((folder / file_name).read_text(encoding="utf-8"))
        index = rows[pick % len(rows)]
        value = r"(\[[^\]]*\]|\{[^}]*\}|[\w-]+)"

        def drop(line: str) -> str:
            line = re.sub(r"\{" + field + ": " + value + ", ", "{", line, count=1)
            return re.sub(", " + field + ": " + value, "", line, count=1)

        _edit_line(folder, file_name, index, drop)
        return file_name, index + 1, f"missing required field '{field}'"

    problems, name, line, needle = _mutate(mutation)
    _assert_reported(problems, name, line, needle)


@FILE_BASED
@given(file_name=st.sampled_from(SERVICE_FILES), pick=st.integers(min_value=0, max_value=10_000))
def test_dangling_type_suggests_the_closest(file_name: str, pick: int) -> None:
    def mutation(folder: Path) -> tuple[str, int | None, str]:
        text = (folder / file_name).read_text(encoding="utf-8")
        rows = _rows(text)
        index = rows[pick % len(rows)]
        original = re.search(r"type: (\w+)", text.splitlines()[index])
        assert original is not None
        _edit_line(
            folder,
            file_name,
            index,
            lambda line: line.replace(
                f"type: {original.group(1)}", f"type: {original.group(1)}x", 1
            ),
        )
        return file_name, index + 1, f"did you mean '{original.group(1)}'"

    problems, name, line, needle = _mutate(mutation)
    _assert_reported(problems, name, line, needle)


@FILE_BASED
@given(
    file_name=st.sampled_from(SERVICE_FILES),
    pick=st.integers(min_value=0, max_value=10_000),
    delta=st.sampled_from([1, 3, -1]),
)
def test_bad_indentation_is_located(file_name: str, pick: int, delta: int) -> None:
    def mutation(folder: Path) -> tuple[str, int | None, str]:
        lines = (folder / file_name).read_text(encoding="utf-8").splitlines()
        candidates = [
            i
            for i, line in enumerate(lines)
            if re.match(r"^  [a-z_]+:", line) or re.match(r"^    [a-z_]+: ", line)
        ]
        index = candidates[pick % len(candidates)]

        def shift(line: str) -> str:
            return " " * delta + line if delta > 0 else line[-delta:]

        _edit_line(folder, file_name, index, shift)
        return file_name, None, ""

    problems, name, _line, _needle = _mutate(mutation)
    assert any(Path(p.file).name == name and p.line is not None for p in problems), problems


def test_duplicate_service_id(catalog_copy: Path) -> None:
    shutil.copy(catalog_copy / "themes.yaml", catalog_copy / "themes_copy.yaml")
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_copy)
    line = (catalog_copy / "themes.yaml").read_text(encoding="utf-8").splitlines().index(
        "id: themes"
    ) + 1
    _assert_reported(list(info.value.problems), "themes_copy.yaml", line, "duplicate service id")


def test_unknown_market_suggests(catalog_copy: Path) -> None:
    path = catalog_copy / "pay.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        re.sub(r'available: \["in"\]', 'available: ["ix"]', text, count=1), encoding="utf-8"
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_copy)
    _assert_reported(
        list(info.value.problems), "pay.yaml", None, "names a market not in regions.yaml"
    )


def test_function_purpose_not_in_inventory(catalog_copy: Path) -> None:
    path = catalog_copy / "cloud.yaml"
    text = path.read_text(encoding="utf-8")
    mutated = text.replace(
        "- {type: notes, purposes: [app_functionality]}",
        "- {type: notes, purposes: [advertising]}",
        1,
    )
    assert mutated != text
    path.write_text(mutated, encoding="utf-8")
    line = mutated.splitlines().index("      - {type: notes, purposes: [advertising]}") + 1
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_copy)
    _assert_reported(
        list(info.value.problems),
        "cloud.yaml",
        line,
        "purpose not declared in the inventory for notes",
    )


def test_duplicate_yaml_key(catalog_copy: Path) -> None:
    path = catalog_copy / "cloud.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "name: Another name\n", encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_copy)
    _assert_reported(list(info.value.problems), "cloud.yaml", None, "duplicate key")


def test_wrong_enum_suggests_close_term(catalog_copy: Path) -> None:
    path = catalog_copy / "cloud.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "qualifier: identified", "qualifier: identifed", 1
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_copy)
    _assert_reported(list(info.value.problems), "cloud.yaml", None, "did you mean 'identified'")
