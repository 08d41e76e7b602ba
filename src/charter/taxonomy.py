"""
The vocabulary Charter speaks (ISO/IEC 19944-1 terms as the reference white paper uses them).

Every term has a stable ``id`` (used in catalogs, the database and the API), a ``label`` as
the reference paper prints it, and a one-line ``definition``. This module is pure: no I/O.

Where the paper names a weak algorithm (MD5, SHA-1, AES-128) the catalog keeps that label
for rendering, but the term maps to the protection Charter really applies: see
:data:`DECLARED_AT_REST` and :data:`DECLARED_TRANSIT`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Term:
    """
    One vocabulary term: its stable id, the label printed in tables and a definition.
    """

    id: str
    label: str
    definition: str


class Category(StrEnum):
    """ISO/IEC 19944-1 style data categories."""

    IDENTIFIERS = "identifiers"
    CONTACT_INFO = "contact_info"
    LOCATION = "location"
    USAGE_DATA = "usage_data"
    DIAGNOSTICS = "diagnostics"
    PURCHASES = "purchases"
    FINANCIAL_INFO = "financial_info"
    SEARCH_HISTORY = "search_history"
    BROWSING_HISTORY = "browsing_history"
    USER_CONTENT = "user_content"
    CONTACTS = "contacts"
    DEVICE_INFO = "device_info"
    OTHER_DATA = "other_data"


class Qualifier(StrEnum):
    """How strongly a record is linked to a person."""

    IDENTIFIED = "identified"
    PSEUDONYMIZED = "pseudonymized"
    UNLINKED_PSEUDONYMIZED = "unlinked_pseudonymized"
    ANONYMIZED = "anonymized"
    AGGREGATED = "aggregated"


class Purpose(StrEnum):
    """Why data is processed."""

    APP_FUNCTIONALITY = "app_functionality"
    PERSONALIZATION = "personalization"
    ANALYTICS = "analytics"
    ADVERTISING = "advertising"
    MODEL_TRAINING = "model_training"


class Transit(StrEnum):
    """Protection while data travels from the device to the server."""

    HTTPS = "https"
    APP_LAYER_AES = "app_layer_aes"


class AtRest(StrEnum):
    """Protection applied to a stored value."""

    PLAIN = "plain"
    FIELD_ENCRYPTION = "field_encryption"
    KEYED_HASH = "keyed_hash"
    PASSWORD_HASH = "password_hash"
    NOT_STORED = "not_stored"


class RetentionKind(StrEnum):
    """How long a record is kept."""

    UNTIL_DELETED = "until_deleted"
    DAYS = "days"
    NOT_STORED = "not_stored"


CATEGORIES: dict[Category, Term] = {
    Category.IDENTIFIERS: Term(
        "identifiers", "Identifiers", "Identifiers of an account, a device or an app instance."
    ),
    Category.CONTACT_INFO: Term(
        "contact_info",
        "Contact Info",
        "Ways to reach or name a person: name, email, phone number, country.",
    ),
    Category.LOCATION: Term(
        "location", "Location", "Where a device or person is, precisely or coarsely."
    ),
    Category.USAGE_DATA: Term(
        "usage_data", "Usage Data", "How a person interacts with a product, its ads and other apps."
    ),
    Category.DIAGNOSTICS: Term(
        "diagnostics", "Diagnostics", "Crash and performance measurements of software."
    ),
    Category.PURCHASES: Term("purchases", "Purchases", "What a person bought or subscribed to."),
    Category.FINANCIAL_INFO: Term(
        "financial_info", "Financial Info", "Payment instruments and transactions."
    ),
    Category.SEARCH_HISTORY: Term("search_history", "Search History", "Searches a person made."),
    Category.BROWSING_HISTORY: Term(
        "browsing_history", "Browsing History", "Pages and content a person viewed."
    ),
    Category.USER_CONTENT: Term(
        "user_content",
        "User Content",
        "Content a person created or stored: messages, photos, notes, comments.",
    ),
    Category.CONTACTS: Term("contacts", "Contacts", "A person's address book."),
    Category.DEVICE_INFO: Term(
        "device_info", "Device Info", "Facts about a device: hardware slots, configuration."
    ),
    Category.OTHER_DATA: Term(
        "other_data", "Other Data", "Personal data that fits no other category."
    ),
}

QUALIFIERS: dict[Qualifier, Term] = {
    Qualifier.IDENTIFIED: Term(
        "identified",
        "Identified",
        "Linked to an account-, user-, system- or device-level identifier.",
    ),
    Qualifier.PSEUDONYMIZED: Term(
        "pseudonymized", "Pseudonymized", "Linked only to an app-instance or random identifier."
    ),
    Qualifier.UNLINKED_PSEUDONYMIZED: Term(
        "unlinked_pseudonymized",
        "Unlinked pseudonymized",
        "Pseudonymized, and the link to the identifier has been cut.",
    ),
    Qualifier.ANONYMIZED: Term(
        "anonymized", "Anonymized", "Cannot be linked to a person by any reasonable means."
    ),
    Qualifier.AGGREGATED: Term(
        "aggregated", "Aggregated", "Combined over many people so that no one can be singled out."
    ),
}

PURPOSES: dict[Purpose, Term] = {
    Purpose.APP_FUNCTIONALITY: Term(
        "app_functionality",
        "App functionality",
        "Provide a function or service the person asked for.",
    ),
    Purpose.PERSONALIZATION: Term(
        "personalization", "Personalization", "Tailor content and recommendations to the person."
    ),
    Purpose.ANALYTICS: Term(
        "analytics", "Analytics", "Measure and improve the product in aggregate."
    ),
    Purpose.ADVERTISING: Term("advertising", "Advertising", "Show and measure ads."),
    Purpose.MODEL_TRAINING: Term(
        "model_training", "Model training", "Train or tune machine-learning models."
    ),
}

TRANSITS: dict[Transit, Term] = {
    Transit.HTTPS: Term("https", "HTTPS", "TLS-protected HTTP between device and server."),
    Transit.APP_LAYER_AES: Term(
        "app_layer_aes", "AES", "An extra application-layer AES-GCM envelope inside TLS."
    ),
}

AT_RESTS: dict[AtRest, Term] = {
    AtRest.PLAIN: Term(
        "plain", "Plain", "Stored unencrypted at field level, behind access control."
    ),
    AtRest.FIELD_ENCRYPTION: Term(
        "field_encryption",
        "Field encryption",
        "AES-256-GCM with a per-subject data key wrapped by a versioned key-encryption key.",
    ),
    AtRest.KEYED_HASH: Term(
        "keyed_hash",
        "Keyed hash",
        "HMAC-SHA-256 with a server secret; the value itself is not kept.",
    ),
    AtRest.PASSWORD_HASH: Term(
        "password_hash",
        "Password hash",
        "argon2id with a per-account salt and a server-side pepper.",
    ),
    AtRest.NOT_STORED: Term(
        "not_stored", "Not stored", "Processed for the request and never written anywhere."
    ),
}

RETENTIONS: dict[RetentionKind, Term] = {
    RetentionKind.UNTIL_DELETED: Term(
        "until_deleted", "Per user's request", "Kept until the person deletes it or the account."
    ),
    RetentionKind.DAYS: Term(
        "days", "{days} days", "Kept a fixed number of days after collection, then purged."
    ),
    RetentionKind.NOT_STORED: Term("not_stored", "N/A", "Never stored, so nothing to keep."),
}


@dataclass(frozen=True, slots=True)
class DeclaredProtection:
    """
    A protection as a catalog author declared it, mapped to what Charter really applies.

    ``label`` is what the reference paper prints (e.g. ``MD5``); ``applies`` is the stronger
    protection Charter uses instead, and ``note`` says so in rendered output.
    """

    id: str
    label: str
    applies: str
    note: str


DECLARED_AT_REST: dict[str, DeclaredProtection] = {
    "aes_128": DeclaredProtection(
        "aes_128",
        "AES-128",
        AtRest.FIELD_ENCRYPTION,
        "Charter applies AES-256-GCM field encryption where AES-128 is declared.",
    ),
    "md5": DeclaredProtection(
        "md5",
        "MD5",
        AtRest.KEYED_HASH,
        "Charter applies a keyed HMAC-SHA-256 hash where MD5 is declared.",
    ),
    "sha_1": DeclaredProtection(
        "sha_1",
        "SHA-1",
        AtRest.KEYED_HASH,
        "Charter applies a keyed HMAC-SHA-256 hash where SHA-1 is declared.",
    ),
    "compound_password_hash": DeclaredProtection(
        "compound_password_hash",
        "Compound encryption with secret password and salt per account",
        AtRest.PASSWORD_HASH,
        "Charter applies argon2id with a per-account salt and a server-side pepper.",
    ),
}
"""Seed labels for at-rest protection, keyed by the id a catalog may use instead of an AtRest."""

DECLARED_TRANSIT: dict[str, DeclaredProtection] = {
    "aes_128": DeclaredProtection(
        "aes_128",
        "AES-128",
        Transit.APP_LAYER_AES,
        "Charter applies an AES-256-GCM application-layer envelope where AES-128 is declared.",
    ),
}
"""Seed labels for in-transit protection, keyed by the id a catalog may use instead of a Transit."""


@dataclass(frozen=True, slots=True)
class DataTypeTerm:
    """
    A data type of the built-in vocabulary, with the category it belongs to.
    """

    id: str
    label: str
    category: Category
    definition: str


def _t(id_: str, label: str, category: Category, definition: str) -> DataTypeTerm:
    return DataTypeTerm(id_, label, category, definition)


C = Category
BUILTIN_DATA_TYPES: tuple[DataTypeTerm, ...] = (
    _t("account_id", "Account ID", C.IDENTIFIERS, "The identifier assigned to an account."),
    _t(
        "advertising_id",
        "Advertising ID",
        C.IDENTIFIERS,
        "A resettable identifier used for advertising.",
    ),
    _t("android_id", "Android ID", C.IDENTIFIERS, "The operating system's per-device identifier."),
    _t("imei", "IMEI", C.IDENTIFIERS, "The hardware identity of a mobile radio."),
    _t("mac_address", "MAC Address", C.IDENTIFIERS, "The hardware address of a network interface."),
    _t(
        "device_id",
        "Device ID",
        C.IDENTIFIERS,
        "An identifier of a device derived from hardware identifiers.",
    ),
    _t("name", "Name", C.CONTACT_INFO, "A person's name."),
    _t("email_address", "Email Address", C.CONTACT_INFO, "An email address."),
    _t("phone_number", "Phone Number", C.CONTACT_INFO, "A telephone number."),
    _t("country", "Country", C.CONTACT_INFO, "The country or region an account belongs to."),
    _t("precise_location", "Precise Location", C.LOCATION, "A location accurate to a few metres."),
    _t(
        "coarse_location", "Coarse Location", C.LOCATION, "A location accurate to a city or region."
    ),
    _t(
        "product_interaction",
        "Product Interaction",
        C.USAGE_DATA,
        "Taps, views and other interaction with the product.",
    ),
    _t("advertising_data", "Advertising Data", C.USAGE_DATA, "Ads seen and interaction with them."),
    _t("app_usage_data", "App Usage Data", C.USAGE_DATA, "Which apps are used, when and how long."),
    _t("crash_data", "Crash Data", C.DIAGNOSTICS, "Crash reports."),
    _t(
        "performance_data",
        "Performance Data",
        C.DIAGNOSTICS,
        "Launch times, hang rates and similar measurements.",
    ),
    _t("purchase_history", "Purchase History", C.PURCHASES, "Purchases and subscriptions."),
    _t("search_history", "Search History", C.SEARCH_HISTORY, "Searches made in the product."),
    _t(
        "browsing_history",
        "Browsing History",
        C.BROWSING_HISTORY,
        "Pages visited and favourite sites.",
    ),
    _t("contacts", "Contacts", C.CONTACTS, "Entries of the address book."),
    _t(
        "device_and_system_specs",
        "Device and System Specs",
        C.OTHER_DATA,
        "Device model, OS version and similar specifications.",
    ),
)
del C

BUILTIN_DATA_TYPES_BY_ID: dict[str, DataTypeTerm] = {t.id: t for t in BUILTIN_DATA_TYPES}


def retention_label(kind: RetentionKind, days: int | None = None) -> str:
    """
    Render a retention as the reference tables print it.

    Args:
        kind: the retention kind.
        days: the number of days, for :attr:`RetentionKind.DAYS`.

    Returns:
        e.g. ``"Per user's request"``, ``"180 days"`` or ``"N/A"``.
    """
    if kind is RetentionKind.DAYS:
        return f"{days} days"
    return RETENTIONS[kind].label


VOCABULARIES: dict[str, tuple[str, ...]] = {
    "category": tuple(c.value for c in Category),
    "qualifier": tuple(q.value for q in Qualifier),
    "purposes": tuple(p.value for p in Purpose),
    "purpose": tuple(p.value for p in Purpose),
    "transit": tuple(t.value for t in Transit) + tuple(DECLARED_TRANSIT),
    "at_rest": tuple(a.value for a in AtRest) + tuple(DECLARED_AT_REST),
}
"""Valid terms per catalog field name, used for "did you mean" suggestions."""
