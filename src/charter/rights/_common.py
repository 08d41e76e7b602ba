"""Small shared pieces of the rights engine: ids, times, canonical JSON, counters."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime

from sqlalchemy import Connection, select, update
from sqlalchemy import insert as sa_insert

from charter.rights import tables as rt

MICROS = 1_000_000
DAY = 86_400 * MICROS
LEGAL_DEADLINE_DAYS = 30
"""Days the law gives to answer a rights request (GDPR Art. 12(3))."""


def new_id(prefix: str) -> str:
    """A random 128-bit id with a prefix, e.g. ``rq_3f9c...``."""
    return f"{prefix}_{secrets.token_hex(16)}"


def rfc3339(micros: int | None) -> str | None:
    """Microseconds since the epoch as an RFC 3339 UTC timestamp (None stays None)."""
    if micros is None:
        return None
    return datetime.fromtimestamp(micros / MICROS, tz=UTC).isoformat().replace("+00:00", "Z")


def period_of(micros: int) -> str:
    """The ``YYYY-MM`` month of a time."""
    return datetime.fromtimestamp(micros / MICROS, tz=UTC).strftime("%Y-%m")


def canonical(value: object) -> str:
    """Canonical JSON (sorted keys, compact, UTF-8)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def bump(conn: Connection, now: int, name: str, by: int = 1) -> None:
    """Add to an anonymized monthly counter."""
    if by == 0:
        return
    c = rt.counters
    period = period_of(now)
    found = conn.execute(
        select(c.c.count).where(c.c.period == period, c.c.name == name)
    ).scalar_one_or_none()
    if found is None:
        conn.execute(sa_insert(c).values(period=period, name=name, count=by))
    else:
        conn.execute(
            update(c).where(c.c.period == period, c.c.name == name).values(count=c.c.count + by)
        )
