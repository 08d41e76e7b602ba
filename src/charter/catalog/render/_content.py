"""
The prose parts of a rendered catalog, as plain data shared by the Markdown and HTML renderers.

Nothing here formats: each function returns strings and small frozen records that a renderer
escapes and lays out. Keeping the wording in one place keeps every output saying the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from charter.catalog.catalog import Catalog
from charter.catalog.model import Function, Markets, Region, RuleValue, Service, WithdrawalEffect
from charter.catalog.promises import STATUS_MARKS, code_marks
from charter.taxonomy import (
    AT_RESTS,
    DECLARED_AT_REST,
    DECLARED_TRANSIT,
    PURPOSES,
    QUALIFIERS,
    RETENTIONS,
    TRANSITS,
    Purpose,
)

WITHDRAWAL_LABELS: dict[WithdrawalEffect, str] = {
    WithdrawalEffect.STOP_COLLECTION: "collection stops",
    WithdrawalEffect.DELETE_SERVER_DATA: "data on the server is deleted",
    WithdrawalEffect.DELETE_DEVICE_DATA: "data on the device is deleted",
    WithdrawalEffect.DISABLE_SERVICE: "the service is switched off",
}
"""What each withdrawal effect means, in words that follow "When consent is withdrawn, "."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A term and its explanation: a definition-list item."""

    term: str
    text: str


@dataclass(frozen=True, slots=True)
class VocabularySection:
    """A titled list of vocabulary terms."""

    title: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class FunctionView:
    """A function of a service, ready to print."""

    name: str
    description: str
    on_device_only: bool
    collects: tuple[str, ...]
    third_parties: tuple[str, ...]

    @property
    def collects_label(self) -> str:
        """How to introduce the data types: collected, or only processed on the device."""
        return "Processes on the device" if self.on_device_only else "Collects"


@dataclass(frozen=True, slots=True)
class RegionRow:
    """One row of the regions table; ``region`` is blank on a region's continuation rows."""

    region: str
    provider: str
    locations: str


@dataclass(frozen=True, slots=True)
class RegionDetail:
    """Who is responsible for a region's data, and the markets that map to it."""

    region: str
    controller: str
    processor: str
    transfer_mechanism: str
    markets: str


def anchor(service_id: str) -> str:
    """The fragment id of a service's section."""
    return f"service-{service_id}"


def purposes_text(purposes: tuple[Purpose, ...]) -> str:
    """Purpose labels joined with commas, for prose."""
    return ", ".join(PURPOSES[p].label for p in purposes)


def vocabulary() -> tuple[VocabularySection, ...]:
    """Definitions of the qualifiers, purposes, protections and retentions tables use."""
    declared = tuple(
        Entry(f"{d.label} ({where})", f"declared by the source document. {d.note}")
        for where, group in (("in transit", DECLARED_TRANSIT), ("at rest", DECLARED_AT_REST))
        for d in group.values()
    )
    return (
        VocabularySection(
            "Identification qualifiers",
            tuple(Entry(t.label, t.definition) for t in QUALIFIERS.values()),
        ),
        VocabularySection(
            "Purposes", tuple(Entry(t.label, t.definition) for t in PURPOSES.values())
        ),
        VocabularySection(
            "Protection in transit", tuple(Entry(t.label, t.definition) for t in TRANSITS.values())
        ),
        VocabularySection(
            "Protection at rest", tuple(Entry(t.label, t.definition) for t in AT_RESTS.values())
        ),
        VocabularySection("Declared weak algorithms", declared),
        VocabularySection(
            "Retention",
            tuple(Entry(t.label.replace("{days}", "N"), t.definition) for t in RETENTIONS.values()),
        ),
    )


def markets_text(catalog: Catalog, markets: Markets) -> str:
    """Where a service is offered, in words."""

    def names(ids: tuple[str, ...]) -> str:
        return ", ".join(catalog.markets[m].name if m in catalog.markets else m for m in ids)

    text = "all markets" if markets.available == "all" else names(markets.available)
    if markets.excluded:
        text += f" except {names(markets.excluded)}"
    return text


def function_view(catalog: Catalog, function: Function) -> FunctionView:
    """A function with its collected types and third parties in words."""
    collects = tuple(
        f"{catalog.type_label(c.type)} ({purposes_text(c.purposes)})" for c in function.collects
    )
    third = tuple(
        f"{tp.recipient} receives {', '.join(catalog.type_label(t) for t in tp.types)}"
        f" ({PURPOSES[tp.purpose].label}). {tp.description}"
        for tp in function.third_parties
    )
    return FunctionView(
        function.name, function.description, function.on_device_only, collects, third
    )


def controls(catalog: Catalog, service: Service) -> tuple[Entry, ...]:
    """The privacy controls of a service, one entry each."""
    c = service.controls
    out: list[Entry] = []
    if c.consent is not None:
        asked = (
            "Asked before first use (opt-in)." if c.consent.asked else "Not asked before first use."
        )
        withdraw = (
            "Can be withdrawn; then "
            + ", ".join(WITHDRAWAL_LABELS[e] for e in c.consent.on_withdrawal)
            + "."
            if c.consent.withdrawable
            else "Cannot be withdrawn."
        )
        text = f"{asked} {withdraw}"
        if c.consent.description:
            text += f" {c.consent.description}"
        out.append(Entry("Consent", text))
    if c.personalization_switch:
        out.append(
            Entry("Personalization switch", "The service has its own personalization switch.")
        )
    if c.ads_switch:
        out.append(Entry("Ads switch", "The service has its own switch for showing ads."))
    for switch_id in c.system_switches:
        switch = catalog.switches.get(switch_id)
        name = switch.name if switch else switch_id
        out.append(Entry("System switch", f"{name}: {switch.description}" if switch else name))
    rights = c.rights
    for label, value in (
        ("Access", rights.access),
        ("Download", rights.download),
        ("Correct", rights.correct),
        ("Delete", rights.delete),
    ):
        if value:
            out.append(Entry(f"Right to {label.lower()}", value))
    out.extend(Entry("Other", text) for text in c.other)
    return tuple(out)


def param_text(value: RuleValue) -> str:
    """A rule parameter value in words."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return ", ".join(value)
    return str(value)


def rules(catalog: Catalog, service: Service) -> tuple[Entry, ...]:
    """
    The service's promises, each with its mark (kept by code, not yet kept by code, or a
    statement) and its parameters in brackets.
    """
    marks = code_marks(catalog)
    out: list[Entry] = []
    for rule in service.rules:
        text = f"{STATUS_MARKS[marks[f'{service.id}.{rule.id}']]}. {rule.description}"
        if rule.params:
            text += " [" + "; ".join(f"{k}: {param_text(v)}" for k, v in rule.params.items()) + "]"
        out.append(Entry(rule.id, text))
    return tuple(out)


def region_rows(catalog: Catalog) -> tuple[RegionRow, ...]:
    """The regions table: one row per storage site, the region named on its first row."""
    out: list[RegionRow] = []
    for region in catalog.regions_file.regions:
        for i, site in enumerate(region.storage):
            out.append(
                RegionRow(region.name if i == 0 else "", site.provider, ", ".join(site.locations))
            )
    return tuple(out)


def region_details(catalog: Catalog) -> tuple[RegionDetail, ...]:
    """Controller, processor, transfer mechanism and markets of every region."""
    out: list[RegionDetail] = []
    for region in catalog.regions_file.regions:
        markets = ", ".join(m.name for m in catalog.regions_file.markets if m.region == region.id)
        out.append(
            RegionDetail(
                region.name,
                region.controller or "not declared",
                region.processor or "not declared",
                region.transfer_mechanism or "not declared",
                markets or "none",
            )
        )
    return tuple(out)


def switches(catalog: Catalog) -> tuple[Entry, ...]:
    """The system-wide switches: what each governs, its default and where it is offered."""
    out: list[Entry] = []
    for s in catalog.system.switches:
        governs = "every purpose" if s.governs == "all" else purposes_text(s.governs)
        text = f"{s.description} Governs: {governs}. Default: {'on' if s.default else 'off'}."
        if s.first_run:
            text += " Offered during first-run setup."
        users = [svc.name for svc in catalog if s.id in svc.controls.system_switches]
        if users:
            text += f" Listed by: {', '.join(users)}."
        out.append(Entry(s.name, text))
    return tuple(out)


def service_regions(catalog: Catalog, service: Service) -> tuple[Region, ...]:
    """The regions whose markets the service is offered in, in the catalog's order."""
    used = {m.region for m in catalog.regions_file.markets if service.markets.includes(m.id)}
    return tuple(r for r in catalog.regions_file.regions if r.id in used)


def refused_everywhere(catalog: Catalog, service: Service, type_id: str, purpose: Purpose) -> bool:
    """
    Whether a ``gate`` rule refuses a (type, purpose) of the service in every market (a type
    never stored, a refused purpose or source): store answers leave it out, since the gate
    never lets it in.
    """
    for owner in catalog:
        for rule in owner.rules:
            gate = rule.gate
            if gate is None:
                continue
            scope = catalog.services if gate.services == "all" else (gate.services or (owner.id,))
            if service.id in scope and (
                type_id in gate.never_stored or purpose in gate.refuse_purposes
            ):
                return True
            if (
                gate.sources is not None
                and gate.sources.purpose is purpose
                and service.id in gate.sources.never_from
            ):
                return True
    return False


def market_rules(service: Service) -> list[dict[str, str]]:
    """The service's market rules in words (what, where, which promise)."""
    return [
        {
            "promise": f"{service.id}.{r.id}",
            "concerns": r.gate.markets.scope_words,
            "markets": r.gate.markets.market_words,
        }
        for r in service.rules
        if r.gate is not None and r.gate.markets is not None
    ]
