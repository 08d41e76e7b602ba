"""
Staff roles of the Privacy Center: which accounts may open ``/admin`` and their handle.

A handle (``ana``, ``demo-staff``) is how a staff member appears in request histories and
the audit log; account ids never do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select, update

from charter.errors import InputError
from charter.services.staff.tables import staff as staff_table

if TYPE_CHECKING:
    from charter.gate import Gate

HANDLE = re.compile(r"^[A-Za-z0-9_.-]{1,60}$")
ROLES = ("staff", "admin")


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A staff member as the pages see them."""

    subject_id: str
    handle: str
    role: str


class StaffRoles:
    """Grant, look up and revoke staff roles (control database)."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def grant(
        self, subject_id: str, handle: str, *, role: str = "staff", actor: str = "admin"
    ) -> StaffMember:
        """
        Make an account a staff member (or change its handle and role).

        Raises:
            InputError: a malformed handle or an unknown role, or a handle already taken.
            NotFoundError: no such account.
        """
        if not HANDLE.match(handle):
            raise InputError("a handle is 1-60 letters, digits, '.', '_' or '-'", field="handle")
        if role not in ROLES:
            raise InputError(f"role is one of: {', '.join(ROLES)}", field="role")
        self.gate.subject(subject_id)
        s = staff_table
        with self.gate.stores.control().begin() as conn:
            taken = conn.execute(
                select(s.c.subject_id).where(s.c.handle == handle, s.c.subject_id != subject_id)
            ).first()
            if taken is not None:
                raise InputError("this handle is taken", field="handle")
            values = {"handle": handle, "role": role, "granted_by": actor[:80]}
            exists = conn.execute(
                select(s.c.subject_id).where(s.c.subject_id == subject_id)
            ).first()
            if exists is None:
                conn.execute(
                    insert(s).values(subject_id=subject_id, granted_at=self.gate.clock(), **values)
                )
            else:
                conn.execute(update(s).where(s.c.subject_id == subject_id).values(**values))
        self.gate.audit_admin(actor, "staff_grant", {"handle": handle, "role": role})
        return StaffMember(subject_id, handle, role)

    def get(self, subject_id: str) -> StaffMember | None:
        """The staff role of an account, or ``None``."""
        s = staff_table
        with self.gate.stores.control().connect() as conn:
            row = conn.execute(select(s).where(s.c.subject_id == subject_id)).first()
        return StaffMember(row.subject_id, row.handle, row.role) if row is not None else None

    def has_handle(self, handle: str) -> bool:
        """Whether a staff member has the handle ``handle``."""
        s = staff_table
        with self.gate.stores.control().connect() as conn:
            return (
                conn.execute(select(s.c.subject_id).where(s.c.handle == handle)).first() is not None
            )

    def revoke(self, subject_id: str, *, actor: str = "admin") -> bool:
        """Remove an account's staff role; whether it had one."""
        s = staff_table
        with self.gate.stores.control().begin() as conn:
            gone = conn.execute(delete(s).where(s.c.subject_id == subject_id)).rowcount or 0
        if gone:
            self.gate.audit_admin(actor, "staff_revoke", {})
        return bool(gone)
