"""
:class:`Analytics`: app-usage analysis released only as differentially private aggregates.

A release reads, through the gate and for the ``analytics`` purpose, the usage of every
person who has sent usage events (the gate refuses anyone whose "Usage and Diagnostics" or
"User Experience Program" switch is off), bounds each person's contribution (each app they
used counts once, at most ``max_apps`` apps), charges each contributor's lifetime budget in
the ledger (a person whose budget would pass the cap is left out, and nothing of theirs is
read), then releases the counts with OpenDP (:mod:`.dp`), suppressing those below k. Only the
release is kept (:data:`~.tables.releases`: no subject, no device, no identifier), and only it
is offered to third parties (:meth:`third_party_view`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from charter.errors import RefusedError
from charter.gate import Gate
from charter.gate.export import register_export_part
from charter.gate.model import Subject
from charter.services.usage.apps import INDEX, SYSTEM_APPS
from charter.services.usage.params import DATA_TYPE, SERVICE, UsageParams
from charter.services.usage.tables import budget, people, releases
from charter.taxonomy import Purpose

if TYPE_CHECKING:  # numpy and OpenDP are imported when a release is made, not at start-up
    from charter.services.usage import dp

MICRO = 1_000_000
QUERY = "app_usage_by_app"
ACTOR = "service:analytics"
THIRD_PARTY_COLUMNS = ("category", "count", "epsilon", "released_at")
"""Everything the third-party interface hands out: no identifier of any kind."""


@dataclass(frozen=True, slots=True)
class Spent:
    """A person's budget for one purpose."""

    purpose: str
    spent: float
    cap: float
    releases: int

    @property
    def left(self) -> float:
        return max(0.0, self.cap - self.spent)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A release and how many people it used or left out (for the staff caller only)."""

    release_id: str
    release: dp.Release
    used: int
    over_budget: int
    refused: int


@dataclass(frozen=True, slots=True)
class BudgetSummary:
    """The ledger of one purpose as aggregates (for staff; no identifier)."""

    purpose: str
    people: int
    spent: float
    mean: float
    max: float
    exhausted: int
    """People who cannot contribute to another release (spent + ε per query > cap)."""
    cap: float


class Analytics:
    """Aggregates over app usage with a per-person lifetime privacy budget."""

    def __init__(self, gate: Gate, params: UsageParams, *, max_apps: int = 5) -> None:
        self.gate = gate
        self.params = params
        self.max_apps = max_apps

    @property
    def control(self) -> Any:
        return self.gate.stores.control()

    def spent(self, subject_id: str) -> list[Spent]:
        """The person's spent budget per purpose (analytics shown even when nothing is spent)."""
        with self.control.connect() as conn:
            rows = conn.execute(select(budget).where(budget.c.subject_id == subject_id)).all()
        found = {r.purpose: r for r in rows}
        purposes = sorted(set(found) | {Purpose.ANALYTICS.value})
        return [
            Spent(
                p,
                found[p].spent_micro / MICRO if p in found else 0.0,
                self.params.lifetime_epsilon,
                int(found[p].releases) if p in found else 0,
            )
            for p in purposes
        ]

    def budget_summary(self) -> list[BudgetSummary]:
        """
        The ledger as aggregates per purpose, for staff: how many people have a row, the ε
        spent in all, on average and at most, and how many are at the cap. No identifier.
        """
        b = budget
        cap_micro = round(self.params.lifetime_epsilon * MICRO)
        per_query = round(self.params.epsilon_per_query * MICRO)
        with self.control.connect() as conn:
            rows = conn.execute(
                select(
                    b.c.purpose,
                    func.count(),
                    func.coalesce(func.sum(b.c.spent_micro), 0),
                    func.coalesce(func.max(b.c.spent_micro), 0),
                    func.count().filter(b.c.spent_micro + per_query > cap_micro),
                )
                .group_by(b.c.purpose)
                .order_by(b.c.purpose)
            ).all()
        return [
            BudgetSummary(
                purpose=str(purpose),
                people=int(people_n),
                spent=int(total) / MICRO,
                mean=int(total) / MICRO / int(people_n) if people_n else 0.0,
                max=int(most) / MICRO,
                exhausted=int(exhausted),
                cap=self.params.lifetime_epsilon,
            )
            for purpose, people_n, total, most, exhausted in rows
        ]

    def release_app_usage(self, *, actor: str) -> Outcome:
        """Release the number of people using each system app (see the module's docstring)."""
        eps = self.params.epsilon_per_query
        eps_micro = round(eps * MICRO)
        cap_micro = round(self.params.lifetime_epsilon * MICRO)
        purpose = Purpose.ANALYTICS.value
        with self.control.connect() as conn:
            population = [r.subject_id for r in conn.execute(select(people.c.subject_id)).all()]
            spent = {
                r.subject_id: int(r.spent_micro)
                for r in conn.execute(
                    select(budget.c.subject_id, budget.c.spent_micro).where(
                        budget.c.purpose == purpose
                    )
                ).all()
            }
        contributions: dict[str, list[int]] = {}
        over = refused = 0
        for sid in population:
            if spent.get(sid, 0) + eps_micro > cap_micro:
                over += 1  # past the lifetime cap: not read, not used
                continue
            try:
                records = self.gate.read(
                    sid,
                    service=SERVICE,
                    purpose=Purpose.ANALYTICS,
                    data_type=DATA_TYPE,
                    actor=ACTOR,
                )
            except RefusedError:
                refused += 1
                continue
            apps = sorted(
                {
                    INDEX[r.value["package_name"]]
                    for r in records
                    if isinstance(r.value, dict) and r.value.get("package_name") in INDEX
                }
            )[: self.max_apps]
            if apps:
                contributions[sid] = apps
        now = self.gate.clock()
        used = self._charge(list(contributions), purpose, eps_micro, cap_micro, now)
        over += len(contributions) - len(used)  # a concurrent release spent it meanwhile
        indices = [i for sid in used for i in contributions[sid]]
        import numpy as np  # noqa: PLC0415 - heavy imports, paid on first use

        from charter.services.usage import dp  # noqa: PLC0415

        counts = dp.histogram(np.asarray(indices, dtype=np.int64), len(SYSTEM_APPS))
        out = dp.release(counts, epsilon=eps, sensitivity=self.max_apps, k=self.params.k_threshold)
        release_id = "ur_" + secrets.token_hex(16)
        kept = [
            {
                "release_id": release_id,
                "category": app,
                "query": QUERY,
                "count": count,
                "epsilon_micro": eps_micro,
                "released_at": now,
            }
            for app, count in zip(SYSTEM_APPS, out.counts, strict=True)
            if count is not None
        ]
        if kept:
            with self.control.begin() as conn:
                conn.execute(insert(releases), kept)
        self.gate.audit_admin(
            actor, "dp_release", {"query": QUERY, "epsilon": eps, "release": release_id}
        )
        return Outcome(release_id, out, len(used), over, refused)

    def _charge(
        self, candidates: list[str], purpose: str, eps_micro: int, cap_micro: int, now: int
    ) -> list[str]:
        """
        Charge each candidate whose budget allows it, atomically, before anything is released
        (a crash then only over-counts what was spent). Each person's row is first made to
        exist (an insert that does nothing on conflict, so two releases meeting a new person
        do not collide), then charged by one conditional update (``spent + ε <= cap`` is part
        of the ``WHERE``, re-checked under the row lock), people in a fixed order so
        concurrent releases take their locks in the same order. Returns those charged; only
        their contributions are used.
        """
        b = budget
        charged: list[str] = []
        ordered = sorted(set(candidates))
        if not ordered or eps_micro > cap_micro:
            return charged
        with self.control.begin() as conn:
            conn.execute(
                _insert_absent(conn.dialect.name),
                [
                    {
                        "subject_id": sid,
                        "purpose": purpose,
                        "spent_micro": 0,
                        "releases": 0,
                        "updated_at": now,
                    }
                    for sid in ordered
                ],
            )
            for sid in ordered:
                done = conn.execute(
                    update(b)
                    .where(
                        b.c.subject_id == sid,
                        b.c.purpose == purpose,
                        b.c.spent_micro + eps_micro <= cap_micro,
                    )
                    .values(
                        spent_micro=b.c.spent_micro + eps_micro,
                        releases=b.c.releases + 1,
                        updated_at=now,
                    )
                ).rowcount
                if done:
                    charged.append(sid)
        return charged

    def third_party_view(self) -> list[dict[str, Any]]:
        """The only interface a third party gets: released aggregates, no identifier."""
        with self.control.connect() as conn:
            rows = conn.execute(
                select(releases).order_by(releases.c.released_at, releases.c.category)
            ).all()
        return [
            {
                "category": r.category,
                "count": int(r.count),
                "epsilon": r.epsilon_micro / MICRO,
                "released_at": int(r.released_at),
            }
            for r in rows
        ]


def _insert_absent(dialect: str) -> Any:
    """``INSERT`` into the ledger that does nothing where the person's row exists."""
    if dialect == "postgresql":
        return pg_insert(budget).on_conflict_do_nothing()
    return sqlite_insert(budget).on_conflict_do_nothing()


def _budget_part(gate: Gate, subject: Subject) -> list[dict[str, Any]]:
    """The person's spent privacy budget, as their export shows it."""
    analytics = Analytics(gate, UsageParams.from_catalog(gate.catalog))
    return [
        {
            "purpose": s.purpose,
            "spent": s.spent,
            "cap": s.cap,
            "left": s.left,
            "releases": s.releases,
        }
        for s in analytics.spent(subject.id)
    ]


register_export_part("privacy_budget", _budget_part)
