"""What the catalog declares for app usage data, read once: event kinds and their fields and
frequencies, essential telemetry, and the privacy budget of aggregated analysis."""

from __future__ import annotations

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


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, tuple):
        return tuple(str(v) for v in value)
    return (str(value),)
