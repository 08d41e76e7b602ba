"""
The HTML white paper, read back with the standard library's HTML parser.
"""

from __future__ import annotations

import dataclasses
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from charter.catalog import Catalog, InventoryRow, load_catalog
from charter.catalog.render import render_catalog

EXPECTED = Path(__file__).parent / "expected_tables"


@cache
def reference() -> Catalog:
    """The built-in catalog, loaded once."""
    return load_catalog()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return reference()


class Tables(HTMLParser):
    """Collects every table's cells as text (``<br>`` read as a newline), and element ids."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.tags: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(str(attributes["id"]))
        if tag == "a" and attributes.get("href"):
            self.hrefs.append(str(attributes["href"]))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse(html: str) -> Tables:
    parser = Tables()
    parser.feed(html)
    parser.close()
    return parser


def carry_forward(rows: list[list[str]]) -> list[list[str]]:
    out: list[list[str]] = []
    category = type_ = ""
    for row in rows:
        category = row[0] or category
        type_ = row[1] or (type_ if not row[0] else "")
        out.append([category, type_, *row[2:]])
    return out


@pytest.mark.parametrize("service_id", ["cloud", "pay"])
def test_html_table_matches_seed(catalog: Catalog, service_id: str) -> None:
    lines = (EXPECTED / f"{service_id}.tsv").read_text(encoding="utf-8").splitlines()
    expected = [line.split("\t") for line in lines if line.strip()]
    tables = parse(render_catalog(catalog, "html", service=service_id).decode()).tables
    inventory = [t for t in tables if t[0] == expected[0]]
    assert len(inventory) == 1
    assert carry_forward(inventory[0][1:]) == carry_forward(expected[1:])


def test_document_anchors_resolve(catalog: Catalog) -> None:
    page = parse(render_catalog(catalog, "html").decode())
    targets = [h[1:] for h in page.hrefs if h.startswith("#")]
    assert {"vocabulary", "regions", "system-switches"} <= set(targets)
    assert {f"service-{s.id}" for s in catalog} <= set(targets)
    assert set(targets) <= page.ids
    regions = [
        t
        for t in page.tables
        if t[0] == ["Region", "Cloud Service Providers", "Data Storage Locations"]
    ]
    assert len(regions) == 1
    assert "script" not in page.tags


FRAGMENT = st.one_of(
    st.sampled_from(["<", ">", "&", '"', "'", "|", "\n", "\r", " ", "a"]),
    st.sampled_from(["<script>alert(1)</script>", "&amp;", "<br>", "]]>", "{{ x }}"]),
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")),
)
TEXT = st.lists(FRAGMENT, max_size=6).map("".join)
KEYS = ("category", "type", "qualifier", "purposes", "transit", "at_rest", "retention")


def expected_cells(printed: list[dict[str, str]]) -> list[list[str]]:
    """Overrides verbatim (newlines normalised), repeated category/type runs blanked."""
    out: list[list[str]] = []
    previous: list[str] | None = None
    for p in printed:
        full = [re.sub(r"\r\n|\r", "\n", p[k]) for k in KEYS]
        same_category = previous is not None and full[0] == previous[0]
        same_type = same_category and previous is not None and full[1] == previous[1]
        out.append(["" if same_category else full[0], "" if same_type else full[1], *full[2:]])
        previous = full
    return out


@settings(max_examples=60, deadline=None)
@given(
    printed=st.lists(st.fixed_dictionaries({k: TEXT for k in KEYS}), min_size=1, max_size=3),
    name=TEXT.filter(lambda s: s.strip() != ""),
)
def test_markup_is_escaped(printed: list[dict[str, str]], name: str) -> None:
    catalog = reference()
    base = catalog.services["cloud"]
    rows = tuple(
        InventoryRow.model_validate({**base.inventory[0].model_dump(), "printed": p})
        for p in printed
    )
    function = base.functions[0].model_copy(update={"name": name, "description": name})
    service = base.model_copy(
        update={"inventory": rows, "name": name, "summary": name, "functions": (function,)}
    )
    fake = dataclasses.replace(catalog, services={"cloud": service})
    page = parse(render_catalog(fake, "html", service="cloud").decode())
    assert "script" not in page.tags
    assert page.tags.count("table") == 1
    assert page.tables[0][1:] == expected_cells(printed)
