"""
The renderer registry: every format renders, unknown formats and services are refused.
"""

from __future__ import annotations

import pytest

from charter.catalog import Catalog, load_catalog
from charter.catalog.render import EXTENSIONS, FORMATS, MEDIA_TYPES, render_catalog
from charter.errors import InputError


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_formats() -> None:
    assert FORMATS == ("md", "html", "pdf", "apple", "datasafety", "fideslang", "ropa")
    assert set(MEDIA_TYPES) == set(EXTENSIONS) == set(FORMATS)


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "pdf"])
def test_every_format_renders_every_service(catalog: Catalog, fmt: str) -> None:
    whole = render_catalog(catalog, fmt)
    assert isinstance(whole, bytes) and whole
    whole.decode("utf-8")
    for service in catalog:
        assert render_catalog(catalog, fmt, service=service.id)


def test_rendering_is_deterministic(catalog: Catalog) -> None:
    for fmt in ("md", "html", "apple", "datasafety", "fideslang", "ropa"):
        assert render_catalog(catalog, fmt) == render_catalog(catalog, fmt)


def test_unknown_format(catalog: Catalog) -> None:
    with pytest.raises(InputError) as caught:
        render_catalog(catalog, "markdown")
    assert "unknown render format 'markdown'" in caught.value.message
    assert "md, html, pdf" in caught.value.message
    assert caught.value.field == "format"


def test_unknown_service(catalog: Catalog) -> None:
    with pytest.raises(InputError) as caught:
        render_catalog(catalog, "md", service="clodu")
    assert "unknown service 'clodu'" in caught.value.message
    assert "did you mean 'cloud'" in caught.value.message.lower()
    assert caught.value.field == "service"
