"""
Renderers of a catalog: the white paper (Markdown, HTML, PDF) and machine-readable answers.

:func:`render_catalog` is the one entry point; :data:`FORMATS` lists what it can produce:

- ``md``, ``html``, ``pdf``: the white paper regenerated from the catalog;
- ``apple``: App Store "App Privacy" answers per service (JSON);
- ``datasafety``: Google Play "Data safety" answers per service (JSON);
- ``fideslang``: fideslang ``System`` resources, one per service (YAML);
- ``ropa``: a record of processing activities (CSV).
"""

from __future__ import annotations

from collections.abc import Callable

from charter.catalog.catalog import Catalog
from charter.catalog.model import Service
from charter.catalog.suggest import closest
from charter.errors import InputError

FORMATS: tuple[str, ...] = ("md", "html", "pdf", "apple", "datasafety", "fideslang", "ropa")
"""Every format :func:`render_catalog` produces."""

MEDIA_TYPES: dict[str, str] = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "apple": "application/json",
    "datasafety": "application/json",
    "fideslang": "application/yaml",
    "ropa": "text/csv; charset=utf-8",
}
"""The media type of each format's output."""

EXTENSIONS: dict[str, str] = {
    "md": "md",
    "html": "html",
    "pdf": "pdf",
    "apple": "json",
    "datasafety": "json",
    "fideslang": "yml",
    "ropa": "csv",
}
"""The usual file extension of each format's output."""

Renderer = Callable[[Catalog, tuple[Service, ...], bool], bytes]
"""A format's renderer: the catalog, the services to render, and whether that is all of them."""


def _renderer(fmt: str) -> Renderer:
    # Imported lazily: WeasyPrint and fideslang-sized work is paid only by the format asked for.
    if fmt == "md":
        from charter.catalog.render.markdown import render  # noqa: PLC0415
    elif fmt == "html":
        from charter.catalog.render.html import render  # noqa: PLC0415
    elif fmt == "pdf":
        from charter.catalog.render.pdf import render  # noqa: PLC0415
    elif fmt == "apple":
        from charter.catalog.render.apple import render  # noqa: PLC0415
    elif fmt == "datasafety":
        from charter.catalog.render.datasafety import render  # noqa: PLC0415
    elif fmt == "fideslang":
        from charter.catalog.render.fideslang import render  # noqa: PLC0415
    else:
        from charter.catalog.render.ropa import render  # noqa: PLC0415
    return render


def render_catalog(catalog: Catalog, fmt: str, *, service: str | None = None) -> bytes:
    """
    Render a catalog, or one of its services, in a format of :data:`FORMATS`.

    Args:
        catalog: a loaded catalog.
        fmt: one of :data:`FORMATS`.
        service: a service id to render that service only.

    Returns:
        The rendered document (UTF-8 text for every format but ``pdf``).

    Raises:
        InputError: the format or the service is unknown.
    """
    if fmt not in FORMATS:
        hint = closest(fmt, FORMATS)
        did_you_mean = f" Did you mean {hint!r}?" if hint else ""
        raise InputError(
            f"unknown render format {fmt!r}; use one of: {', '.join(FORMATS)}.{did_you_mean}",
            field="format",
        )
    if service is None:
        return _renderer(fmt)(catalog, tuple(catalog), True)
    if service not in catalog.services:
        hint = closest(service, catalog.services)
        did_you_mean = f" Did you mean {hint!r}?" if hint else ""
        raise InputError(
            f"unknown service {service!r} in catalog {catalog.info.id!r}; "
            f"use one of: {', '.join(catalog.services)}.{did_you_mean}",
            field="service",
        )
    return _renderer(fmt)(catalog, (catalog.services[service],), False)


__all__ = ["EXTENSIONS", "FORMATS", "MEDIA_TYPES", "render_catalog"]
