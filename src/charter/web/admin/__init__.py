"""
The Privacy Center's staff pages (``/admin``): the catalog with its rendered inventory
tables, the request and complaint queue, the audit log with chain verification, and the
government-request register with the yearly transparency report, and (for admins) the
service credentials.

Only accounts with a staff role (:class:`~charter.services.staff.roles.StaffRoles`) may open them.
"""

from __future__ import annotations

from fastapi import APIRouter

from charter.web.admin import corrections, journal, keys, queue

router = APIRouter()
router.include_router(queue.router)
router.include_router(corrections.router)
router.include_router(journal.router)
router.include_router(keys.router)

__all__ = ["router"]
