"""
Aggregate-only analytics of the content services (catalog promises
``themes.analytics_aggregated`` and ``app_vault.analytics_aggregated``): a device reports a
click or a page view of a module, and all that is kept is a counter per service, module,
event and day. The table has no subject, device, address or time finer than a day, so a count
cannot be tied back to a person; the report is counts only.

Reports follow the User Experience Program switch: when the caller is a person whose switch
is off, nothing is counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Engine, Integer, String, Table, insert, select, update

from charter.errors import InputError
from charter.store.registry import register_table
from charter.store.schema import metadata

DAY = 86_400 * 1_000_000
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
EVENTS = ("click", "page_view", "crash")
UXP = "system.user_experience_program"

counters = Table(
    "content_analytics",
    metadata,
    Column("service", String(20), primary_key=True),
    Column("module", String(40), primary_key=True, comment="A module or page of the app."),
    Column("event", String(12), primary_key=True, comment="click | page_view | crash."),
    Column("day", Integer, primary_key=True, comment="Days since the epoch (UTC)."),
    Column("count", BigInteger, nullable=False),
    comment="Aggregate analytics of the content services: counts only, no subject.",
)
register_table(
    counters,
    neither=("service", "module", "event", "day", "count"),
    distribution="local",  # a few aggregate counters a day, linked to no one
)


@dataclass(frozen=True, slots=True)
class Count:
    """One aggregate counter."""

    module: str
    event: str
    day: int
    count: int


class Aggregates:
    """The counters of one service."""

    def __init__(self, control: Engine, clock: Callable[[], int], service: str) -> None:
        self.control = control
        self.clock = clock
        self.service = service

    def count(self, module: str, event: str, *, uxp_on: bool = True) -> bool:
        """
        Add one to a module's counter for today; returns whether it counted (not when the
        person's User Experience Program switch is off).

        Raises:
            InputError: a module that is not a short lower-case name, or an unknown event.
        """
        if not NAME.match(module):
            raise InputError(
                "a module is a lower-case name of at most 40 letters, digits or _",
                field="module",
            )
        if event not in EVENTS:
            raise InputError(f"event is one of: {', '.join(EVENTS)}", field="event")
        if not uxp_on:
            return False
        day = self.clock() // DAY
        c = counters.c
        key = (c.service == self.service, c.module == module, c.event == event, c.day == day)
        with self.control.begin() as conn:
            done = conn.execute(update(counters).where(*key).values(count=c.count + 1)).rowcount
            if not done:
                conn.execute(
                    insert(counters).values(
                        service=self.service, module=module, event=event, day=day, count=1
                    )
                )
        return True

    def report(self) -> list[Count]:
        """Every counter of the service, newest day first."""
        c = counters.c
        with self.control.connect() as conn:
            rows = conn.execute(
                select(c.module, c.event, c.day, c.count.label("n"))
                .where(c.service == self.service)
                .order_by(c.day.desc(), c.module, c.event)
            ).all()
        return [Count(r.module, r.event, r.day, r.n) for r in rows]

    def popular(self, event: str = "page_view") -> dict[str, int]:
        """Total counts per module of one event (what non-personal suggestions rank by)."""
        out: dict[str, int] = {}
        for row in self.report():
            if row.event == event:
                out[row.module] = out.get(row.module, 0) + row.count
        return out
