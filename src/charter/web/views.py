"""
What the Privacy Center shows about services and switches, in plain words, built from the
catalog (the same declarations the gate enforces) and the person's switches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from charter.catalog import Catalog
from charter.catalog.model import InventoryRow, Service
from charter.catalog.promises import STATUS_MARKS, Status, code_marks, deployment_rules
from charter.device.promises import ENFORCERS as DEVICE_ENFORCERS
from charter.policy import CompiledCatalog
from charter.services import ENFORCERS
from charter.taxonomy import AtRest, Purpose, Qualifier, RetentionKind

PURPOSE_WORDS: dict[str, str] = {
    Purpose.APP_FUNCTIONALITY.value: "to make the service work",
    Purpose.PERSONALIZATION.value: "to personalize what you see",
    Purpose.ANALYTICS.value: "for statistics that improve the product",
    Purpose.ADVERTISING.value: "for ads",
    Purpose.MODEL_TRAINING.value: "to train models",
}

LINK_WORDS: dict[str, str] = {
    Qualifier.IDENTIFIED.value: "linked to your account or device",
    Qualifier.PSEUDONYMIZED.value: "linked only to a random app ID, not to you",
}

PROTECTION_WORDS: dict[str, str] = {
    AtRest.FIELD_ENCRYPTION.value: "encrypted with a key of your own",
    AtRest.KEYED_HASH.value: "kept only as a keyed fingerprint",
    AtRest.PASSWORD_HASH.value: "kept only as a password hash",
    AtRest.NOT_STORED.value: "never stored",
    AtRest.PLAIN.value: "stored with access control",
}

KEPT_WITH_ACCOUNT = frozenset({"account"})
"""Services whose data goes only with the account (deleting it would lock the person out)."""

SWITCH_WORDS: dict[str, tuple[str, str]] = {
    "authorization": (
        "Use this service",
        "Your consent to the service's privacy policy. Off: nothing is collected.",
    ),
    "personalization": (
        "Personalized recommendations",
        "Off: what you do in the service is not used to tailor suggestions.",
    ),
    "ads": ("Personalized ads", "Off: ads in this service are not tailored to you."),
}


@dataclass(frozen=True, slots=True)
class Collected:
    """One kind of data a service collects, in plain words."""

    label: str
    purposes: str
    linked: str
    protection: str
    retention: str


@dataclass(frozen=True, slots=True)
class SwitchView:
    """One switch as a toggle."""

    key: str
    label: str
    help: str
    on: bool
    locked: str = ""
    """Why the switch cannot be changed now ("" when it can), e.g. its service is not in use."""


KIND_WORDS: dict[str, str] = {
    "gate": "the gate refuses anything else",
    "service": "kept by the service's own code",
    "device": "kept on your device",
    "statement": "a commitment about people and process",
}
"""Who keeps a promise, in plain words."""

BADGES: dict[Status, str] = {Status.KEPT: "ok", Status.UNKEPT: "bad"}
"""The badge style of a status (others are plain)."""


@dataclass(frozen=True, slots=True)
class PromiseView:
    """One promise as the page shows it."""

    id: str
    text: str
    mark: str
    badge: str
    who: str


def promise_views(
    catalog: Catalog, marks: dict[str, Status], service_id: str
) -> tuple[PromiseView, ...]:
    """A service's promises with their marks, in catalog order."""
    service = catalog.service(service_id)
    out = []
    for rule in service.rules:
        status = marks[f"{service.id}.{rule.id}"]
        out.append(
            PromiseView(
                f"{service.id}.{rule.id}",
                rule.description,
                STATUS_MARKS[status],
                BADGES.get(status, ""),
                KIND_WORDS[rule.kind.value],
            )
        )
    return tuple(out)


def service_marks(catalog: Catalog, compiled: CompiledCatalog) -> dict[str, Status]:
    """Per promise id, whether code keeps it in this deployment."""
    chosen = {r: () for r in deployment_rules(catalog) if r not in compiled.rules.pending}
    return code_marks(catalog, ENFORCERS, chosen, DEVICE_ENFORCERS)


@dataclass(frozen=True, slots=True)
class ServiceCard:
    """Everything one service's card shows."""

    id: str
    name: str
    summary: str
    on_device_only: bool
    collects: tuple[Collected, ...]
    switches: tuple[SwitchView, ...]
    consent_text: str | None
    withdrawable: bool
    authorized: bool
    records: int
    deletable: bool
    promises: tuple[PromiseView, ...] = ()


def _plain_retention(row: InventoryRow) -> str:
    """How long a row's data is kept, as a phrase (never the table's "N/A")."""
    kind = row.retention.kind
    if kind is RetentionKind.NOT_STORED or row.at_rest == AtRest.NOT_STORED.value:
        return "used only while your request is served, then dropped"
    if kind is RetentionKind.DAYS:
        return f"kept for {row.retention.days} days"
    return "kept until you delete it"


def refused_here(
    compiled: CompiledCatalog | None, service_id: str, data_type: str, purpose: Purpose, market: str
) -> bool:
    """Whether a catalog rule refuses this (type, purpose) of the service in ``market``."""
    if compiled is None:
        return False
    gate = compiled.rules.gates.get((service_id, data_type, purpose))
    return gate is not None and gate.refusal(market) is not None


def offered_here(compiled: CompiledCatalog, service: Service, market: str) -> bool:
    """Whether the service is offered in ``market``: its markets include it and the catalog's
    rules leave some of its inventory there."""
    if not service.markets.includes(market):
        return False
    pairs = [(r.type, p) for r in service.inventory for p in r.purposes]
    return not pairs or any(not refused_here(compiled, service.id, t, p, market) for t, p in pairs)


def collected(
    catalog: Catalog,
    service: Service,
    compiled: CompiledCatalog | None = None,
    market: str = "",
) -> tuple[Collected, ...]:
    """The service's inventory in plain words: one entry per data type and link (given a
    market, without what the catalog's rules refuse there)."""
    merged: dict[tuple[str, str], dict[str, list[str]]] = {}
    for row in service.inventory:
        here = [
            p for p in row.purposes if not refused_here(compiled, service.id, row.type, p, market)
        ]
        if not here:
            continue
        entry = merged.setdefault(
            (row.type, row.qualifier.value),
            {"purposes": [], "protection": [], "retention": []},
        )
        for p in here:
            words = PURPOSE_WORDS.get(p.value, p.value)
            if words not in entry["purposes"]:
                entry["purposes"].append(words)
        protection = PROTECTION_WORDS.get(row.at_rest, "stored protected")
        if protection not in entry["protection"]:
            entry["protection"].append(protection)
        retention = _plain_retention(row)
        if retention not in entry["retention"]:
            entry["retention"].append(retention)
    return tuple(
        Collected(
            label=catalog.type_label(type_id),
            purposes=", ".join(e["purposes"]),
            linked=LINK_WORDS.get(qualifier, qualifier.replace("_", " ")),
            protection=", ".join(e["protection"]),
            retention=" / ".join(e["retention"]),
        )
        for (type_id, qualifier), e in merged.items()
    )


def switch_offered(compiled: CompiledCatalog, service_id: str, key: str, market: str) -> bool:
    """Whether a service switch governs anything the catalog's rules allow in ``market``."""
    if key.endswith(".authorization"):
        return True
    return any(
        key in keys and not refused_here(compiled, service_id, row.data_type, purpose, market)
        for row in compiled.rows_for(service_id)
        for purpose, keys in row.switches_by_purpose.items()
    )


def service_switches(
    compiled: CompiledCatalog, service_id: str, switches: dict[str, bool], market: str | None = None
) -> tuple[SwitchView, ...]:
    """The service's own switches the person controls (given a market, those offered there)."""
    out = []
    auth_key = f"{service_id}.authorization"
    in_use = switches.get(auth_key, compiled.defaults.get(auth_key, True))
    for kind, (label, help_text) in SWITCH_WORDS.items():
        key = f"{service_id}.{kind}"
        if market is not None and not switch_offered(compiled, service_id, key, market):
            continue
        if key in compiled.defaults:
            locked = ""
            if kind != "authorization" and not in_use:
                locked = f"Off while “{SWITCH_WORDS['authorization'][0]}” is off."
            on = switches.get(key, compiled.defaults[key]) and not locked
            out.append(SwitchView(key, label, help_text, on, locked))
    return tuple(out)


def service_cards(
    catalog: Catalog,
    compiled: CompiledCatalog,
    market: str,
    switches: dict[str, bool],
    counts: dict[str, int],
) -> list[ServiceCard]:
    """One card per service offered in the person's market (catalog order), with only the
    switches and data the catalog's rules leave there."""
    cards = []
    marks = service_marks(catalog, compiled)
    for service in catalog:
        if not offered_here(compiled, service, market):
            continue
        consent = service.controls.consent
        cards.append(
            ServiceCard(
                id=service.id,
                name=service.name,
                summary=service.summary,
                on_device_only=service.on_device_only,
                collects=collected(catalog, service, compiled, market),
                switches=service_switches(compiled, service.id, switches, market),
                consent_text=consent.description if consent else None,
                withdrawable=bool(consent and consent.withdrawable),
                authorized=switches.get(f"{service.id}.authorization", consent is None),
                records=counts.get(service.id, 0),
                deletable=service.id not in KEPT_WITH_ACCOUNT,
                promises=promise_views(catalog, marks, service.id),
            )
        )
    return cards


def system_switches(catalog: Catalog, switches: dict[str, bool]) -> list[SwitchView]:
    """The system-wide switches (experience program, usage & diagnostics, personalized ads)."""
    return [
        SwitchView(
            f"system.{s.id}", s.name, s.description, switches.get(f"system.{s.id}", s.default)
        )
        for s in catalog.system.switches
    ]


def switch_label(catalog: Catalog, key: str) -> str:
    """A switch's name for messages, e.g. ``Themes: Personalized recommendations``."""
    owner, _, kind = key.partition(".")
    if owner == "system":
        found = catalog.switches.get(kind)
        return found.name if found else kind
    service = catalog.services.get(owner)
    name = service.name if service else owner
    return f"{name}: {SWITCH_WORDS.get(kind, (kind, ''))[0]}"


_ABBREVIATED = re.compile(r"^(?P<words>.+?) \((?P<short>[A-Z][A-Za-z0-9]{1,9})\)$")


def terms_used(catalog: Catalog, text: str) -> list[tuple[str, str, str]]:
    """
    The abbreviations of data types a text uses (e.g. ``GAID`` in a policy written before
    the label was spelled out), each as (abbreviation, words, definition), so a page can
    explain them.
    """
    found: list[tuple[str, str, str]] = []
    for term in catalog.data_types.values():
        m = _ABBREVIATED.match(term.label)
        if m and re.search(rf"\b{re.escape(m['short'])}\b", text):
            found.append((m["short"], m["words"], term.definition))
    return sorted(found)
