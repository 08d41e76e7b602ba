"""
The white paper as one self-contained HTML page (Jinja2, autoescaped).

The page carries its own screen and print stylesheets; the print one (A4, page numbers,
table headers repeated, rows never split) is what :mod:`charter.catalog.render.pdf` uses.
"""

from __future__ import annotations

import re
from functools import cache

import jinja2
from markupsafe import Markup, escape

from charter.catalog.catalog import Catalog
from charter.catalog.model import Service
from charter.catalog.render import _content
from charter.catalog.render._table import COLUMNS, TableRow, inventory_table, protection_notes

_NEWLINES = re.compile(r"\r\n|\r|\n")


def lines(text: str) -> Markup:
    """Escape ``text`` and turn its newlines into ``<br>``."""
    return Markup("<br>").join(escape(part) for part in _NEWLINES.split(text))


@cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment of the package's templates, autoescape on."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("charter.catalog.render", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["lines"] = lines
    return env


def _service_context(catalog: Catalog, service: Service) -> dict[str, object]:
    table: tuple[TableRow, ...] = inventory_table(catalog, service)
    return {
        "service": service,
        "anchor": _content.anchor(service.id),
        "markets": _content.markets_text(catalog, service.markets),
        "rows": table,
        "notes": protection_notes(service),
        "functions": tuple(_content.function_view(catalog, f) for f in service.functions),
        "controls": _content.controls(catalog, service),
        "rules": _content.rules(catalog, service),
    }


def render_text(catalog: Catalog, services: tuple[Service, ...], whole: bool) -> str:
    """The HTML page of ``services``; ``whole`` adds contents, vocabulary and regions."""
    info = catalog.info
    title = f"{info.name}: privacy white paper" if whole else f"{info.name}: {services[0].name}"
    template = environment().get_template("document.html.j2")
    return template.render(
        title=title,
        info=info,
        whole=whole,
        columns=COLUMNS,
        services=tuple(_service_context(catalog, s) for s in services),
        vocabulary=_content.vocabulary(),
        region_rows=_content.region_rows(catalog),
        region_details=_content.region_details(catalog),
        switches=_content.switches(catalog),
    )


def render(catalog: Catalog, services: tuple[Service, ...], whole: bool) -> bytes:
    """The HTML page, UTF-8 encoded."""
    return render_text(catalog, services, whole).encode("utf-8")
