"""
fideslang export: parsed by fideslang's own models, every key in its default taxonomy.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from fideslang.default_taxonomy import DEFAULT_TAXONOMY
from fideslang.models import System, Taxonomy

from charter.catalog import Catalog, load_catalog
from charter.catalog.render import render_catalog

CATEGORIES = {c.fides_key for c in DEFAULT_TAXONOMY.data_category}
USES = {u.fides_key for u in DEFAULT_TAXONOMY.data_use}
SUBJECTS = {s.fides_key for s in DEFAULT_TAXONOMY.data_subject}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def manifest(catalog: Catalog) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(render_catalog(catalog, "fideslang"))
    return data


def test_parses_as_fideslang_taxonomy(manifest: dict[str, Any], catalog: Catalog) -> None:
    taxonomy = Taxonomy.model_validate(manifest)
    assert [s.fides_key for s in taxonomy.system] == [
        f"{catalog.info.id}.{s}" for s in catalog.services
    ]
    for raw in manifest["system"]:
        System.model_validate(raw)


def test_keys_exist_in_default_taxonomy(manifest: dict[str, Any]) -> None:
    taxonomy = Taxonomy.model_validate(manifest)
    for system in taxonomy.system:
        for declaration in system.privacy_declarations:
            assert set(declaration.data_categories) <= CATEGORIES, declaration.data_categories
            assert set(declaration.shared_categories) <= set(declaration.data_categories)
            assert declaration.data_use in USES
            assert set(declaration.data_subjects) <= SUBJECTS


def test_declarations_cover_the_inventory(manifest: dict[str, Any], catalog: Catalog) -> None:
    uses = {
        "app_functionality": "essential.service",
        "personalization": "personalize",
        "analytics": "analytics.reporting",
        "advertising": "marketing.advertising",
    }
    systems = {s.fides_key: s for s in Taxonomy.model_validate(manifest).system}
    for service in catalog:
        system = systems[f"{catalog.info.id}.{service.id}"]
        declared = {d.data_use for d in system.privacy_declarations}
        wanted = {uses[p] for r in service.inventory for p in r.purposes}
        assert declared == (set() if service.on_device_only else wanted)


def test_examples(manifest: dict[str, Any]) -> None:
    systems = {s.fides_key: s for s in Taxonomy.model_validate(manifest).system}
    pay = systems["miui12.pay"]
    categories = {c for d in pay.privacy_declarations for c in d.data_categories}
    assert {
        "user.contact.email",
        "user.location.precise",
        "user.financial.bank_account",
    } <= categories
    ads = systems["miui12.advertisement"]
    assert {d.data_use for d in ads.privacy_declarations} == {"marketing.advertising"}
    assert any(d.data_shared_with_third_parties for d in ads.privacy_declarations)


def test_one_service(catalog: Catalog) -> None:
    data = yaml.safe_load(render_catalog(catalog, "fideslang", service="cloud"))
    assert [s.fides_key for s in Taxonomy.model_validate(data).system] == ["miui12.cloud"]
