"""
Deleting a service's local data everywhere on the device (a withdrawal, an account
deletion): in the owner's space and every open private space at once; a private space that
is locked now applies it when next opened (the pending list lives in the owner's space, each
space keeps what it already applied).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from charter.device.db import set_setting, setting
from charter.device.space import Space

ALL = "*"


def pending(owner: Space) -> list[str]:
    """Every deletion ordered so far (a service, or ``*`` for all)."""
    return list(json.loads(setting(owner.conn, "pending_deletions", "[]") or "[]"))


def apply_pending(owner: Space, space: Space) -> None:
    """Apply to ``space`` the deletions it has not applied yet."""
    done = json.loads(setting(space.conn, "deletions_done", "[]") or "[]")
    for entry in pending(owner):
        if entry not in done:
            if entry == ALL:
                for service in space.services():
                    space.delete_service(service)
            else:
                space.delete_service(entry)
            done.append(entry)
    set_setting(space.conn, "deletions_done", json.dumps(done))


def delete_everywhere(owner: Space, open_spaces: Iterable[Space], service: str | None) -> bool:
    """Delete a service's local data (every service's with None) in every space."""
    entry = service or ALL
    ordered = pending(owner)
    if entry not in ordered:  # spaces locked now delete it when next opened
        set_setting(owner.conn, "pending_deletions", json.dumps([*ordered, entry]))
    for name in [service] if service else owner.services():
        owner.delete_service(name)
    for space in open_spaces:
        apply_pending(owner, space)
    return True
