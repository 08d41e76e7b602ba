"""What the catalog declares for app usage data, read once: event kinds and their fields and
frequencies, essential telemetry, and the privacy budget of aggregated analysis."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from charter.catalog import Catalog
from charter.errors import ConfigError

SERVICE = "app_usage_data"
DATA_TYPE = "app_usage_data"


@dataclass(frozen=True, slots=True)
class EventKind:
    """One declared kind of usage event."""

    name: str
    rule: str
    fields: frozenset[str]
    per_day: int | None


@dataclass(frozen=True, slots=True)
class UsageParams:
    """The service's declared parameters."""

    kinds: dict[str, EventKind]
    essential_for: tuple[str, ...]
    essential_fields: frozenset[str]
    essential_retention_days: int
    epsilon_per_query: float
    lifetime_epsilon: float
    k_threshold: int
    local_epsilon: float

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> UsageParams:
        """Read the rules of ``app_usage_data``; a missing parameter is a configuration error."""
        rules = {r.id: r for r in catalog.service(SERVICE).rules}
        kinds: dict[str, EventKind] = {}
        for rule in rules.values():
            if rule.id.startswith("event_"):
                p = rule.params
                per_day = p.get("per_day")
                kinds[str(p["kind"])] = EventKind(
                    str(p["kind"]),
                    f"{SERVICE}.{rule.id}",
                    frozenset(_strings(p.get("fields", ()))),
                    int(per_day) if isinstance(per_day, int) else None,
                )
        try:
            ess = rules["essential_telemetry"].params
            agg = rules["aggregated_analysis"].params
            return cls(
                kinds=kinds,
                essential_for=tuple(_strings(ess["for"])),
                essential_fields=frozenset(_strings(ess["fields"])),
                essential_retention_days=int(str(ess["retention_days"])),
                epsilon_per_query=float(str(agg["epsilon_per_query"])),
                lifetime_epsilon=float(str(agg["lifetime_epsilon"])),
                k_threshold=int(str(agg["k_threshold"])),
                local_epsilon=float(str(agg["local_epsilon"])),
            )
        except KeyError as exc:
            raise ConfigError(
                f"catalog service {SERVICE}: rule parameter {exc} is missing "
                "(see docs/telemetry.md for the parameters the usage service reads)"
            ) from None


BUDGET_RULE = "aggregated_analysis"
BUDGET_SETTINGS = {
    "epsilon_per_query": "CHARTER_USAGE_EPSILON_PER_QUERY",
    "lifetime_epsilon": "CHARTER_USAGE_LIFETIME_EPSILON",
}
"""The privacy-budget parameters a deployment may set, and the variables that set them."""


def tighten_budget(
    catalog: Catalog,
    *,
    epsilon_per_query: float | None = None,
    lifetime_epsilon: float | None = None,
) -> Catalog:
    """
    The catalog with the deployment's privacy budget in force: ``aggregated_analysis``'s
    ``epsilon_per_query`` and ``lifetime_epsilon`` replaced by the settings given, so the
    release code, the ledger and every rendering of the catalog (the paper, the Privacy
    Center) state the same values. A setting may only tighten what the catalog declares:
    the catalog is the published promise, so a looser value would break it silently.

    Raises:
        ConfigError: a setting is above the catalog's value, or ε per query is above the
            lifetime cap (no release could ever be charged).
    """
    if epsilon_per_query is None and lifetime_epsilon is None:
        return catalog
    service = catalog.service(SERVICE)
    rule = next((r for r in service.rules if r.id == BUDGET_RULE), None)
    if rule is None:
        raise ConfigError(
            f"the privacy budget is set ({', '.join(BUDGET_SETTINGS.values())}) but the catalog "
            f"has no rule {SERVICE}.{BUDGET_RULE} to tighten; unset them or add the rule"
        )
    params = dict(rule.params)
    for name, value in (
        ("epsilon_per_query", epsilon_per_query),
        ("lifetime_epsilon", lifetime_epsilon),
    ):
        if value is None:
            continue
        declared = float(str(params.get(name, "nan")))
        env = BUDGET_SETTINGS[name]
        if not value <= declared:
            raise ConfigError(
                f"{env}={value:g} would loosen the catalog's {SERVICE}.{BUDGET_RULE} "
                f"{name} ({declared:g}); a deployment may only tighten the published budget: "
                f"set a value up to {declared:g}, or unset {env}"
            )
        params[name] = value
    per_query = float(str(params["epsilon_per_query"]))
    lifetime = float(str(params["lifetime_epsilon"]))
    if per_query > lifetime:
        raise ConfigError(
            f"ε per query ({per_query:g}) is above the lifetime cap ({lifetime:g}): no release "
            f"could ever be charged; lower {BUDGET_SETTINGS['epsilon_per_query']} or raise "
            f"{BUDGET_SETTINGS['lifetime_epsilon']} (up to the catalog's value)"
        )
    rules = tuple(
        r.model_copy(update={"params": params}) if r.id == BUDGET_RULE else r for r in service.rules
    )
    services = {**catalog.services, SERVICE: service.model_copy(update={"rules": rules})}
    return dataclasses.replace(catalog, services=services)


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, tuple):
        return tuple(str(v) for v in value)
    return (str(value),)
