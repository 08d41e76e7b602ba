"""
The catalog as fideslang resources: one ``System`` per service, as a fides YAML manifest.

Each service becomes a system whose privacy declarations map our purposes to fideslang data
uses and our data types to keys of fideslang's default data-category taxonomy. fideslang 3
has no data qualifiers any more, so declarations are split by purpose *and* qualifier, the
qualifier is named in the declaration's name, and pseudonymized identifiers map to
``user.unique_id.pseudonymous``. The data subjects are always ``customer``.
"""

from __future__ import annotations

from typing import Any

import yaml

from charter.catalog.catalog import Catalog
from charter.catalog.model import InventoryRow, Service
from charter.catalog.render._answers import resolve, shared_for
from charter.catalog.render._content import market_rules, refused_everywhere, service_regions
from charter.taxonomy import PURPOSES, QUALIFIERS, Category, Purpose, Qualifier

DATA_USES: dict[Purpose, str] = {
    Purpose.APP_FUNCTIONALITY: "essential.service",
    Purpose.PERSONALIZATION: "personalize",
    Purpose.ANALYTICS: "analytics.reporting",
    Purpose.ADVERTISING: "marketing.advertising",
    Purpose.MODEL_TRAINING: "train_ai_system",
}
"""The fideslang data use of each purpose."""

DATA_SUBJECTS: tuple[str, ...] = ("customer",)
"""The data subjects of every declaration: the people using the services."""

_BY_TYPE: dict[str, str] = {
    # built-in vocabulary
    "account_id": "user.unique_id",
    "advertising_id": "user.device.device_id",
    "android_id": "user.device.device_id",
    "imei": "user.device.device_id",
    "mac_address": "user.device.device_id",
    "device_id": "user.device.device_id",
    "name": "user.name",
    "email_address": "user.contact.email",
    "phone_number": "user.contact.phone_number",
    "country": "user.contact.address.country",
    "precise_location": "user.location.precise",
    "coarse_location": "user.location.imprecise",
    "purchase_history": "user.behavior.purchase_history",
    "search_history": "user.behavior.search_history",
    "browsing_history": "user.behavior.browsing_history",
    "contacts": "user.social",
    "device_and_system_specs": "user.device",
    # types the reference catalog declares
    "union_id": "user.unique_id.pseudonymous",
    "calendar_events": "user.content.private",
    "home_screen_settings": "user.device",
    "wifi_settings": "user.device",
    "app_list": "user.device",
    "device_model": "user.device",
    "network_type": "user.device",
    "operator_network_type": "user.device",
    "locale_region_settings": "user.device",
    "sim_slot_number": "user.device",
    "profile_data": "user.demographic.profile",
    "accelerometer_network": "user.sensor",
    "account_password": "user.authorization.password",
    "country_region_setting": "user.account.settings",
    "content_consumption_data": "user.behavior.media_consumption",
    "video_usage_data": "user.behavior.media_consumption",
    "channel_subscription": "user.behavior.media_consumption",
    "search_keywords": "user.behavior.search_history",
    "card_number": "user.financial.credit_card",
    "card_valid_to": "user.financial.credit_card",
    "card_cvv": "user.financial.credit_card",
    "upi_id": "user.financial.bank_account",
    "points_redeem_records": "user.financial",
    "*_consumer_number": "user.financial",
    "face_features": "user.biometric",
    "fingerprint_features": "user.biometric.fingerprint",
}
"""fideslang data category of our data types (own id first, then the built-in type it refines)."""

_BY_CATEGORY: dict[Category, str] = {
    Category.IDENTIFIERS: "user.device.device_id",
    Category.CONTACT_INFO: "user.contact",
    Category.LOCATION: "user.location",
    Category.USAGE_DATA: "user.behavior",
    Category.DIAGNOSTICS: "user.telemetry",
    Category.PURCHASES: "user.behavior.purchase_history",
    Category.FINANCIAL_INFO: "user.financial",
    Category.SEARCH_HISTORY: "user.behavior.search_history",
    Category.BROWSING_HISTORY: "user.behavior.browsing_history",
    Category.USER_CONTENT: "user.content.private",
    Category.CONTACTS: "user.social",
    Category.DEVICE_INFO: "user.device",
    Category.OTHER_DATA: "user",
}
"""fideslang data category of a data type with no entry of its own, by category."""


def data_category(catalog: Catalog, row: InventoryRow) -> str:
    """The fideslang data category of an inventory row."""
    if row.category is Category.IDENTIFIERS and row.qualifier is not Qualifier.IDENTIFIED:
        return "user.unique_id.pseudonymous"
    return resolve(catalog, row.type, _BY_TYPE, row.category, _BY_CATEGORY)


def _declarations(catalog: Catalog, service: Service) -> list[dict[str, Any]]:
    groups: dict[tuple[Purpose, Qualifier], list[InventoryRow]] = {}
    for row in service.inventory:
        for purpose in row.purposes:
            if not refused_everywhere(catalog, service, row.type, purpose):
                groups.setdefault((purpose, row.qualifier), []).append(row)
    out: list[dict[str, Any]] = []
    for (purpose, qualifier), rows in groups.items():
        qualified = f"{QUALIFIERS[qualifier].label.lower()} data"
        categories = list(dict.fromkeys(data_category(catalog, r) for r in rows))
        recipients = list(
            dict.fromkeys(x for r in rows for x in shared_for(service, r.type, purpose))
        )
        shared = list(
            dict.fromkeys(
                data_category(catalog, r) for r in rows if shared_for(service, r.type, purpose)
            )
        )
        out.append(
            {
                "name": f"{service.name}: {PURPOSES[purpose].label} ({qualified})",
                "data_categories": categories,
                "data_use": DATA_USES[purpose],
                "data_subjects": list(DATA_SUBJECTS),
                "retention_period": "; ".join(dict.fromkeys(r.retention.label for r in rows)),
                "data_shared_with_third_parties": bool(recipients),
                "third_parties": "; ".join(recipients) or None,
                "shared_categories": shared,
            }
        )
    return out


def system(catalog: Catalog, service: Service) -> dict[str, Any]:
    """The fideslang ``System`` resource of one service, as plain data."""
    regions = service_regions(catalog, service)
    mechanisms = [r.transfer_mechanism for r in regions if r.transfer_mechanism]
    bases = ["SCCs" if "Standard Contractual Clauses" in m else "Other" for m in mechanisms]
    return {
        "fides_key": f"{catalog.info.id}.{service.id}",
        "organization_fides_key": "default_organization",
        "name": service.name,
        "description": service.summary,
        "system_type": "Service",
        "processes_personal_data": not service.on_device_only and bool(service.inventory),
        "does_international_transfers": bool(mechanisms),
        "legal_basis_for_transfers": list(dict.fromkeys(bases)),
        "privacy_declarations": [] if service.on_device_only else _declarations(catalog, service),
        "meta": {
            "charter_catalog": catalog.info.id,
            "charter_catalog_version": catalog.info.version,
            "charter_service": service.id,
            "on_device_only": service.on_device_only,
            "controllers": [f"{r.name}: {r.controller}" for r in regions if r.controller],
            "markets": service.markets.model_dump(mode="json"),
            "market_rules": market_rules(service),
        },
    }


def manifest(catalog: Catalog, services: tuple[Service, ...]) -> dict[str, Any]:
    """A fides manifest holding one ``System`` per service."""
    return {"system": [system(catalog, s) for s in services]}


def render(catalog: Catalog, services: tuple[Service, ...], whole: bool) -> bytes:
    """The fides manifest as YAML."""
    del whole  # one document shape, whether for one service or all
    text = yaml.safe_dump(
        manifest(catalog, services), sort_keys=False, allow_unicode=True, width=100
    )
    return text.encode("utf-8")
