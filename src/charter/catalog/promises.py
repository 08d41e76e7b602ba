"""
The promises report: every rule of a catalog with who keeps it, the tests that prove it and
a status. Pure: the caller hands in the enforcers the loaded services register, the tests
found by :func:`charter.catalog.proofs.collect_proofs` and the markets the deployment names.

Statuses:

- ``kept``: code keeps it (the gate's policy, or a loaded service's enforcer) and at least
  one test proves it;
- ``pending``: the code that will keep it is not built or not configured yet (a service not
  built yet, a ``device`` rule the device agent registers no enforcer for, or a rule whose
  markets the deployment has not named);
- ``statement``: a promise about people or process that code cannot keep;
- ``unkept``: a ``gate`` or ``service`` rule with no enforcer or no test, or a ``device``
  rule the device agent registers (``device``) with no test.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from charter.catalog.catalog import Catalog
from charter.catalog.model import Rule, RuleKind, Service

GATE_ENFORCER = "gate.policy"
"""The enforcer of every ``gate`` rule: the gate's compiled policy decision."""


class Status(StrEnum):
    """Whether a promise is kept by code."""

    KEPT = "kept"
    PENDING = "pending"
    STATEMENT = "statement"
    UNKEPT = "unkept"


STATUS_MARKS: dict[Status, str] = {
    Status.KEPT: "Kept by code",
    Status.PENDING: "Not yet kept by code",
    Status.STATEMENT: "Statement",
    Status.UNKEPT: "Not kept",
}
"""The mark a reader sees next to a promise."""


@dataclass(frozen=True, slots=True)
class Promise:
    """One rule of a catalog as a promise."""

    id: str
    service: str
    rule: Rule
    enforcer: str | None
    tests: tuple[str, ...]
    status: Status
    why: str

    @property
    def kind(self) -> RuleKind:
        """Who keeps it."""
        return self.rule.kind

    @property
    def mark(self) -> str:
        """The words shown next to the promise."""
        return STATUS_MARKS[self.status]

    def to_json(self) -> dict[str, object]:
        """Plain JSON-compatible data."""
        return {
            "id": self.id,
            "service": self.service,
            "rule": self.rule.id,
            "kind": self.kind.value,
            "description": self.rule.description,
            "enforcer": self.enforcer,
            "tests": list(self.tests),
            "status": self.status.value,
            "why": self.why,
        }


def deployment_rules(catalog: Catalog) -> dict[str, Rule]:
    """The gate rules whose markets the deployment names, by id."""
    return {
        f"{s.id}.{r.id}": r
        for s in catalog
        for r in s.rules
        if r.gate is not None and r.gate.markets is not None and r.gate.markets.from_deployment
    }


def check_deployment_markets(catalog: Catalog, chosen: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Problems with the markets a deployment names for rules (empty when all is well)."""
    rules = deployment_rules(catalog)
    out: list[str] = []
    for rule_id, markets in chosen.items():
        if rule_id not in rules:
            known = ", ".join(sorted(rules)) or "none in this catalog"
            out.append(f"{rule_id} takes no markets from the deployment (rules that do: {known})")
            continue
        unknown = [m for m in markets if m not in catalog.markets]
        if unknown:
            out.append(
                f"{rule_id}: {', '.join(unknown)} not in the catalog's markets (regions.yaml)"
            )
        if not markets:
            out.append(f"{rule_id}: name at least one market")
    return out


def missing_enforcers(catalog: Catalog, bound: Mapping[str, frozenset[str]]) -> list[str]:
    """The ``service`` rules of loaded services (those in ``bound``) with no registered enforcer."""
    out: list[str] = []
    for service in catalog:
        registered = bound.get(service.id)
        if registered is None:
            continue
        for rule in service.rules:
            if rule.kind is RuleKind.SERVICE and rule.enforcer not in registered:
                out.append(f"{service.id}.{rule.id} (enforcer {rule.enforcer})")
    return out


def promise_report(
    catalog: Catalog,
    *,
    proofs: Mapping[str, tuple[str, ...]],
    bound: Mapping[str, frozenset[str]],
    deployment_markets: Mapping[str, tuple[str, ...]],
    device: Mapping[str, frozenset[str]] | None = None,
) -> list[Promise]:
    """Every rule of the catalog, in catalog order, with its status; ``device`` holds the
    enforcers the device agent registers for ``device`` rules, by service."""
    return [
        _promise(service, rule, proofs, bound, deployment_markets, device or {})
        for service in catalog
        for rule in service.rules
    ]


def device_enforcer(service: Service, rule: Rule) -> str:
    """The enforcer id of a ``device`` rule: the one it names, else ``<service>.<rule>``."""
    return rule.enforcer or f"{service.id}.{rule.id}"


def _promise(
    service: Service,
    rule: Rule,
    proofs: Mapping[str, tuple[str, ...]],
    bound: Mapping[str, frozenset[str]],
    deployment_markets: Mapping[str, tuple[str, ...]],
    device: Mapping[str, frozenset[str]],
) -> Promise:
    pid = f"{service.id}.{rule.id}"
    tests = proofs.get(pid, ())

    def made(status: Status, enforcer: str | None, why: str) -> Promise:
        return Promise(pid, service.id, rule, enforcer, tests, status, why)

    if rule.kind is RuleKind.STATEMENT:
        return made(
            Status.STATEMENT, None, "a promise about people or process; code cannot keep it"
        )
    if rule.kind is RuleKind.DEVICE:
        enforcer = device_enforcer(service, rule)
        if enforcer not in device.get(service.id, frozenset()):
            return made(
                Status.PENDING,
                rule.enforcer,
                f"the device agent (charter.device) registers no enforcer for it ({enforcer})",
            )
        if not tests:
            return made(Status.UNKEPT, enforcer, "no test proves it")
        return made(Status.KEPT, enforcer, "kept by the device agent (charter.device)")
    if rule.kind is RuleKind.GATE:
        markets = rule.gate.markets if rule.gate is not None else None
        if markets is not None and markets.from_deployment and pid not in deployment_markets:
            return made(
                Status.PENDING,
                GATE_ENFORCER,
                f"the deployment has not named its markets: set "
                f'CHARTER_RULE_MARKETS="{pid}=<market>,<market>" (market ids of regions.yaml, '
                f"e.g. {pid}=ae,sa) and restart",
            )
        if not tests:
            return made(Status.UNKEPT, GATE_ENFORCER, "no test proves it")
        return made(Status.KEPT, GATE_ENFORCER, "refused by the gate's policy decision")
    registered = bound.get(service.id)
    if registered is None:
        return made(
            Status.PENDING,
            rule.enforcer,
            f"the service that keeps it ({service.id}) is not built yet",
        )
    if rule.enforcer not in registered:
        return made(Status.UNKEPT, rule.enforcer, f"{service.id} registers no such enforcer")
    if not tests:
        return made(Status.UNKEPT, rule.enforcer, "no test proves it")
    return made(Status.KEPT, rule.enforcer, f"kept by {service.id}'s enforcer")


def code_marks(
    catalog: Catalog,
    bound: Mapping[str, frozenset[str]] | None = None,
    deployment_markets: Mapping[str, tuple[str, ...]] | None = None,
    device: Mapping[str, frozenset[str]] | None = None,
) -> dict[str, Status]:
    """
    Per rule id, whether code keeps it, as a published document marks it: the status a rule
    has once its tests exist (``scripts/test`` fails on any rule without them, so a released
    catalog has none). Services not in ``bound`` and deployment markets not given count as not
    yet built or set.
    """
    report = promise_report(
        catalog,
        proofs={f"{s.id}.{r.id}": ("(proved)",) for s in catalog for r in s.rules},
        bound=bound or {},
        deployment_markets=deployment_markets or {},
        device=device,
    )
    return {p.id: p.status for p in report}


def counts(promises: list[Promise]) -> dict[Status, int]:
    """How many promises have each status (every status listed)."""
    found = Counter(p.status for p in promises)
    return {s: found.get(s, 0) for s in Status}
