"""
Permissions and grants, pure: which permissions exist, which may be granted "always", what a
grant lets an app do at a given moment, and how a manifest declares what an app wants.

Grants (as people choose them): ``allow_once`` (this one time, in the foreground; used up by
the access), ``while_in_use`` (in the foreground only), ``always`` (in the background too,
only where the permission allows it) and ``deny``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from charter.errors import InputError


class Grant(StrEnum):
    """What a person allowed an app to do with one permission."""

    ALLOW_ONCE = "allow_once"
    WHILE_IN_USE = "while_in_use"
    ALWAYS = "always"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class Permission:
    """A permission an app can ask for; ``category`` is its name in the privacy report."""

    name: str
    category: str
    always_allowed: bool
    notice: bool = False


PERMISSIONS: dict[str, Permission] = {
    p.name: p
    for p in (
        Permission("location", "location", always_allowed=True),
        Permission("camera", "camera", always_allowed=False),
        Permission("microphone", "microphone", always_allowed=False),
        Permission("contacts", "contacts", always_allowed=True),
        Permission("photos", "photos", always_allowed=True),
        Permission("calendar", "calendars", always_allowed=True),
        Permission("call_logs", "callLogs", always_allowed=True),
        Permission("sms", "messages", always_allowed=True),
        Permission("phone", "phone", always_allowed=True),
        Permission("storage", "files", always_allowed=True),
        Permission("body_sensors", "health", always_allowed=False),
        Permission("activity_recognition", "motion", always_allowed=True),
        Permission("nearby_devices", "bluetooth", always_allowed=True),
        Permission("clipboard", "clipboard", always_allowed=False, notice=True),
        Permission("notifications", "notifications", always_allowed=True),
    )
}
"""Every permission the device knows (not only the three Android's dashboard shows)."""

APP_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


def permission(name: str) -> Permission:
    """
    A permission by name.

    Raises:
        InputError: unknown permission (the known ones listed).
    """
    found = PERMISSIONS.get(name)
    if found is None:
        raise InputError(
            f"unknown permission {name!r}; known: {', '.join(sorted(PERMISSIONS))}",
            field="permission",
        )
    return found


def check_grant(perm: Permission, grant: Grant) -> None:
    """
    Raises:
        InputError: ``always`` for a permission that allows only foreground use.
    """
    if grant is Grant.ALWAYS and not perm.always_allowed:
        raise InputError(
            f"{perm.name} cannot be allowed all the time; choose while_in_use, allow_once or deny",
            field="grant",
        )


def may_access(grant: Grant | None, *, foreground: bool) -> bool:
    """Whether a grant lets an app use the permission now (no grant: no access)."""
    if grant is None or grant is Grant.DENY:
        return False
    if grant is Grant.ALWAYS:
        return True
    return foreground  # allow_once and while_in_use: only while the app is in use


@dataclass(frozen=True, slots=True)
class Manifest:
    """An app as it asks to be installed: the permissions it wants and the catalog purpose it
    declares for each; whether it asks to start by itself."""

    app: str
    name: str
    purposes: dict[str, str]
    autostart: bool = False

    @classmethod
    def parse(cls, data: Any, purposes: frozenset[str]) -> Manifest:
        """
        A manifest from its JSON, checked against the catalog's purposes.

        Raises:
            InputError: malformed, an unknown permission or a purpose the catalog does not
                declare (the field named).
        """
        if not isinstance(data, dict):
            raise InputError("a manifest is a JSON object", field="manifest")
        app = data.get("app")
        if not isinstance(app, str) or not APP_ID.match(app):
            raise InputError(
                "app must be a package name such as com.example.notes", field="manifest.app"
            )
        wanted = data.get("permissions", {})
        if not isinstance(wanted, dict):
            raise InputError(
                "permissions maps each permission to its purpose", field="manifest.permissions"
            )
        out: dict[str, str] = {}
        for name, purpose in wanted.items():
            permission(str(name))
            if purpose not in purposes:
                raise InputError(
                    f"{name}: purpose {purpose!r} is not a catalog purpose; "
                    f"use one of {', '.join(sorted(purposes))}",
                    field=f"manifest.permissions.{name}",
                )
            out[str(name)] = str(purpose)
        return cls(app, str(data.get("name") or app), out, bool(data.get("autostart", False)))

    def to_json(self) -> dict[str, Any]:
        """Plain JSON."""
        return {
            "app": self.app,
            "name": self.name,
            "permissions": dict(self.purposes),
            "autostart": self.autostart,
        }
