"""
Apps of one space: installed from a manifest (each permission with its declared catalog
purpose), their grants, autostart (off unless the person allows it), notifications per app,
and the reset of the grants of apps not used for N days. :meth:`Apps.use_permission` is the
one way an app reaches a permission: it refuses without a grant that allows it right now and
records every access it lets through.
"""

from __future__ import annotations

import json

from charter.clock import Clock
from charter.device.access import DAY_US, AccessLog
from charter.device.db import Connection, set_setting, setting
from charter.device.permissions import Grant, Manifest, check_grant, may_access, permission
from charter.errors import InputError, NotFoundError, RefusedError

RESET_DAYS_DEFAULT = 90


class Apps:
    """The apps of one space and what they may do."""

    def __init__(self, conn: Connection, clock: Clock, log: AccessLog) -> None:
        self.conn = conn
        self.clock = clock
        self.log = log

    # -- installing ------------------------------------------------------------------------

    def install(self, manifest: Manifest) -> None:
        """Install (or update) an app: no grant yet, autostart off, notifications on."""
        now = self.clock()
        self.conn.execute(
            "insert into apps (app, manifest, installed_at, last_used_at) values (?, ?, ?, ?) "
            "on conflict (app) do update set manifest = excluded.manifest",
            (manifest.app, json.dumps(manifest.to_json()), now, now),
        )

    def manifest(self, app: str) -> Manifest:
        """
        Raises:
            NotFoundError: the app is not installed.
        """
        row = self.conn.execute("select manifest from apps where app = ?", (app,)).fetchone()
        if row is None:
            raise NotFoundError("no such app installed in this space", field="app")
        data = json.loads(row[0])
        return Manifest(data["app"], data["name"], data["permissions"], data["autostart"])

    def installed(self) -> list[str]:
        """Installed apps, by id."""
        return [r[0] for r in self.conn.execute("select app from apps order by app")]

    def uninstall(self, app: str) -> None:
        """Remove an app, its grants and its access records."""
        self.conn.execute("delete from grants where app = ?", (app,))
        self.conn.execute("delete from apps where app = ?", (app,))
        self.log.forget_app(app)

    # -- grants ----------------------------------------------------------------------------

    def grant(self, app: str, name: str, grant: Grant) -> None:
        """
        The person's choice for one permission of one app.

        Raises:
            InputError: the app did not declare the permission, or ``always`` where the
                permission allows only use in the foreground.
        """
        declared = self.manifest(app).purposes
        if name not in declared:
            raise InputError(
                f"{app} did not declare {name} in its manifest; it cannot be granted",
                field="permission",
            )
        check_grant(permission(name), grant)
        self.conn.execute(
            "insert into grants (app, permission, grant, granted_at) values (?, ?, ?, ?) "
            "on conflict (app, permission) do update set grant = excluded.grant, "
            "granted_at = excluded.granted_at",
            (app, name, grant.value, self.clock()),
        )

    def grant_of(self, app: str, name: str) -> Grant | None:
        """The grant in force, or None."""
        row = self.conn.execute(
            "select grant from grants where app = ? and permission = ?", (app, name)
        ).fetchone()
        return Grant(row[0]) if row else None

    def grants(self, app: str) -> dict[str, Grant]:
        """Every grant of an app."""
        return {
            r[0]: Grant(r[1])
            for r in self.conn.execute("select permission, grant from grants where app = ?", (app,))
        }

    def use_permission(self, app: str, name: str, *, foreground: bool) -> str:
        """
        An app uses a permission: allowed only by a grant that allows it now (an
        ``allow_once`` grant is used up); every access let through is recorded with the
        purpose the app declared. Returns the access record's id.

        Raises:
            RefusedError: no grant allows it now (``permission_denied`` or ``background_denied``).
        """
        grant = self.grant_of(app, name)
        if not may_access(grant, foreground=foreground):
            code = "background_denied" if grant is not None and grant is not Grant.DENY else None
            raise RefusedError(
                f"{app} may not use {name} now", code=code or "permission_denied", field=name
            )
        purpose = self.manifest(app).purposes[name]
        if grant is Grant.ALLOW_ONCE:
            self.conn.execute("delete from grants where app = ? and permission = ?", (app, name))
        self.touch(app)
        return self.log.record(
            app, name, purpose, foreground=foreground, notice=permission(name).notice
        )

    def touch(self, app: str) -> None:
        """The person used the app now."""
        self.conn.execute("update apps set last_used_at = ? where app = ?", (self.clock(), app))

    # -- settings --------------------------------------------------------------------------

    @property
    def reset_days(self) -> int:
        """After how many days unused an app's grants are reset."""
        return int(setting(self.conn, "reset_days", str(RESET_DAYS_DEFAULT)) or RESET_DAYS_DEFAULT)

    @reset_days.setter
    def reset_days(self, days: int) -> None:
        if not 1 <= days <= 3650:
            raise InputError("reset days must be 1 to 3650", field="reset_days")
        set_setting(self.conn, "reset_days", str(days))

    def reset_unused(self) -> list[str]:
        """Reset the grants of apps not used for :attr:`reset_days`; the apps reset."""
        cut = self.clock() - self.reset_days * DAY_US
        stale = [
            r[0]
            for r in self.conn.execute(
                "select a.app from apps a where a.last_used_at < ? and exists "
                "(select 1 from grants g where g.app = a.app) order by a.app",
                (cut,),
            )
        ]
        for app in stale:
            self.conn.execute("delete from grants where app = ?", (app,))
        return stale

    def allow_autostart(self, app: str, allowed: bool) -> None:
        """Let an app start by itself (off unless the person allows it)."""
        self.manifest(app)
        self.conn.execute("update apps set autostart = ? where app = ?", (int(allowed), app))

    def may_autostart(self, app: str) -> bool:
        """Whether the app may start by itself: it asked and the person allowed it."""
        row = self.conn.execute("select autostart from apps where app = ?", (app,)).fetchone()
        return bool(row and row[0]) and self.manifest(app).autostart

    def set_notifications(self, app: str, on: bool) -> None:
        """Notifications of one app on or off."""
        self.manifest(app)
        self.conn.execute("update apps set notifications = ? where app = ?", (int(on), app))

    def notifications_on(self, app: str) -> bool:
        """Whether the app's notifications are shown."""
        row = self.conn.execute("select notifications from apps where app = ?", (app,)).fetchone()
        return bool(row and row[0])
