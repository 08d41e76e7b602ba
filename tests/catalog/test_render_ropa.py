"""
The record of processing activities: one CSV row per service x inventory row x purpose.
"""

from __future__ import annotations

import csv
import io

import pytest

from charter.catalog import Catalog, load_catalog
from charter.catalog.render import render_catalog
from charter.taxonomy import CATEGORIES, PURPOSES, QUALIFIERS

COLUMNS = [
    "service_id",
    "service",
    "data_type",
    "data_type_label",
    "category",
    "purpose",
    "qualifier",
    "transit",
    "at_rest_declared",
    "at_rest_applied",
    "retention",
    "markets",
    "third_parties",
    "controller",
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def read(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    return list(reader.fieldnames or []), list(reader)


def test_rows_match_the_catalog(catalog: Catalog) -> None:
    header, records = read(render_catalog(catalog, "ropa"))
    assert header == COLUMNS
    expected = [
        (s, r, p) for s in catalog if not s.on_device_only for r in s.inventory for p in r.purposes
    ]
    assert len(records) == sum(
        len(r.purposes) for s in catalog if not s.on_device_only for r in s.inventory
    )
    for record, (service, row, purpose) in zip(records, expected, strict=True):
        assert record["service_id"] == service.id
        assert record["service"] == service.name
        assert record["data_type"] == row.type
        assert record["data_type_label"] == catalog.type_label(row.type)
        assert record["category"] == CATEGORIES[row.category].label
        assert record["purpose"] == PURPOSES[purpose].label
        assert record["qualifier"] == QUALIFIERS[row.qualifier].label
        assert record["retention"] == row.retention.label
        recipients = {
            tp.recipient
            for f in service.functions
            for tp in f.third_parties
            if row.type in tp.types and tp.purpose == purpose
        }
        assert set(filter(None, record["third_parties"].split("; "))) == recipients


def test_weak_algorithms_are_reconciled(catalog: Catalog) -> None:
    _, records = read(render_catalog(catalog, "ropa", service="pay"))
    imei = next(r for r in records if r["data_type"] == "imei")
    assert imei["at_rest_declared"] == "AES-128"
    assert imei["at_rest_applied"] == "Field encryption"
    assert imei["transit"] == "HTTPS, AES (declared: AES-128)"
    assert imei["markets"] == "in"
    assert imei["controller"] == ""  # India declares no controller


def test_controller_from_regions(catalog: Catalog) -> None:
    _, records = read(render_catalog(catalog, "ropa", service="cloud"))
    assert records and all(r["markets"] == "all" for r in records)
    eu = catalog.regions["eu"]
    assert all(f"{eu.name}: {eu.controller}" in r["controller"] for r in records)


def test_csv_quoting_survives_commas(catalog: Catalog) -> None:
    _, records = read(render_catalog(catalog, "ropa", service="pay"))
    assert any("," in r["transit"] for r in records)
    assert all(len(r) == len(COLUMNS) for r in records)
