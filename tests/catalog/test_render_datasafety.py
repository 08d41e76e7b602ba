"""
Google Play "Data safety" answers: valid against a schema written from Google's published
lists, and true to the catalog.
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
    (Path(__file__).parent / "schemas" / "google_data_safety.schema.json").read_text()
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def answers(catalog: Catalog) -> dict[str, dict[str, Any]]:
    document = json.loads(render_catalog(catalog, "datasafety"))
    return {app["service_id"]: app for app in document["apps"]}


def test_schema_is_valid() -> None:
    Draft202012Validator.check_schema(SCHEMA)


def test_every_service_validates(catalog: Catalog) -> None:
    validator = Draft202012Validator(SCHEMA)
    whole = json.loads(render_catalog(catalog, "datasafety"))
    assert not list(validator.iter_errors(whole))
    for service in catalog:
        document = json.loads(render_catalog(catalog, "datasafety", service=service.id))
        errors = list(validator.iter_errors(document))
        assert not errors, (service.id, [e.message for e in errors[:5]])


def test_collection_and_sharing(catalog: Catalog, answers: dict[str, dict[str, Any]]) -> None:
    for service in catalog:
        app = answers[service.id]
        collected = {t for d in app["data_types"] if d["collected"] for t in d["sources"]}
        if service.on_device_only:
            assert not app["data_collected"]
            continue
        assert {r.type for r in service.inventory} <= collected
        shared = {t for f in service.functions for tp in f.third_parties for t in tp.types}
        got = {t for d in app["data_types"] if d["shared"] for t in d["sources"]}
        assert shared <= got
        assert app["data_shared"] == bool(shared)


def test_ephemeral_and_optional(catalog: Catalog, answers: dict[str, dict[str, Any]]) -> None:
    pay = {d["data_type"]: d for d in answers["pay"]["data_types"]}
    assert pay["Precise location"]["processed_ephemerally"] is True
    assert pay["Approximate location"]["processed_ephemerally"] is False
    for service in catalog:
        consent = service.controls.consent
        want = "optional" if consent is not None and consent.asked else "required"
        for d in answers[service.id]["data_types"]:
            if d["collected"]:
                assert d["collection"] == want


def test_security_practices(catalog: Catalog, answers: dict[str, dict[str, Any]]) -> None:
    for service in catalog:
        practices = answers[service.id]["security_practices"]
        rows = () if service.on_device_only else service.inventory
        assert practices["data_encrypted_in_transit"] == all("https" in r.transit for r in rows)
        deletable = bool(service.controls.rights.delete) or any(
            r.retention.kind == "until_deleted" for r in rows
        )
        assert practices["users_can_request_deletion"] == deletable
    assert answers["cloud"]["security_practices"] == {
        "data_encrypted_in_transit": True,
        "users_can_request_deletion": True,
    }


def test_schema_rejects_what_google_does_not_know(catalog: Catalog) -> None:
    validator = Draft202012Validator(SCHEMA)
    document = json.loads(render_catalog(catalog, "datasafety", service="cloud"))
    entry = document["apps"][0]["data_types"][0]
    bad_purposes = {"collection": ["Tracking"], "sharing": []}
    for field, bad in (
        ("data_type", "Device ID"),
        ("purposes", bad_purposes),
        ("category", "Messages"),
    ):
        broken = json.loads(json.dumps(document))
        broken["apps"][0]["data_types"][0] = {**entry, field: bad}
        assert not validator.is_valid(broken), field
