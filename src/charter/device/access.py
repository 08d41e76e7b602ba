"""
Access records: every time an app uses a permission, the time, the app, the permission, the
purpose the app declared for it and whether the app was in the foreground; a clipboard read
carries a notice shown to the person. Kept on the device for 30 days and never uploaded
(nothing in this module or its callers talks to a server).

Recording is on the hot path of every permission use, so records wait in memory and are
written in one transaction every :data:`BATCH` records, before any read and on close.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from charter.clock import Clock
from charter.device.db import Connection

KEEP_DAYS = 30
DAY_US = 86_400_000_000
BATCH = 256


@dataclass(frozen=True, slots=True)
class Access:
    """One use of one permission by one app."""

    id: str
    at: int
    app: str
    permission: str
    purpose: str
    foreground: bool
    notice: bool


Notify = Callable[[str, str], None]
"""``(app, text)``: show the person a notice."""


class AccessLog:
    """The access records of one space."""

    def __init__(self, conn: Connection, clock: Clock, notify: Notify | None = None) -> None:
        self.conn = conn
        self.clock = clock
        self.notify = notify
        self.pending: list[tuple[str, int, str, str, str, int, int]] = []

    def record(
        self, app: str, permission: str, purpose: str, *, foreground: bool, notice: bool = False
    ) -> str:
        """Record one access; returns its id."""
        aid = secrets.token_hex(16)
        self.pending.append(
            (aid, self.clock(), app, permission, purpose, int(foreground), int(notice))
        )
        if notice and self.notify is not None:
            self.notify(app, f"{app} read your clipboard")
        if len(self.pending) >= BATCH:
            self.flush()
        return aid

    def flush(self) -> None:
        """Write the waiting records."""
        if not self.pending:
            return
        rows, self.pending = self.pending, []
        self.conn.execute("begin")
        self.conn.executemany("insert into access values (?, ?, ?, ?, ?, ?, ?)", rows)
        self.conn.execute("commit")

    def records(self, *, since: int | None = None) -> list[Access]:
        """Records kept (older than 30 days purged first), oldest first."""
        self.purge()
        rows = self.conn.execute(
            "select id, at, app, permission, purpose, foreground, notice from access "
            "where at >= ? order by at, id",
            (since or 0,),
        ).fetchall()
        return [Access(r[0], r[1], r[2], r[3], r[4], bool(r[5]), bool(r[6])) for r in rows]

    def purge(self) -> int:
        """Delete records older than 30 days; how many went."""
        self.flush()
        cut = self.clock() - KEEP_DAYS * DAY_US
        return int(self.conn.execute("delete from access where at < ?", (cut,)).rowcount)

    def forget_app(self, app: str) -> None:
        """Delete an app's records (the app is uninstalled or its data deleted)."""
        self.flush()
        self.conn.execute("delete from access where app = ?", (app,))
