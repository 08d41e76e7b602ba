"""
The catalog's data model: what a service declares, validated by pydantic.

A catalog is a folder of YAML files (see ``docs/catalog-format.md``):

- ``catalog.yaml``: id, name, version and the order services are presented in;
- ``regions.yaml``: regions (storage locations, cloud providers, controller) and markets;
- ``system.yaml``: system-wide switches;
- ``datatypes.yaml`` (optional): data types beyond the built-in vocabulary;
- one YAML file per service.

Models here are frozen and pure. Cross-file checks live in :mod:`charter.catalog.checks`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ModelWrapValidatorHandler, model_validator

from charter.taxonomy import (
    DECLARED_AT_REST,
    DECLARED_TRANSIT,
    AtRest,
    Category,
    DeclaredProtection,
    Purpose,
    Qualifier,
    RetentionKind,
    Transit,
    retention_label,
)

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=64)]
MarketId = Annotated[str, Field(pattern=r"^[a-z]{2}$")]
Text = Annotated[str, Field(min_length=1, max_length=4000)]

_APPLIED_AT_REST: dict[str, AtRest] = {a.value: a for a in AtRest} | {
    k: AtRest(d.applies) for k, d in DECLARED_AT_REST.items()
}
_TRANSIT_IDS = frozenset(t.value for t in Transit) | frozenset(DECLARED_TRANSIT)
_AT_REST_IDS = frozenset(a.value for a in AtRest) | frozenset(DECLARED_AT_REST)

PrintedColumn = Literal[
    "category", "type", "qualifier", "purposes", "transit", "at_rest", "retention"
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


_RETENTIONS: dict[str | int, Retention] = {}


class Retention(_Model):
    """How long records of a row are kept."""

    kind: RetentionKind
    days: int | None = Field(default=None, ge=1, le=36500)

    @model_validator(mode="wrap")
    @classmethod
    def _from_shorthand(
        cls, value: Any, handler: ModelWrapValidatorHandler[Retention]
    ) -> Retention:
        # A catalog repeats a handful of retentions over thousands of rows: each distinct
        # shorthand is validated once and the frozen result shared.
        key: str | int | None = None
        if isinstance(value, str) and value in (
            RetentionKind.UNTIL_DELETED,
            RetentionKind.NOT_STORED,
        ):
            key, value = value, {"kind": value}
        elif isinstance(value, dict) and set(value) == {"days"}:
            if type(value["days"]) is int:
                key = value["days"]
            value = {"kind": RetentionKind.DAYS, "days": value["days"]}
        if key is None:
            return handler(value)
        found = _RETENTIONS.get(key)
        if found is None:
            found = _RETENTIONS[key] = handler(value)
        return found

    @model_validator(mode="after")
    def _days_only_for_days(self) -> Retention:
        if (self.kind is RetentionKind.DAYS) != (self.days is not None):
            raise ValueError(
                "retention needs 'days' exactly when it is a number of days, e.g. {days: 90}"
            )
        return self

    @property
    def label(self) -> str:
        """The retention as the reference tables print it."""
        return retention_label(self.kind, self.days)


def _unique(values: tuple[Any, ...], what: str) -> tuple[Any, ...]:
    seen: set[Any] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{what} {v!s} is listed twice; list it once")
        seen.add(v)
    return values


class InventoryRow(_Model):
    """
    One row of a service's data inventory.

    ``transit`` and ``at_rest`` accept a taxonomy id or a declared label id such as ``md5``;
    the latter is kept for rendering and mapped to what Charter really applies.
    ``printed`` overrides a rendered cell with the exact text of the source document.
    """

    category: Category
    type: Identifier
    qualifier: Qualifier
    purposes: tuple[Purpose, ...] = Field(min_length=1)
    transit: tuple[str, ...] = Field(min_length=1)
    at_rest: str
    retention: Retention
    printed: dict[PrintedColumn, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> InventoryRow:
        # One validator per row: the catalog benchmark loads 30,000 rows.
        if len(set(self.purposes)) != len(self.purposes):
            _unique(self.purposes, "purpose")
        for item in self.transit:
            if item not in _TRANSIT_IDS:
                raise ValueError(
                    f"unknown transit protection {item!r}; use one of: {', '.join(sorted(_TRANSIT_IDS))}"
                )
        if len(set(self.transit)) != len(self.transit):
            _unique(self.transit, "transit protection")
        if self.at_rest not in _AT_REST_IDS:
            raise ValueError(
                f"unknown at-rest protection {self.at_rest!r}; use one of: {', '.join(sorted(_AT_REST_IDS))}"
            )
        not_stored_rest = self.protection is AtRest.NOT_STORED
        not_stored_kept = self.retention.kind is RetentionKind.NOT_STORED
        if not_stored_rest != not_stored_kept:
            raise ValueError(
                "at_rest 'not_stored' and retention 'not_stored' go together; set both or neither"
            )
        return self

    @property
    def protection(self) -> AtRest:
        """The at-rest protection Charter applies to values of this row."""
        return _APPLIED_AT_REST[self.at_rest]

    @property
    def declared_at_rest(self) -> DeclaredProtection | None:
        """The weaker protection the source document names, if any."""
        return DECLARED_AT_REST.get(self.at_rest)

    @property
    def transit_protections(self) -> tuple[Transit, ...]:
        """The in-transit protections Charter applies."""
        out: list[Transit] = []
        for t in self.transit:
            declared = DECLARED_TRANSIT.get(t)
            out.append(Transit(declared.applies) if declared else Transit(t))
        return tuple(out)

    @property
    def declared_transit(self) -> tuple[DeclaredProtection, ...]:
        """The weaker in-transit protections the source document names."""
        return tuple(DECLARED_TRANSIT[t] for t in self.transit if t in DECLARED_TRANSIT)


class Collected(_Model):
    """A data type a function collects, and for which purposes."""

    type: Identifier
    purposes: tuple[Purpose, ...] = Field(min_length=1)


class ThirdParty(_Model):
    """A recipient outside the controller and what it receives."""

    recipient: Text
    types: tuple[Identifier, ...] = Field(min_length=1)
    purpose: Purpose
    description: Text


class Function(_Model):
    """A function or module of a service and the data it processes."""

    id: Identifier
    name: Text
    description: Text
    collects: tuple[Collected, ...] = ()
    on_device_only: bool = False
    third_parties: tuple[ThirdParty, ...] = ()


class WithdrawalEffect(StrEnum):
    """What happens when a person withdraws a service's authorization."""

    STOP_COLLECTION = "stop_collection"
    DELETE_SERVER_DATA = "delete_server_data"
    DELETE_DEVICE_DATA = "delete_device_data"
    DISABLE_SERVICE = "disable_service"


class Consent(_Model):
    """The service's authorization (consent) and what withdrawing it does."""

    asked: bool = Field(description="True when the service asks before first use (opt-in).")
    withdrawable: bool = True
    on_withdrawal: tuple[WithdrawalEffect, ...] = (WithdrawalEffect.STOP_COLLECTION,)
    description: Text | None = None


class Rights(_Model):
    """How people exercise their rights for this service, in plain words."""

    access: Text | None = None
    download: Text | None = None
    correct: Text | None = None
    delete: Text | None = None


class Controls(_Model):
    """The privacy controls a service offers."""

    consent: Consent | None = None
    personalization_switch: bool = False
    ads_switch: bool = False
    system_switches: tuple[Identifier, ...] = ()
    rights: Rights = Rights()
    other: tuple[Text, ...] = ()


RuleValue = int | float | bool | str | tuple[str, ...]

DEPLOYMENT = "deployment"
"""In a market rule: the markets are not named by the catalog but set by the deployment."""

EnforcerId = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$", min_length=3, max_length=128)
]


class RuleKind(StrEnum):
    """Who keeps a rule."""

    GATE = "gate"
    """The gate: compiled into the same policy decision as the inventory."""
    SERVICE = "service"
    """A service's own code, through the enforcer the rule names."""
    DEVICE = "device"
    """The device agent (``charter.device``), through the enforcers it registers."""
    STATEMENT = "statement"
    """A promise about people or process that code cannot keep."""


class MarketRule(_Model):
    """
    Where part of a service is offered: a function, a data type, a purpose, a combination of
    them, or (naming none) the whole service. ``available`` (``all`` or markets) or ``only`` (markets) names where; ``except``
    subtracts. Either list may be ``deployment``: the deployment sets the markets.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    function: Identifier | None = None
    type: Identifier | None = None
    purpose: Purpose | None = None
    available: Literal["all"] | tuple[MarketId, ...] | None = None
    only: Literal["deployment"] | tuple[MarketId, ...] | None = None
    except_: Literal["deployment"] | tuple[MarketId, ...] | None = Field(
        default=None, alias="except"
    )

    @model_validator(mode="after")
    def _complete(self) -> MarketRule:
        if self.only is not None and self.available is not None:
            raise ValueError("give 'only' or 'available', not both")
        if self.only is None and self.available is None and self.except_ is None:
            raise ValueError("a market rule needs 'only', 'available' or 'except'")
        for listed in (self.only, self.available, self.except_):
            if isinstance(listed, tuple):
                _unique(listed, "market")
        return self

    @property
    def scope_words(self) -> str:
        """What the rule concerns, e.g. ``function points_mall, purpose personalization``."""
        parts = [
            f"{name} {value}"
            for name, value in (("function", self.function), ("type", self.type))
            if value is not None
        ]
        if self.purpose is not None:
            parts.append(f"purpose {self.purpose.value}")
        return ", ".join(parts) or "the whole service"

    @property
    def market_words(self) -> str:
        """Where, e.g. ``only in`` or ``everywhere the service is, except es``."""

        def listed(value: str | tuple[str, ...]) -> str:
            return "markets the deployment names" if value == DEPLOYMENT else ", ".join(value)

        given = self.only if self.only is not None else self.available
        text = (
            "everywhere the service is"
            if given is None or given == "all"
            else f"only {listed(given)}"
        )
        if self.except_ is not None:
            text += f", except {listed(self.except_)}"
        return text

    @property
    def from_deployment(self) -> bool:
        """Whether the deployment names the markets."""
        return DEPLOYMENT in (self.only, self.except_)


class SourceRule(_Model):
    """Services a purpose may never read data of."""

    purpose: Purpose
    never_from: tuple[Identifier, ...] = Field(min_length=1)


class GateRule(_Model):
    """What a ``gate`` rule narrows; exactly one of its clauses."""

    markets: MarketRule | None = None
    never_stored: tuple[Identifier, ...] = ()
    refuse_purposes: tuple[Purpose, ...] = ()
    services: Literal["all"] | tuple[Identifier, ...] | None = Field(
        default=None,
        description="Where never_stored and refuse_purposes apply (default: the rule's service).",
    )
    sources: SourceRule | None = None

    @model_validator(mode="after")
    def _one_clause(self) -> GateRule:
        given = [
            name
            for name, value in (
                ("markets", self.markets),
                ("never_stored", self.never_stored),
                ("refuse_purposes", self.refuse_purposes),
                ("sources", self.sources),
            )
            if value
        ]
        if len(given) != 1:
            raise ValueError(
                "a gate rule has exactly one of: markets, never_stored, refuse_purposes, sources"
            )
        if self.services is not None and given[0] not in ("never_stored", "refuse_purposes"):
            raise ValueError("'services' goes only with never_stored or refuse_purposes")
        return self


class Rule(_Model):
    """
    A promise of a service, with the kind of code that keeps it (see ``docs/catalog-format.md``)
    and, optionally, machine-readable parameters (e.g. trash windows).
    """

    id: Identifier
    description: Text
    kind: RuleKind
    enforcer: EnforcerId | None = None
    gate: GateRule | None = None
    params: dict[Identifier, RuleValue] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _kind_fits(self) -> Rule:
        if (self.kind is RuleKind.GATE) != (self.gate is not None):
            raise ValueError(
                "a rule of kind 'gate' says what it narrows under 'gate:' (and only it does)"
            )
        if self.kind is RuleKind.SERVICE and self.enforcer is None:
            raise ValueError(
                "a rule of kind 'service' names the service's enforcer, e.g. enforcer: cloud.trash_window"
            )
        if self.kind in (RuleKind.GATE, RuleKind.STATEMENT) and self.enforcer is not None:
            raise ValueError(
                f"a rule of kind '{self.kind.value}' names no enforcer; remove 'enforcer'"
            )
        return self


class Markets(_Model):
    """Where a service is offered: ``available`` is ``all`` or a list; ``excluded`` subtracts."""

    available: Literal["all"] | tuple[MarketId, ...] = "all"
    excluded: tuple[MarketId, ...] = ()

    def includes(self, market: str) -> bool:
        """Whether the service is offered in ``market``."""
        if market in self.excluded:
            return False
        return self.available == "all" or market in self.available


class Service(_Model):
    """A service and everything it declares."""

    id: Identifier
    name: Text
    summary: Text
    markets: Markets = Markets()
    on_device_only: bool = False
    inventory: tuple[InventoryRow, ...] = ()
    functions: tuple[Function, ...] = ()
    controls: Controls = Controls()
    rules: tuple[Rule, ...] = ()

    @model_validator(mode="after")
    def _on_device_has_no_inventory(self) -> Service:
        if self.on_device_only and self.inventory:
            raise ValueError(
                "an on-device-only service declares no server-side inventory; "
                "remove 'inventory' or set on_device_only: false"
            )
        return self

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with id ``rule_id``, if declared."""
        return next((r for r in self.rules if r.id == rule_id), None)


class StorageSite(_Model):
    """A cloud provider and where it stores a region's data."""

    provider: Text
    locations: tuple[Text, ...] = Field(min_length=1)


class Region(_Model):
    """A storage region: where data of its markets lives and who controls it."""

    id: Identifier
    name: Text
    storage: tuple[StorageSite, ...] = Field(min_length=1)
    controller: Text | None = None
    processor: Text | None = None
    transfer_mechanism: Text | None = None


class Market(_Model):
    """A country or territory (ISO 3166-1 alpha-2, lower case) and its region."""

    id: MarketId
    name: Text
    region: Identifier


class Regions(_Model):
    """The ``regions.yaml`` file."""

    regions: tuple[Region, ...] = Field(min_length=1)
    markets: tuple[Market, ...] = Field(min_length=1)


class SystemSwitch(_Model):
    """A system-wide switch that governs some purposes of the services that list it."""

    id: Identifier
    name: Text
    description: Text
    default: bool
    governs: Literal["all"] | tuple[Purpose, ...]
    first_run: bool = Field(default=False, description="Offered during device first-run.")


class System(_Model):
    """The ``system.yaml`` file."""

    switches: tuple[SystemSwitch, ...] = ()


class DataTypeDecl(_Model):
    """A data type a catalog adds to the built-in vocabulary."""

    id: Identifier
    label: Text
    category: Category
    definition: Text
    kind_of: Identifier | None = Field(
        default=None, description="A built-in type this one refines."
    )


class DataTypes(_Model):
    """The ``datatypes.yaml`` file."""

    types: tuple[DataTypeDecl, ...] = ()


class CatalogInfo(_Model):
    """The ``catalog.yaml`` file."""

    id: Identifier
    name: Text
    version: Text
    description: Text | None = None
    source: Text | None = None
    order: tuple[Identifier, ...] = ()
