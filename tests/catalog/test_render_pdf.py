"""
The PDF white paper: a real PDF whose text names every service.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

from charter.catalog import Catalog, load_catalog
from charter.catalog.render import render_catalog


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def pdf(catalog: Catalog) -> bytes:
    return render_catalog(catalog, "pdf")


def pdf_text(data: bytes, tmp_path: Path) -> str:
    """The text of a PDF by pdftotext (poppler-utils), else pypdf; skip when neither exists."""
    if shutil.which("pdftotext"):
        source = tmp_path / "paper.pdf"
        source.write_bytes(data)
        done = subprocess.run(
            ["pdftotext", "-layout", str(source), "-"], capture_output=True, check=True
        )
        return done.stdout.decode("utf-8")
    pypdf = pytest.importorskip("pypdf", reason="needs pdftotext (poppler-utils) or pypdf")

    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_is_a_pdf(pdf: bytes) -> None:
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")


def test_names_every_service(pdf: bytes, catalog: Catalog, tmp_path: Path) -> None:
    text = " ".join(pdf_text(pdf, tmp_path).split())
    for service in catalog:
        assert service.name in text, service.name
    assert "Regions and storage locations" in text
    assert "Page 1 of" in text


def test_one_service(catalog: Catalog, tmp_path: Path) -> None:
    data = render_catalog(catalog, "pdf", service="cloud")
    text = " ".join(pdf_text(data, tmp_path).split())
    assert "Xiaomi Cloud" in text and "Mi Pay" not in text
