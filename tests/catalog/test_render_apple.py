"""
App Store "App Privacy" answers: valid against a schema written from Apple's published lists,
and true to the catalog.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from charter.catalog import Catalog, load_catalog
from charter.catalog.render import render_catalog

SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "apple_app_privacy.schema.json").read_text()
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def answers(catalog: Catalog) -> dict[str, dict[str, Any]]:
    document = json.loads(render_catalog(catalog, "apple"))
    return {app["service_id"]: app for app in document["apps"]}


def test_schema_is_valid() -> None:
    Draft202012Validator.check_schema(SCHEMA)


def test_whole_document_validates(catalog: Catalog) -> None:
    document = json.loads(render_catalog(catalog, "apple"))
    errors = list(Draft202012Validator(SCHEMA).iter_errors(document))
    assert not errors, [e.message for e in errors[:5]]
    assert [a["service_id"] for a in document["apps"]] == list(catalog.services)


def test_every_service_validates(catalog: Catalog) -> None:
    validator = Draft202012Validator(SCHEMA)
    for service in catalog:
        document = json.loads(render_catalog(catalog, "apple", service=service.id))
        errors = list(validator.iter_errors(document))
        assert not errors, (service.id, [e.message for e in errors[:5]])
        assert [a["service_id"] for a in document["apps"]] == [service.id]


def test_on_device_only_is_not_collected(
    catalog: Catalog, answers: dict[str, dict[str, Any]]
) -> None:
    on_device = [s.id for s in catalog if s.on_device_only]
    assert on_device
    for sid in on_device:
        assert answers[sid]["label"] == "Data Not Collected"
        assert answers[sid]["data_types"] == []


def test_not_stored_rows_are_excluded(catalog: Catalog, answers: dict[str, dict[str, Any]]) -> None:
    seen = False
    for service in catalog:
        if service.on_device_only:
            continue
        sources = {t for d in answers[service.id]["data_types"] for t in d["sources"]}
        excluded = {e["type"] for e in answers[service.id]["excluded"]}
        for row in service.inventory:
            if row.retention.kind == "not_stored":
                seen = True
                assert row.type in excluded
            else:
                assert row.type in sources
        assert sources.isdisjoint(
            excluded - {r.type for r in service.inventory if r.retention.kind != "not_stored"}
        )
    assert seen, "the reference catalog has not-stored rows (e.g. Mi Pay's precise location)"


def test_linked_and_tracking(catalog: Catalog, answers: dict[str, dict[str, Any]]) -> None:
    cloud = {d["data_type"]: d for d in answers["cloud"]["data_types"]}
    assert cloud["User ID"]["linked_to_user"] is True
    assert cloud["Photos or Videos"]["purposes"] == ["App Functionality"]
    assert not any(d["used_for_tracking"] for d in cloud.values())
    ads = {d["data_type"]: d for d in answers["advertisement"]["data_types"]}
    # the advertising ID goes to Google and Facebook for advertising: tracking
    assert ads["Device ID"]["used_for_tracking"] is True
    assert "Third-Party Advertising" in ads["Device ID"]["purposes"]
    assert ads["Advertising Data"]["used_for_tracking"] is False
    assert "Device ID" in answers["advertisement"]["privacy_label"]["data_used_to_track_you"]
    # tracking is claimed only where a third party receives the type for advertising
    for service in catalog:
        shared = {
            t
            for f in service.functions
            for tp in f.third_parties
            if tp.purpose == "advertising"
            for t in tp.types
        }
        for d in answers[service.id]["data_types"]:
            assert d["used_for_tracking"] == bool(shared & set(d["sources"])), (service.id, d)


def test_pseudonymized_only_is_not_linked(
    catalog: Catalog, answers: dict[str, dict[str, Any]]
) -> None:
    for service in catalog:
        qualifiers: dict[str, set[str]] = {}
        for row in service.inventory:
            qualifiers.setdefault(row.type, set()).add(row.qualifier)
        for d in answers[service.id]["data_types"]:
            identified = any("identified" in qualifiers[t] for t in d["sources"])
            assert d["linked_to_user"] == identified, (service.id, d["data_type"])


def test_schema_rejects_what_apple_does_not_know(catalog: Catalog) -> None:
    validator = Draft202012Validator(SCHEMA)
    document = json.loads(render_catalog(catalog, "apple", service="cloud"))
    entry = document["apps"][0]["data_types"][0]
    for field, bad in (
        ("data_type", "Account Identifier"),
        ("purposes", ["Marketing"]),
        ("category", "Location"),
    ):
        broken = json.loads(json.dumps(document))
        broken["apps"][0]["data_types"][0] = {**entry, field: bad}
        assert not validator.is_valid(broken), field
