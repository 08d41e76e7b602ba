"""
App Store "App Privacy" answers per service, as JSON.

Each collected data type is mapped to Apple's published data types and purposes. Following
Apple's definitions:

- data counts as *collected* only when it is transmitted off the device and kept longer
  than needed to serve the request in real time, so ``not_stored`` rows are left out (and
  listed under ``excluded``), and an on-device-only service answers "Data Not Collected";
- data is *linked to the user* when a row is ``identified`` (pseudonymized or weaker: not);
- data is *used for tracking* only when a function shares it with a third party for
  advertising.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from charter.catalog.catalog import Catalog
from charter.catalog.model import InventoryRow, Service
from charter.catalog.render._answers import (
    catalog_header,
    collected_rows,
    ephemeral_rows,
    resolve,
    shared_for,
)
from charter.catalog.render._content import refused_everywhere
from charter.taxonomy import Category, Purpose, Qualifier

APPLE_DATA_TYPES: dict[str, tuple[str, ...]] = {
    "Contact Info": (
        "Name",
        "Email Address",
        "Phone Number",
        "Physical Address",
        "Other User Contact Info",
    ),
    "Health & Fitness": ("Health", "Fitness"),
    "Financial Info": ("Payment Info", "Credit Info", "Other Financial Info"),
    "Location": ("Precise Location", "Coarse Location"),
    "Sensitive Info": ("Sensitive Info",),
    "Contacts": ("Contacts",),
    "User Content": (
        "Emails or Text Messages",
        "Photos or Videos",
        "Audio Data",
        "Gameplay Content",
        "Customer Support",
        "Other User Content",
    ),
    "Browsing History": ("Browsing History",),
    "Search History": ("Search History",),
    "Identifiers": ("User ID", "Device ID"),
    "Purchases": ("Purchase History",),
    "Usage Data": ("Product Interaction", "Advertising Data", "Other Usage Data"),
    "Diagnostics": ("Crash Data", "Performance Data", "Other Diagnostic Data"),
    "Other Data": ("Other Data Types",),
}
"""Apple's data categories and the data types in each, in Apple's order."""

APPLE_PURPOSES: tuple[str, ...] = (
    "Third-Party Advertising",
    "Developer's Advertising or Marketing",
    "Analytics",
    "Product Personalization",
    "App Functionality",
    "Other Purposes",
)
"""Apple's purposes, in Apple's order."""

APPLE_CATEGORY_OF: dict[str, str] = {t: c for c, types in APPLE_DATA_TYPES.items() for t in types}
"""The Apple category of each Apple data type."""

_BY_TYPE: dict[str, str] = {
    # built-in vocabulary
    "account_id": "User ID",
    "advertising_id": "Device ID",
    "android_id": "Device ID",
    "imei": "Device ID",
    "mac_address": "Device ID",
    "device_id": "Device ID",
    "name": "Name",
    "email_address": "Email Address",
    "phone_number": "Phone Number",
    "country": "Other User Contact Info",
    "precise_location": "Precise Location",
    "coarse_location": "Coarse Location",
    "product_interaction": "Product Interaction",
    "advertising_data": "Advertising Data",
    "app_usage_data": "Other Usage Data",
    "crash_data": "Crash Data",
    "performance_data": "Performance Data",
    "device_and_system_specs": "Other Diagnostic Data",
    # types the reference catalog declares
    "text_messages": "Emails or Text Messages",
    "photos_videos": "Photos or Videos",
    "recordings": "Audio Data",
    "call_history": "Other User Content",
    "notes": "Other User Content",
    "frequent_phrase": "Other User Content",
    "comments": "Other User Content",
    "calendar_events": "Other User Content",
    "profile_data": "Other User Contact Info",
    "device_model": "Other Diagnostic Data",
    "network_type": "Other Diagnostic Data",
    "operator_network_type": "Other Diagnostic Data",
    "app_list": "Other Usage Data",
    "content_consumption_data": "Product Interaction",
    "video_usage_data": "Product Interaction",
    "channel_subscription": "Product Interaction",
    "resource_download_record": "Product Interaction",
    "favorite_resource_list": "Product Interaction",
    "search_keywords": "Search History",
    "card_number": "Payment Info",
    "card_valid_to": "Payment Info",
    "upi_id": "Payment Info",
    "transaction_record": "Other Financial Info",
    "points_redeem_records": "Other Financial Info",
    "*_consumer_number": "Other Financial Info",
    "face_features": "Sensitive Info",
    "fingerprint_features": "Sensitive Info",
}
"""Apple data type of our data types (own id first, then the built-in type it refines)."""

_BY_CATEGORY: dict[Category, str] = {
    Category.IDENTIFIERS: "Device ID",
    Category.CONTACT_INFO: "Other User Contact Info",
    Category.LOCATION: "Coarse Location",
    Category.USAGE_DATA: "Other Usage Data",
    Category.DIAGNOSTICS: "Other Diagnostic Data",
    Category.PURCHASES: "Purchase History",
    Category.FINANCIAL_INFO: "Other Financial Info",
    Category.SEARCH_HISTORY: "Search History",
    Category.BROWSING_HISTORY: "Browsing History",
    Category.USER_CONTENT: "Other User Content",
    Category.CONTACTS: "Contacts",
    Category.DEVICE_INFO: "Other Data Types",
    Category.OTHER_DATA: "Other Data Types",
}
"""Apple data type of a row whose data type has no entry of its own."""

NOT_COLLECTED_REASON = (
    "not stored: processed only to serve the request in real time, which Apple does not "
    "count as collection"
)


def apple_data_type(catalog: Catalog, row: InventoryRow) -> str:
    """The Apple data type of an inventory row."""
    return resolve(catalog, row.type, _BY_TYPE, row.category, _BY_CATEGORY)


def apple_purpose(service: Service, row: InventoryRow, purpose: Purpose) -> str:
    """The Apple purpose of one of a row's purposes."""
    if purpose is Purpose.ADVERTISING:
        if shared_for(service, row.type, Purpose.ADVERTISING):
            return "Third-Party Advertising"
        return "Developer's Advertising or Marketing"
    return {
        Purpose.APP_FUNCTIONALITY: "App Functionality",
        Purpose.PERSONALIZATION: "Product Personalization",
        Purpose.ANALYTICS: "Analytics",
        Purpose.MODEL_TRAINING: "Other Purposes",
    }[purpose]


@dataclass
class _Answer:
    purposes: set[str] = field(default_factory=set)
    linked: bool = False
    tracking: bool = False
    sources: dict[str, None] = field(default_factory=dict)


def service_answers(catalog: Catalog, service: Service) -> dict[str, Any]:
    """The App Privacy answers of one service."""
    answers: dict[str, _Answer] = {}
    for row in collected_rows(service):
        answer = answers.setdefault(apple_data_type(catalog, row), _Answer())
        answer.purposes.update(
            apple_purpose(service, row, p)
            for p in row.purposes
            if not refused_everywhere(catalog, service, row.type, p)
        )
        answer.linked |= row.qualifier is Qualifier.IDENTIFIED
        answer.tracking |= bool(shared_for(service, row.type, Purpose.ADVERTISING))
        answer.sources.setdefault(row.type)
    order = list(APPLE_CATEGORY_OF)
    data_types = [
        {
            "category": APPLE_CATEGORY_OF[name],
            "data_type": name,
            "purposes": [p for p in APPLE_PURPOSES if p in answers[name].purposes],
            "linked_to_user": answers[name].linked,
            "used_for_tracking": answers[name].tracking,
            "sources": list(answers[name].sources),
        }
        for name in sorted(answers, key=order.index)
    ]
    excluded = [
        {"type": r.type, "label": catalog.type_label(r.type), "reason": NOT_COLLECTED_REASON}
        for r in ephemeral_rows(service)
    ]
    return {
        "service_id": service.id,
        "service": service.name,
        "data_collected": bool(data_types),
        "label": "Data Collected" if data_types else "Data Not Collected",
        "data_types": data_types,
        "privacy_label": {
            "data_used_to_track_you": [
                d["data_type"] for d in data_types if d["used_for_tracking"]
            ],
            "data_linked_to_you": [d["data_type"] for d in data_types if d["linked_to_user"]],
            "data_not_linked_to_you": [
                d["data_type"] for d in data_types if not d["linked_to_user"]
            ],
        },
        "excluded": excluded,
    }


def answers_document(catalog: Catalog, services: tuple[Service, ...]) -> dict[str, Any]:
    """The App Privacy answers of ``services`` with the catalog they come from."""
    return {
        "format": "apple-app-privacy",
        "catalog": catalog_header(catalog),
        "note": (
            "Apple counts data as collected only when it is transmitted off the device and kept "
            "longer than needed to serve the request in real time; inventory rows that are not "
            "stored are therefore left out and listed under 'excluded'."
        ),
        "apps": [service_answers(catalog, s) for s in services],
    }


def render(catalog: Catalog, services: tuple[Service, ...], whole: bool) -> bytes:
    """The App Privacy answers as indented JSON."""
    del whole  # one document shape, whether for one service or all
    return (
        json.dumps(answers_document(catalog, services), indent=2, ensure_ascii=False) + "\n"
    ).encode("utf-8")
