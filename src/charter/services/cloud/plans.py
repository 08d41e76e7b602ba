"""Membership plans: how much a person may store and how long the trash keeps items."""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1 << 30


@dataclass(frozen=True, slots=True)
class Plan:
    """A membership plan."""

    name: str
    quota_bytes: int
    trash_days: int


PLANS: dict[str, Plan] = {
    p.name: p
    for p in (
        Plan("free", 5 * GIB, 30),
        Plan("plus", 50 * GIB, 90),
        Plan("premium", 200 * GIB, 180),
    )
}
"""The trash window runs from 30 days (free) to 180 days, as the catalog's rule says."""

DEFAULT_PLAN = "free"
