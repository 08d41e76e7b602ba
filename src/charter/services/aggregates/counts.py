"""
:class:`Aggregates`: add analytics reports to per-day counters and release only aggregates.

One API for every content service's analytics (Themes, App Vault, Mi Browser, Mi Video):
a report (kind, module, event, value) adds one to its row's ``reports`` and its value to
``total``; nothing else is written, so no stored row can be tied back to a person (the table
has no subject, app instance, device, address or time finer than a day).

Whether a person's reports count is decided in one of two ways, chosen per service:

- ``decide="policy"`` (Mi Browser, Mi Video): the gate's policy decides exactly as a
  collection would, for an app-instance subject (the catalog declares these types
  pseudonymized: linked to no account): the service's authorization and the User Experience
  Program switch must be on, and the service offered in the person's market. A refusal is a
  :class:`~charter.errors.RefusedError` with its reason.
- ``decide="uxp"`` (Themes, App Vault, whose analytics a visitor with no account may send):
  only the person's User Experience Program switch decides; off, nothing is counted. A visitor
  with no subject has no switch and is counted.

:meth:`Aggregates.report` leaves out every row fewer than the service's ``release_floor``
reports made (:data:`MIN_REPORTS` unless the service says otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sqlalchemy import insert, select, update

from charter.errors import InputError, RefusedError
from charter.policy import SubjectKind, decide_collect
from charter.services.aggregates.tables import counters
from charter.taxonomy import Purpose

if TYPE_CHECKING:
    from charter.gate import Gate

MIN_REPORTS = 10
"""A counter of a ``policy`` service is released only once this many reports added to it."""
MAX_REPORTS = 500
"""Reports one call may carry."""
DAY = 86_400 * 1_000_000
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
UXP = "system.user_experience_program"
"""The User Experience Program switch."""


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

    def __init__(
        self,
        gate: Gate,
        service: str,
        kinds: Sequence[str],
        *,
        decide: Literal["policy", "uxp"] = "policy",
        release_floor: int = MIN_REPORTS,
    ) -> None:
        if release_floor < 1:
            raise ValueError("release_floor is at least 1")
        self.gate = gate
        self.service = service
        self.kinds = tuple(kinds)
        self.decide = decide
        self.release_floor = release_floor

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

    def allowed(self, subject_id: str | None, kinds: Sequence[str]) -> str | None:
        """``None`` when the person's reports of ``kinds`` may count, else the refusal's reason
        code (``policy``: the gate's reason; ``uxp``: ``switch_off``)."""
        if subject_id is None:
            if self.decide == "policy":
                raise InputError(
                    "analytics of this service come from a person's device: call with their token",
                    field="subject",
                )
            return None
        switches = self.gate.switches(subject_id)
        if self.decide == "uxp":
            self.gate.subject(subject_id)
            return None if switches.get(UXP, True) else "switch_off"
        subject = self.gate.subject(subject_id)
        now = self.gate.clock()
        for kind in sorted(set(kinds)):
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
        return None

    def add(self, subject_id: str | None, reports: Sequence[Report]) -> int:
        """
        Add reports of a person (``None``: a visitor with no subject, ``uxp`` services only)
        to the counters; returns how many were counted (0 when the person's User Experience
        Program switch is off, for a ``uxp`` service).

        Raises:
            InputError: see :meth:`check`; a ``policy`` service's report without a subject.
            RefusedError: a ``policy`` service's gate refuses analytics for this person (with
                its reason: no authorization, the User Experience Program off, not in market).
        """
        self.check(reports)
        if self.allowed(subject_id, [r.kind for r in reports]) is not None:
            return 0
        day = self.gate.clock() // DAY
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

    def report(self, *, min_reports: int | None = None) -> list[Count]:
        """The released aggregates, newest day first: rows at least ``min_reports`` reports
        made (never fewer than the service's ``release_floor``)."""
        floor = max(min_reports or 0, self.release_floor)
        with self.gate.stores.control().connect() as conn:
            rows = conn.execute(
                select(counters)
                .where(counters.c.service == self.service, counters.c.reports >= floor)
                .order_by(
                    counters.c.day.desc(), counters.c.kind, counters.c.module, counters.c.event
                )
            ).all()
        return [Count(r.day, r.kind, r.module, r.event, r.reports, r.total) for r in rows]

    def popular(self, event: str = "page_view") -> dict[str, int]:
        """Reports per module of one event over every released day (what non-personal
        suggestions rank by)."""
        out: dict[str, int] = {}
        for row in self.report():
            if row.event == event:
                out[row.module] = out.get(row.module, 0) + row.reports
        return out
