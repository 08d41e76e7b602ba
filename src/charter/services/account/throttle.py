"""
Exponential back-off of failed attempts, per sign-in identifier and per IP address.

A counter per key (a keyed hash of ``id:<identifier>`` or ``ip:<address>``) grows with each
failure; after ``free`` failures each further attempt must wait ``2^(n - free)`` seconds,
capped. A counter resets after ``reset_after`` seconds without failure, and an identifier's
counter on success. Unknown identifiers have counters too, so throttling tells nothing about
which accounts exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from charter.services.account.errors import ThrottledError
from charter.services.account.tables import throttles

MICROS = 1_000_000


@dataclass(frozen=True, slots=True)
class Backoff:
    """Back-off parameters of one kind of key."""

    free: int
    cap_seconds: int
    reset_after_seconds: int

    def delay_micros(self, failures: int) -> int:
        """How long to wait after ``failures`` consecutive failures."""
        if failures < self.free:
            return 0
        exponent = min(failures - self.free, 30)
        return int(min(2**exponent, self.cap_seconds)) * MICROS


IDENTIFIER = Backoff(free=5, cap_seconds=300, reset_after_seconds=24 * 3600)
IP = Backoff(free=20, cap_seconds=900, reset_after_seconds=3600)


def check(conn: Connection, keys: list[str], now: int) -> None:
    """
    Raises:
        ThrottledError: one of ``keys`` must still wait (with the longest wait).
    """
    rows = conn.execute(select(throttles.c.next_allowed_at).where(throttles.c.key.in_(keys))).all()
    wait = max((r.next_allowed_at - now for r in rows), default=0)
    if wait > 0:
        raise ThrottledError(-(-wait // MICROS))


def fail(conn: Connection, key: str, backoff: Backoff, now: int) -> int:
    """Count one failure; returns the consecutive failures of ``key``."""
    row = conn.execute(
        select(throttles.c.failures, throttles.c.last_failure_at).where(throttles.c.key == key)
    ).first()
    if row is None:
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(throttles).values(
                        key=key,
                        failures=1,
                        last_failure_at=now,
                        next_allowed_at=now + backoff.delay_micros(1),
                    )
                )
            return 1
        except SAIntegrityError:
            row = conn.execute(
                select(throttles.c.failures, throttles.c.last_failure_at).where(
                    throttles.c.key == key
                )
            ).first()
            assert row is not None
    failures = (
        1 if now - row.last_failure_at > backoff.reset_after_seconds * MICROS else row.failures + 1
    )
    conn.execute(
        update(throttles)
        .where(throttles.c.key == key)
        .values(
            failures=failures,
            last_failure_at=now,
            next_allowed_at=now + backoff.delay_micros(failures),
        )
    )
    return failures


def clear(conn: Connection, key: str) -> None:
    """Forget the failures of ``key`` (after a success)."""
    conn.execute(delete(throttles).where(throttles.c.key == key))
