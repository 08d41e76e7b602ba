"""
:class:`Aggregates`: add analytics reports to counters and release only aggregates.

A report (kind, module, event, value) is first decided by the gate's policy exactly as a
collection would be, for an app-instance subject (the catalog declares these types
pseudonymized: linked to no account): the service's authorization and the User Experience
Program switch must be on, and the service offered in the person's market. An allowed report
adds one to the row's ``reports`` and its value to ``total``; nothing else is written, so no
stored row can be tied back to the person. :meth:`Aggregates.report` leaves out every row
fewer than :data:`MIN_REPORTS` reports made, so a released figure never describes one person.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update

from charter.errors import InputError, RefusedError
from charter.policy import SubjectKind, decide_collect
from charter.services.aggregates.tables import counters
from charter.taxonomy import Purpose

if TYPE_CHECKING:
    from charter.gate import Gate

MIN_REPORTS = 10
"""A counter is released only once this many reports added to it."""
MAX_REPORTS = 500
"""Reports one call may carry."""
DAY = 86_400 * 1_000_000
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


@dataclass(frozen=True, slots=True)
class Count:
    """One released aggregate."""

    day: int
    kind: str
    module: str
    event: str
    reports: int
    total: int


@dataclass(frozen=True, slots=True)
class Report:
    """One analytics measure as a device sends it."""

    kind: str
    module: str
    event: str
    value: int = 1


class Aggregates:
    """Counters of one service's analytics."""

    def __init__(self, gate: Gate, service: str, kinds: Sequence[str]) -> None:
        self.gate = gate
        self.service = service
        self.kinds = tuple(kinds)

    def check(self, reports: Sequence[Report]) -> None:
        """
        Raises:
            InputError: too many reports, an unknown kind, or a malformed name or value.
        """
        if not reports or len(reports) > MAX_REPORTS:
            raise InputError(f"send 1 to {MAX_REPORTS} reports", field="reports")
        for i, r in enumerate(reports):
            if r.kind not in self.kinds:
                raise InputError(
                    f"reports[{i}].kind: {self.service} counts only {', '.join(self.kinds)}",
                    field="kind",
                )
            for name, text in (("module", r.module), ("event", r.event)):
                if not NAME.match(text):
                    raise InputError(
                        f"reports[{i}].{name}: a lower-case name of 1-40 letters, digits, "
                        "'_' or '-', starting with a letter",
                        field=name,
                    )
            if not 0 <= r.value <= 1_000_000:
                raise InputError(f"reports[{i}].value: 0 to 1,000,000", field="value")

    def add(self, subject_id: str, reports: Sequence[Report]) -> int:
        """
        Add reports of a person to the counters; returns how many were counted.

        Raises:
            InputError: see :meth:`check`.
            RefusedError: the gate's policy refuses analytics for this person (with its
                reason: no authorization, the User Experience Program off, not in market).
        """
        self.check(reports)
        subject = self.gate.subject(subject_id)
        switches = self.gate.switches(subject_id)
        now = self.gate.clock()
        for kind in sorted({r.kind for r in reports}):
            decision = decide_collect(
                self.gate.compiled,
                service=self.service,
                data_type=kind,
                purpose=Purpose.ANALYTICS,
                kind=SubjectKind.APP_INSTANCE,
                market=subject.market,
                switches=switches,
                now=now,
            )
            if not decision.allowed:
                raise RefusedError(decision.message, code=decision.reason.value)
        day = now // DAY
        with self.gate.stores.control().begin() as conn:
            for r in reports:
                key = (
                    counters.c.service == self.service,
                    counters.c.day == day,
                    counters.c.kind == r.kind,
                    counters.c.module == r.module,
                    counters.c.event == r.event,
                )
                moved = conn.execute(
                    update(counters)
                    .where(*key)
                    .values(reports=counters.c.reports + 1, total=counters.c.total + r.value)
                ).rowcount
                if not moved:
                    conn.execute(
                        insert(counters).values(
                            service=self.service,
                            day=day,
                            kind=r.kind,
                            module=r.module,
                            event=r.event,
                            reports=1,
                            total=r.value,
                        )
                    )
        return len(reports)

    def report(self, *, min_reports: int = MIN_REPORTS) -> list[Count]:
        """The released aggregates: rows at least ``min_reports`` reports made (never fewer
        than :data:`MIN_REPORTS`)."""
        floor = max(min_reports, MIN_REPORTS)
        with self.gate.stores.control().connect() as conn:
            rows = conn.execute(
                select(counters)
                .where(counters.c.service == self.service, counters.c.reports >= floor)
                .order_by(counters.c.day, counters.c.kind, counters.c.module, counters.c.event)
            ).all()
        return [Count(r.day, r.kind, r.module, r.event, r.reports, r.total) for r in rows]
