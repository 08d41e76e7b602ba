"""
Google Play "Data safety" answers per service, as JSON.

Each data type the service handles is mapped to Google's published data types and purposes:

- *collected*: sent off the device (every inventory row; an on-device-only service collects
  nothing); *processed ephemerally* when every row of the type is ``not_stored``;
- *shared*: a function passes the type to a third party (types passed on without being kept
  appear as shared but not collected);
- *optional* when the service asks for consent before first use, otherwise *required*;
- security practices: encrypted in transit when every row travels over HTTPS; deletion can
  be requested when the service declares a delete right or keeps data until deleted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from charter.catalog.catalog import Catalog
from charter.catalog.model import Service
from charter.catalog.render._answers import catalog_header, resolve
from charter.catalog.render._content import refused_everywhere
from charter.taxonomy import Category, Purpose, RetentionKind, Transit

GOOGLE_DATA_TYPES: dict[str, tuple[str, ...]] = {
    "Location": ("Approximate location", "Precise location"),
    "Personal info": (
        "Name",
        "Email address",
        "User IDs",
        "Address",
        "Phone number",
        "Race and ethnicity",
        "Political or religious beliefs",
        "Sexual orientation",
        "Other info",
    ),
    "Financial info": (
        "User payment info",
        "Purchase history",
        "Credit score",
        "Other financial info",
    ),
    "Health and fitness": ("Health info", "Fitness info"),
    "Messages": ("Emails", "SMS or MMS", "Other in-app messages"),
    "Photos and videos": ("Photos", "Videos"),
    "Audio files": ("Voice or sound recordings", "Music files", "Other audio files"),
    "Files and docs": ("Files and docs",),
    "Calendar": ("Calendar events",),
    "Contacts": ("Contacts",),
    "App activity": (
        "App interactions",
        "In-app search history",
        "Installed apps",
        "Other user-generated content",
        "Other actions",
    ),
    "Web browsing": ("Web browsing history",),
    "App info and performance": ("Crash logs", "Diagnostics", "Other app performance data"),
    "Device or other IDs": ("Device or other IDs",),
}
"""Google's data categories and the data types in each, in Google's order."""

GOOGLE_PURPOSES: tuple[str, ...] = (
    "App functionality",
    "Analytics",
    "Developer communications",
    "Advertising or marketing",
    "Fraud prevention, security, and compliance",
    "Personalization",
    "Account management",
)
"""Google's purposes, in Google's order."""

GOOGLE_CATEGORY_OF: dict[str, str] = {t: c for c, types in GOOGLE_DATA_TYPES.items() for t in types}
"""The Google category of each Google data type."""

_BY_TYPE: dict[str, tuple[str, ...]] = {
    # built-in vocabulary
    "account_id": ("User IDs",),
    "advertising_id": ("Device or other IDs",),
    "android_id": ("Device or other IDs",),
    "imei": ("Device or other IDs",),
    "mac_address": ("Device or other IDs",),
    "device_id": ("Device or other IDs",),
    "name": ("Name",),
    "email_address": ("Email address",),
    "phone_number": ("Phone number",),
    "country": ("Other info",),
    "precise_location": ("Precise location",),
    "coarse_location": ("Approximate location",),
    "product_interaction": ("App interactions",),
    "advertising_data": ("App interactions",),
    "app_usage_data": ("Other actions",),
    "crash_data": ("Crash logs",),
    "performance_data": ("Diagnostics",),
    "device_and_system_specs": ("Other app performance data",),
    "purchase_history": ("Purchase history",),
    "search_history": ("In-app search history",),
    "browsing_history": ("Web browsing history",),
    "contacts": ("Contacts",),
    # types the reference catalog declares
    "text_messages": ("SMS or MMS",),
    "photos_videos": ("Photos", "Videos"),
    "recordings": ("Voice or sound recordings",),
    "call_history": ("Other actions",),
    "notes": ("Other user-generated content",),
    "frequent_phrase": ("Other user-generated content",),
    "comments": ("Other user-generated content",),
    "calendar_events": ("Calendar events",),
    "home_screen_settings": ("Installed apps",),
    "app_list": ("Installed apps",),
    "profile_data": ("Other info",),
    "device_model": ("Other app performance data",),
    "network_type": ("Diagnostics",),
    "operator_network_type": ("Diagnostics",),
    "accelerometer_network": ("Diagnostics",),
    "content_consumption_data": ("App interactions",),
    "video_usage_data": ("App interactions",),
    "channel_subscription": ("App interactions",),
    "resource_download_record": ("App interactions",),
    "favorite_resource_list": ("App interactions",),
    "search_keywords": ("In-app search history",),
    "card_number": ("User payment info",),
    "card_valid_to": ("User payment info",),
    "card_cvv": ("User payment info",),
    "upi_id": ("User payment info",),
    "transaction_record": ("Purchase history",),
    "points_redeem_records": ("Other financial info",),
    "*_consumer_number": ("Other financial info",),
    "union_id": ("User IDs",),
}
"""Google data types of our data types (own id first, then the built-in type it refines)."""

_BY_CATEGORY: dict[Category, tuple[str, ...]] = {
    Category.IDENTIFIERS: ("Device or other IDs",),
    Category.CONTACT_INFO: ("Other info",),
    Category.LOCATION: ("Approximate location",),
    Category.USAGE_DATA: ("App interactions",),
    Category.DIAGNOSTICS: ("Other app performance data",),
    Category.PURCHASES: ("Purchase history",),
    Category.FINANCIAL_INFO: ("Other financial info",),
    Category.SEARCH_HISTORY: ("In-app search history",),
    Category.BROWSING_HISTORY: ("Web browsing history",),
    Category.USER_CONTENT: ("Other user-generated content",),
    Category.CONTACTS: ("Contacts",),
    Category.DEVICE_INFO: ("Device or other IDs",),
    Category.OTHER_DATA: ("Other info",),
}
"""Google data types of a data type that has no entry of its own, by category."""

_PURPOSES: dict[Purpose, str] = {
    Purpose.APP_FUNCTIONALITY: "App functionality",
    Purpose.PERSONALIZATION: "Personalization",
    Purpose.ANALYTICS: "Analytics",
    Purpose.ADVERTISING: "Advertising or marketing",
    Purpose.MODEL_TRAINING: "Analytics",  # Google's form has no purpose of its own for it
}

_EXTRA_PURPOSES: dict[str, str] = {
    "account_id": "Account management",
    "account_password": "Account management",
    "accelerometer_network": "Fraud prevention, security, and compliance",
}
"""A further Google purpose of a type whose app-functionality use is of a known kind."""


@dataclass
class _Answer:
    collected: bool = False
    ephemeral: bool = True
    collection_purposes: set[str] = field(default_factory=set)
    sharing_purposes: set[str] = field(default_factory=set)
    shared_with: dict[str, None] = field(default_factory=dict)
    sources: dict[str, None] = field(default_factory=dict)


def google_data_types(catalog: Catalog, type_id: str, category: Category) -> tuple[str, ...]:
    """The Google data types of one of our data types."""
    return resolve(catalog, type_id, _BY_TYPE, category, _BY_CATEGORY)


def _purposes(catalog: Catalog, type_id: str, purpose: Purpose) -> set[str]:
    out = {_PURPOSES[purpose]}
    if purpose is Purpose.APP_FUNCTIONALITY:
        extra = resolve(
            catalog, type_id, _EXTRA_PURPOSES, Category.OTHER_DATA, {Category.OTHER_DATA: ""}
        )
        if extra:
            out.add(extra)
    return out


def _category_of(catalog: Catalog, type_id: str) -> Category:
    term = catalog.data_types.get(type_id)
    return term.category if term else Category.OTHER_DATA


def service_answers(catalog: Catalog, service: Service) -> dict[str, Any]:
    """The Data safety answers of one service."""
    answers: dict[str, _Answer] = {}
    if not service.on_device_only:
        for row in service.inventory:
            for name in google_data_types(catalog, row.type, row.category):
                answer = answers.setdefault(name, _Answer())
                answer.collected = True
                answer.ephemeral &= row.retention.kind is RetentionKind.NOT_STORED
                for p in row.purposes:
                    if not refused_everywhere(catalog, service, row.type, p):
                        answer.collection_purposes |= _purposes(catalog, row.type, p)
                answer.sources.setdefault(row.type)
        categories = {r.type: r.category for r in service.inventory}
        for function in service.functions:
            if function.on_device_only:
                continue
            for tp in function.third_parties:
                for type_id in tp.types:
                    category = categories.get(type_id) or _category_of(catalog, type_id)
                    for name in google_data_types(catalog, type_id, category):
                        answer = answers.setdefault(name, _Answer())
                        answer.sharing_purposes |= _purposes(catalog, type_id, tp.purpose)
                        answer.shared_with.setdefault(tp.recipient)
                        answer.sources.setdefault(type_id)
    consent = service.controls.consent
    optional = consent is not None and consent.asked
    order = list(GOOGLE_CATEGORY_OF)
    data_types = [
        {
            "category": GOOGLE_CATEGORY_OF[name],
            "data_type": name,
            "collected": a.collected,
            "shared": bool(a.shared_with),
            "processed_ephemerally": a.collected and a.ephemeral,
            "collection": ("optional" if optional else "required") if a.collected else None,
            "purposes": {
                "collection": [p for p in GOOGLE_PURPOSES if p in a.collection_purposes],
                "sharing": [p for p in GOOGLE_PURPOSES if p in a.sharing_purposes],
            },
            "shared_with": list(a.shared_with),
            "sources": list(a.sources),
        }
        for name in sorted(answers, key=order.index)
        for a in (answers[name],)
    ]
    rows = () if service.on_device_only else service.inventory
    return {
        "service_id": service.id,
        "service": service.name,
        "data_collected": any(d["collected"] for d in data_types),
        "data_shared": any(d["shared"] for d in data_types),
        "data_types": data_types,
        "security_practices": {
            "data_encrypted_in_transit": all(Transit.HTTPS in r.transit_protections for r in rows),
            "users_can_request_deletion": bool(service.controls.rights.delete)
            or any(r.retention.kind is RetentionKind.UNTIL_DELETED for r in rows),
        },
    }


def answers_document(catalog: Catalog, services: tuple[Service, ...]) -> dict[str, Any]:
    """The Data safety answers of ``services`` with the catalog they come from."""
    return {
        "format": "google-play-data-safety",
        "catalog": catalog_header(catalog),
        "apps": [service_answers(catalog, s) for s in services],
    }


def render(catalog: Catalog, services: tuple[Service, ...], whole: bool) -> bytes:
    """The Data safety answers as indented JSON."""
    del whole  # one document shape, whether for one service or all
    return (
        json.dumps(answers_document(catalog, services), indent=2, ensure_ascii=False) + "\n"
    ).encode("utf-8")
