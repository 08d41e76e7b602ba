"""
Where a service, one of its functions or one of its purposes is offered: the catalog's
``markets`` of the service and its ``gate`` market rules (as the policy compiled them,
deployment-named markets included), asked before a service does anything in a market.

A refusal is a :class:`~charter.errors.RefusedError` with the reason ``market_unavailable``
and a message naming the promise that refuses, as the gate itself would answer.
"""

from __future__ import annotations

from charter.errors import InputError, RefusedError
from charter.policy import CompiledCatalog
from charter.taxonomy import Purpose

MARKET_UNAVAILABLE = "market_unavailable"


def known_market(markets: frozenset[str], market: str) -> str:
    """
    A market id as the catalog spells it.

    Raises:
        InputError: not a market of the catalog (regions.yaml).
    """
    found = market.strip().lower()
    if found not in markets:
        raise InputError(
            "unknown market; use a two-letter market id of the catalog (e.g. in, es, de)",
            field="market",
        )
    return found


def service_refusal(compiled: CompiledCatalog, service: str, market: str) -> str | None:
    """Why ``service`` is not offered in ``market`` (``None`` when it is)."""
    allowed = compiled.markets_by_service.get(service)
    if market in compiled.excluded_by_service.get(service, frozenset()) or (
        allowed is not None and market not in allowed
    ):
        listed = ", ".join(sorted(allowed)) if allowed is not None else "every market"
        return f"{service} is not offered in the subject's market (it is offered in: {listed})"
    gates = [g for (sid, _t, _p), g in compiled.rules.gates.items() if sid == service]
    declared = {(k[1], k[3]) for k in compiled.rows if k[0] == service}
    if gates and len(gates) >= len(declared):
        checks = [g.refusal(market) for g in gates]
        if all(c is not None for c in checks):
            first = checks[0]
            assert first is not None
            return first.message
    return None


def purpose_refusal(
    compiled: CompiledCatalog,
    service: str,
    market: str,
    *,
    purpose: Purpose,
    data_type: str | None = None,
) -> str | None:
    """Why ``purpose`` (optionally of one data type) of ``service`` is refused in ``market``
    by a gate rule: every declared (type, purpose) pair it covers is refused there."""
    pairs = {
        (k[1], k[3])
        for k in compiled.rows
        if k[0] == service and k[3] is purpose and (data_type is None or k[1] == data_type)
    }
    if not pairs:
        return f"{service} declares nothing for {purpose.value}"
    found: list[str] = []
    for type_id, p in sorted(pairs):
        gate = compiled.rules.gates.get((service, type_id, p))
        check = gate.refusal(market) if gate is not None else None
        if check is None:
            return None
        found.append(check.message)
    return found[0]


def require_service(compiled: CompiledCatalog, service: str, market: str) -> None:
    """
    Raises:
        RefusedError: ``market_unavailable``: the service is not offered in ``market``.
    """
    why = service_refusal(compiled, service, market)
    if why is not None:
        raise RefusedError(why, code=MARKET_UNAVAILABLE, field="market")


def require_purpose(
    compiled: CompiledCatalog,
    service: str,
    market: str,
    *,
    purpose: Purpose,
    data_type: str | None = None,
) -> None:
    """
    Raises:
        RefusedError: ``market_unavailable``: a gate rule refuses it in ``market``.
    """
    require_service(compiled, service, market)
    why = purpose_refusal(compiled, service, market, purpose=purpose, data_type=data_type)
    if why is not None:
        raise RefusedError(why, code=MARKET_UNAVAILABLE, field="market")
