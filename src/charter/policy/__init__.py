"""
Policy: decide whether a piece of personal data may be collected or used. Pure functions.

:func:`compile_catalog` turns a catalog into lookup tables so that one decision is a few
dictionary hits; :func:`decide_collect` and :func:`decide_use` then take a compiled row
key, the subject's switches, its market and the time, and return a :class:`Decision`:
allowed or refused, a machine-readable :class:`Reason`, a human sentence, the protection to
apply and the expiry.

The catalog's ``gate`` rules are compiled in too (:mod:`charter.policy.rules`): a row carries,
per purpose, what the rules leave of it, so a rule costs a decision one dictionary hit.

Switch keys are strings: ``<service>.authorization``, ``<service>.personalization``,
``<service>.ads`` and ``system.<switch id>``. Unset switches take the catalog defaults
(:meth:`CompiledCatalog.default_switches`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from charter.catalog import Catalog
from charter.catalog.model import Service
from charter.policy.rules import CompiledRules, GateCheck, RowGate, compile_rules, rule_key
from charter.taxonomy import AtRest, Purpose, Qualifier, RetentionKind

__all__ = [
    "MICROS_PER_DAY",
    "PURPOSE_BITS",
    "QUALIFIERS_FOR_KIND",
    "CompiledCatalog",
    "CompiledRow",
    "CompiledRules",
    "Decision",
    "GateCheck",
    "Reason",
    "RowGate",
    "SubjectKind",
    "compile_catalog",
    "decide_collect",
    "decide_use",
    "rule_key",
    "switch_keys_for",
]

MICROS_PER_DAY = 86_400 * 1_000_000

PURPOSE_BITS: dict[Purpose, int] = {p: 1 << i for i, p in enumerate(Purpose)}
"""Each purpose as a bit, so a record's declared purposes fit in one integer column."""


class SubjectKind(StrEnum):
    """What a subject id stands for."""

    ACCOUNT = "account"
    APP_INSTANCE = "app_instance"
    ADVERTISING_ID = "advertising_id"


QUALIFIERS_FOR_KIND: dict[SubjectKind, Qualifier] = {
    SubjectKind.ACCOUNT: Qualifier.IDENTIFIED,
    SubjectKind.ADVERTISING_ID: Qualifier.IDENTIFIED,
    SubjectKind.APP_INSTANCE: Qualifier.PSEUDONYMIZED,
}
"""The qualifier of rows a subject kind may carry: account- and device-level identifiers make
data identified; app-instance identifiers make it pseudonymized."""


class Reason(StrEnum):
    """Why a decision came out as it did (stable codes for clients and tests)."""

    ALLOWED = "allowed"
    UNKNOWN_SERVICE = "unknown_service"
    ON_DEVICE_ONLY = "on_device_only"
    UNDECLARED = "undeclared"
    QUALIFIER_MISMATCH = "qualifier_mismatch"
    MARKET_UNAVAILABLE = "market_unavailable"
    CONSENT_REQUIRED = "consent_required"
    PERSONALIZATION_OFF = "personalization_off"
    ADS_OFF = "ads_off"
    SYSTEM_SWITCH_OFF = "system_switch_off"
    PURPOSE_NOT_DECLARED = "purpose_not_declared"
    SUBJECT_INACTIVE = "subject_inactive"
    RECONSENT_REQUIRED = "reconsent_required"
    NEVER_STORED = "never_stored"
    PURPOSE_REFUSED = "purpose_refused"
    SOURCE_REFUSED = "source_refused"


@dataclass(frozen=True, slots=True)
class CompiledRow:
    """One (service, data type, qualifier) inventory row with the switches that govern it."""

    service: str
    data_type: str
    qualifier: Qualifier
    purposes: frozenset[Purpose]
    purpose_bits: int
    protection: AtRest
    retention_days: int | None
    stored: bool
    switches_by_purpose: Mapping[Purpose, tuple[str, ...]]
    qualifier_id: str = ""
    protection_id: str = ""
    gates: Mapping[Purpose, RowGate] = field(default_factory=dict)
    """Per purpose, what the catalog's gate rules leave of the row (absent: nothing narrowed)."""
    decisions: dict[object, Decision] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """Decisions about this row made before, by what tells them apart (a decision is
    immutable, so equal inputs share one): allowed ones by expiry, refusals by rule or
    switch. Bounded (:data:`_CACHED_DECISIONS`)."""

    def __post_init__(self) -> None:
        # plain strings for the storage hot path (enum .value goes through a descriptor)
        object.__setattr__(self, "qualifier_id", str(self.qualifier.value))
        object.__setattr__(self, "protection_id", str(self.protection.value))

    def allowed(self, expires_at: int | None) -> Decision:
        """The decision that allows this row, expiring at ``expires_at`` (shared)."""
        found = self.decisions.get(expires_at)
        if found is None:
            found = Decision(True, Reason.ALLOWED, "allowed", self, None, expires_at)
            _remember(self.decisions, expires_at, found)
        return found


_CACHED_DECISIONS = 256
"""Decisions kept per row; past that the row's cache starts over (expiries move with the
clock, so old entries are of no more use)."""


def _remember(cache: dict[object, Decision], key: object, decision: Decision) -> None:
    if len(cache) >= _CACHED_DECISIONS:
        cache.clear()
    cache[key] = decision


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of a policy decision."""

    allowed: bool
    reason: Reason
    message: str
    row: CompiledRow | None = None
    switch: str | None = None
    expires_at: int | None = None
    rule: str | None = None
    """The promise (``<service>.<rule>``) that refused, if a gate rule did."""

    @property
    def protection(self) -> AtRest | None:
        """The protection to apply to the value (None when refused)."""
        return self.row.protection if self.row is not None and self.allowed else None


@dataclass(frozen=True, slots=True)
class CompiledCatalog:
    """Lookup tables compiled from a catalog."""

    rows: Mapping[tuple[str, str, Qualifier, Purpose], CompiledRow]
    qualified_types: frozenset[tuple[str, str, Qualifier]]
    types_by_service: Mapping[str, frozenset[str]]
    markets_by_service: Mapping[str, frozenset[str] | None]
    excluded_by_service: Mapping[str, frozenset[str]]
    on_device_services: frozenset[str]
    defaults: Mapping[str, bool]
    switch_labels: Mapping[str, str]
    rules: CompiledRules

    def default_switches(self) -> Mapping[str, bool]:
        """Every switch key with its catalog default."""
        return self.defaults

    def row(
        self, service: str, data_type: str, qualifier: Qualifier, purpose: Purpose
    ) -> CompiledRow | None:
        """The inventory row that declares (service, type, qualifier, purpose), if any."""
        return self.rows.get((service, data_type, qualifier, purpose))

    def rows_for(self, service: str, data_type: str | None = None) -> list[CompiledRow]:
        """Every distinct row of a service (optionally of one data type)."""
        seen: dict[int, CompiledRow] = {}
        for (sid, type_id, _q, _p), row in self.rows.items():
            if sid == service and (data_type is None or type_id == data_type):
                seen.setdefault(id(row), row)
        return list(seen.values())


def switch_keys_for(service: Service, catalog: Catalog, purpose: Purpose) -> tuple[str, ...]:
    """The switch keys that must all be on for ``service`` to process data for ``purpose``."""
    keys: list[str] = []
    controls = service.controls
    if controls.consent is not None:
        keys.append(f"{service.id}.authorization")
    if purpose is Purpose.PERSONALIZATION and controls.personalization_switch:
        keys.append(f"{service.id}.personalization")
    if purpose is Purpose.ADVERTISING and controls.ads_switch:
        keys.append(f"{service.id}.ads")
    for switch_id in controls.system_switches:
        switch = catalog.switches[switch_id]
        if switch.governs == "all" or purpose in switch.governs:
            keys.append(f"system.{switch_id}")
    return tuple(keys)


def compile_catalog(
    catalog: Catalog, deployment_markets: Mapping[str, tuple[str, ...]] | None = None
) -> CompiledCatalog:
    """
    Compile a validated catalog, its gate rules included, into the lookup tables decisions use.

    Args:
        deployment_markets: markets the deployment names for rules whose catalog says
            ``deployment`` (by rule id ``<service>.<rule>``); see
            :func:`charter.policy.rules.compile_rules`.
    """
    rules = compile_rules(catalog, deployment_markets)
    rows: dict[tuple[str, str, Qualifier, Purpose], CompiledRow] = {}
    defaults: dict[str, bool] = {}
    labels: dict[str, str] = {}
    for switch in catalog.system.switches:
        defaults[f"system.{switch.id}"] = switch.default
        labels[f"system.{switch.id}"] = switch.name
    types_by_service: dict[str, frozenset[str]] = {}
    markets: dict[str, frozenset[str] | None] = {}
    excluded: dict[str, frozenset[str]] = {}
    on_device: set[str] = set()
    for service in catalog:
        controls = service.controls
        if controls.consent is not None:
            defaults[f"{service.id}.authorization"] = not controls.consent.asked
            labels[f"{service.id}.authorization"] = f"{service.name}: authorization"
        if controls.personalization_switch:
            defaults[f"{service.id}.personalization"] = True
            labels[f"{service.id}.personalization"] = f"{service.name}: personalization"
        if controls.ads_switch:
            defaults[f"{service.id}.ads"] = True
            labels[f"{service.id}.ads"] = f"{service.name}: show ads"
        available = service.markets.available
        markets[service.id] = None if available == "all" else frozenset(available)
        excluded[service.id] = frozenset(service.markets.excluded)
        if service.on_device_only:
            on_device.add(service.id)
        types_by_service[service.id] = frozenset(r.type for r in service.inventory)
        for inv in service.inventory:
            purposes = frozenset(inv.purposes)
            compiled_row = CompiledRow(
                service=service.id,
                data_type=inv.type,
                qualifier=inv.qualifier,
                purposes=purposes,
                purpose_bits=sum(PURPOSE_BITS[p] for p in purposes),
                protection=inv.protection,
                retention_days=inv.retention.days
                if inv.retention.kind is RetentionKind.DAYS
                else None,
                stored=inv.retention.kind is not RetentionKind.NOT_STORED,
                switches_by_purpose={p: switch_keys_for(service, catalog, p) for p in purposes},
                gates={
                    p: rules.gates[(service.id, inv.type, p)]
                    for p in purposes
                    if (service.id, inv.type, p) in rules.gates
                },
            )
            for purpose in purposes:
                rows[(service.id, inv.type, inv.qualifier, purpose)] = compiled_row
    return CompiledCatalog(
        rows=rows,
        qualified_types=frozenset((k[0], k[1], k[2]) for k in rows),
        types_by_service=types_by_service,
        markets_by_service=markets,
        excluded_by_service=excluded,
        on_device_services=frozenset(on_device),
        defaults=defaults,
        switch_labels=labels,
        rules=rules,
    )


def _refuse(
    reason: Reason, message: str, row: CompiledRow | None = None, switch: str | None = None
) -> Decision:
    return Decision(False, reason, message, row, switch)


_REASONS: dict[str, Reason] = {r.value: r for r in Reason}


def _refuse_by_rule(check: GateCheck, row: CompiledRow | None) -> Decision:
    if row is None:
        return Decision(False, _REASONS[check.reason], check.message, None, None, None, check.rule)
    found = row.decisions.get(check)
    if found is None:
        found = Decision(False, _REASONS[check.reason], check.message, row, None, None, check.rule)
        _remember(row.decisions, check, found)
    return found


def _check_switches(
    compiled: CompiledCatalog, row: CompiledRow, purpose: Purpose, switches: Mapping[str, bool]
) -> Decision | None:
    defaults = compiled.defaults
    for key in row.switches_by_purpose[purpose]:
        if switches.get(key, defaults[key]):
            continue
        cached = row.decisions.get((purpose, key))
        if cached is None:
            cached = _switch_refusal(compiled, row, purpose, key)
            _remember(row.decisions, (purpose, key), cached)
        return cached
    return None


def _switch_refusal(
    compiled: CompiledCatalog, row: CompiledRow, purpose: Purpose, key: str
) -> Decision:
    """The refusal of ``row`` for ``purpose`` while switch ``key`` is off."""
    label = compiled.switch_labels.get(key, key)
    if key.endswith(".authorization"):
        return _refuse(
            Reason.CONSENT_REQUIRED,
            f"{row.service} has no authorization from this subject ({label} is off)",
            row,
            key,
        )
    if key.endswith(".personalization"):
        return _refuse(
            Reason.PERSONALIZATION_OFF,
            f"personalization is switched off for {row.service}",
            row,
            key,
        )
    if key.endswith(".ads"):
        return _refuse(Reason.ADS_OFF, f"ads are switched off for {row.service}", row, key)
    return _refuse(
        Reason.SYSTEM_SWITCH_OFF,
        f"the system switch '{label}' is off, and it governs {purpose.value} for {row.service}",
        row,
        key,
    )


def decide_collect(
    compiled: CompiledCatalog,
    *,
    service: str,
    data_type: str,
    purpose: Purpose,
    kind: SubjectKind,
    market: str,
    switches: Mapping[str, bool],
    now: int,
) -> Decision:
    """
    Decide whether ``service`` may collect ``data_type`` for ``purpose`` from a subject.

    Args:
        compiled: the compiled catalog.
        service: the collecting service id.
        data_type: the data type id.
        purpose: the purpose the data is collected for.
        kind: the subject's kind (decides identified vs pseudonymized rows).
        market: the subject's market.
        switches: the subject's explicitly set switches (unset ones take defaults).
        now: the time, in microseconds since the epoch.

    Returns:
        The decision; when allowed, ``expires_at`` is set for rows kept a number of days.
    """
    types = compiled.types_by_service.get(service)
    if types is None:
        return _refuse(Reason.UNKNOWN_SERVICE, "unknown service; the catalog does not declare it")
    if service in compiled.on_device_services:
        return _refuse(
            Reason.ON_DEVICE_ONLY,
            f"{service} processes data on the device only; nothing may be sent to the server",
        )
    qualifier = QUALIFIERS_FOR_KIND[kind]
    row = compiled.rows.get((service, data_type, qualifier, purpose))
    if row is None:
        rules = compiled.rules
        check = rules.by_type.get((service, data_type)) or rules.by_purpose.get((service, purpose))
        if check is not None:
            return _refuse_by_rule(check, None)
        if data_type not in types:
            return _refuse(Reason.UNDECLARED, f"{service} does not declare this data type")
        if (service, data_type, qualifier) not in compiled.qualified_types:
            return _refuse(
                Reason.QUALIFIER_MISMATCH,
                f"{service} declares {data_type} only as other than {qualifier.value}; "
                f"a {kind.value} subject cannot carry it",
            )
        return _refuse(
            Reason.UNDECLARED,
            f"{service} does not declare {data_type} ({qualifier.value}) for {purpose.value}",
        )
    allowed_markets = compiled.markets_by_service[service]
    if market in compiled.excluded_by_service[service] or (
        allowed_markets is not None and market not in allowed_markets
    ):
        found = row.decisions.get(Reason.MARKET_UNAVAILABLE)
        if found is None:
            found = _refuse(
                Reason.MARKET_UNAVAILABLE, f"{service} is not offered in the subject's market", row
            )
            _remember(row.decisions, Reason.MARKET_UNAVAILABLE, found)
        return found
    if row.gates:
        gate = row.gates.get(purpose)
        if gate is not None and market not in gate.passes:
            check = gate.refusal(market)
            if check is not None:
                return _refuse_by_rule(check, row)
    refused = _check_switches(compiled, row, purpose, switches)
    if refused is not None:
        return refused
    days = row.retention_days
    return row.allowed(now + days * MICROS_PER_DAY if days is not None else None)


def decide_use(
    compiled: CompiledCatalog,
    *,
    row: CompiledRow,
    purpose: Purpose,
    switches: Mapping[str, bool],
    market: str | None = None,
) -> Decision:
    """
    Decide whether records of ``row`` may be read for ``purpose`` now.

    Data is used only for purposes its row declares, only where the catalog's gate rules
    allow it (in the subject's ``market``; without one, only refusals that hold in every
    market apply), and only while the switches that govern that purpose are on (a withdrawn
    authorization stops every use at once).
    """
    check = compiled.rules.by_purpose.get((row.service, purpose))
    if check is not None:
        return _refuse_by_rule(check, row)
    if purpose not in row.purposes:
        return _refuse(
            Reason.PURPOSE_NOT_DECLARED,
            f"{row.data_type} of {row.service} is not declared for {purpose.value}",
            row,
        )
    gate = row.gates.get(purpose)
    if gate is not None:
        found = gate.refusal(market)
        if found is not None:
            return _refuse_by_rule(found, row)
    refused = _check_switches(compiled, row, purpose, switches)
    return refused if refused is not None else row.allowed(None)
