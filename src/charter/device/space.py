"""
A space: one encrypted database with its own key, holding its apps, their grants, the
access records, each service's local data, the browser's data and notifications. The
owner's space is opened with the device key; a private space with the key its credential
unwraps (:mod:`charter.device.spaces`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from charter.clock import Clock
from charter.device.access import AccessLog, Notify
from charter.device.apps import Apps
from charter.device.db import Connection, open_db, set_setting, setting

OWNER = "owner"


@dataclass(frozen=True, slots=True)
class Notification:
    """A notification as the shade shows it."""

    space: str
    app: str
    title: str
    body: str


class Space:
    """One space of the device."""

    def __init__(
        self, name: str, path: Path, key: bytes, clock: Clock, notify: Notify | None = None
    ) -> None:
        self.name = name
        self.path = path
        self.clock = clock
        self.conn: Connection = open_db(path, key)
        self.log = AccessLog(self.conn, clock, notify)
        self.apps = Apps(self.conn, clock, self.log)

    def close(self) -> None:
        """Write what waits and close the database."""
        self.log.flush()
        self.conn.close()

    # -- each service's local data ----------------------------------------------------------

    def put(self, service: str, key: str, value: bytes) -> None:
        """Keep a value of a service on this device."""
        self.conn.execute(
            "insert into local_data (service, key, value) values (?, ?, ?) "
            "on conflict (service, key) do update set value = excluded.value",
            (service, key, value),
        )

    def get(self, service: str, key: str) -> bytes | None:
        """A value a service keeps here."""
        row = self.conn.execute(
            "select value from local_data where service = ? and key = ?", (service, key)
        ).fetchone()
        return bytes(row[0]) if row else None

    def keys(self, service: str) -> list[str]:
        """The keys a service keeps here."""
        return [
            r[0]
            for r in self.conn.execute(
                "select key from local_data where service = ? order by key", (service,)
            )
        ]

    def delete_service(self, service: str) -> int:
        """Delete everything a service keeps in this space; how many values went."""
        return int(
            self.conn.execute("delete from local_data where service = ?", (service,)).rowcount
        )

    def services(self) -> list[str]:
        """Services with local data here."""
        return [
            r[0] for r in self.conn.execute("select distinct service from local_data order by 1")
        ]

    # -- notifications ----------------------------------------------------------------------

    @property
    def hide_content(self) -> bool:
        """Whether notifications of this space show without their content."""
        return setting(self.conn, "hide_notification_content", "0") == "1"

    @hide_content.setter
    def hide_content(self, hide: bool) -> None:
        set_setting(self.conn, "hide_notification_content", "1" if hide else "0")

    def post(self, app: str, title: str, body: str) -> bool:
        """An app posts a notification; False when the app's notifications are off."""
        if not self.apps.notifications_on(app):
            return False
        self.conn.execute(
            "insert into notifications (at, app, title, body) values (?, ?, ?, ?)",
            (self.clock(), app, title, body),
        )
        return True

    def shade(self) -> list[Notification]:
        """Notifications as shown outside the space (content hidden when asked)."""
        hide = self.hide_content and self.name != OWNER
        return [
            Notification(self.name, r[0], "New notification", "")
            if hide
            else Notification(self.name, r[0], r[1], r[2])
            for r in self.conn.execute("select app, title, body from notifications order by id")
        ]
