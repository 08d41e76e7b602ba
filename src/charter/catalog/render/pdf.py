"""
The white paper as PDF: the HTML page printed by WeasyPrint with its print stylesheet.

The result is an A4 document with page numbers, a contents list with page references and
table headers repeated on every page, fit to hand to an auditor.
"""

from __future__ import annotations

import logging

from charter.catalog.catalog import Catalog
from charter.catalog.model import Service
from charter.catalog.render.html import render_text


def render(catalog: Catalog, services: tuple[Service, ...], whole: bool) -> bytes:
    """The PDF document of ``services`` (WeasyPrint, print media)."""
    import weasyprint  # noqa: PLC0415 - heavy import, paid only when a PDF is asked for

    # WeasyPrint logs every unsupported CSS property at WARNING; the page is ours and known.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    page = render_text(catalog, services, whole)
    document = weasyprint.HTML(string=page, base_url=None, media_type="print")
    pdf: bytes = document.write_pdf()
    return pdf
