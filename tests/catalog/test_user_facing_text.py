"""
The rendered catalog carries no internal notes (issue 11: "which the seed does not name"
and "the seed does not list exactly what reCaptcha receives" were printed): every format,
whole and per service, is scanned; the PDF is made from the HTML scanned here.
"""

from __future__ import annotations

import pytest

from charter.catalog import Catalog, load_catalog
from charter.catalog.policies import PolicyLibrary
from charter.catalog.render import FORMATS, render_catalog
from support.wording import internal_notes


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "pdf"])
def test_no_format_prints_internal_notes(catalog: Catalog, fmt: str) -> None:
    assert internal_notes(render_catalog(catalog, fmt).decode("utf-8")) == []
    for service in catalog:
        text = render_catalog(catalog, fmt, service=service.id).decode("utf-8")
        assert internal_notes(text) == [], service.id


def test_the_scan_finds_a_note() -> None:
    assert internal_notes("Offered everywhere except where the seed does not name them.")
    assert internal_notes("never stored; kept n/A.")
    assert not internal_notes("Seedless grapes are not a data type; nor is a seedling.")


def test_policies_carry_no_internal_notes() -> None:
    library = PolicyLibrary(None)  # the built-in catalog's policies
    scopes = library.scopes()
    assert scopes
    for scope in scopes:
        for policy in library.versions(scope):
            assert internal_notes(policy.text) == [], policy.path
