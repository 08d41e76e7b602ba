"""
Staff page ``/admin/keys``: service credentials (API keys) — make one (shown once, on the
answer page only: never in a redirect, a flash message or a log), list them, revoke one.
Only staff with the ``admin`` role manage credentials.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from charter.errors import InputError, NotFoundError, RefusedError
from charter.web._routing import WebRoute
from charter.web.deps import (
    User,
    csrf_protect,
    current_staff,
    redirect,
    render,
    services,
    web_session,
)

router = APIRouter(prefix="/admin", route_class=WebRoute, dependencies=[Depends(csrf_protect)])

KEY_ID = re.compile(r"^[0-9a-f]{16,64}$")


def current_admin(user: Annotated[User, Depends(current_staff)]) -> User:
    """The signed-in staff member, if an admin.

    Raises:
        RefusedError: a staff member without the admin role.
    """
    if user.staff is None or user.staff.role != "admin":
        raise RefusedError(
            "service credentials are managed by Privacy Center admins (the admin role)",
            code="forbidden",
        )
    return user


Admin = Annotated[User, Depends(current_admin)]


def _page(request: Request, *, issued: tuple[str, str, str] | None = None) -> Response:
    charter = services(request).charter
    names = {s.id: s.name for s in charter.catalog}
    return render(
        request,
        "admin/keys.html",
        {
            "title": "Service credentials",
            "keys": charter.credentials.list_api_keys(),
            "names": names,
            "issued": issued,
        },
        status=201 if issued else 200,
    )


@router.get("/keys", include_in_schema=False)
def keys(request: Request, user: Admin) -> Response:
    """Every service credential (never a secret) and a form to make one."""
    return _page(request)


@router.post("/keys", include_in_schema=False)
def create_key(
    request: Request, user: Admin, service: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    """Make a credential; the answer page shows it this once."""
    assert user.staff is not None
    if not service:
        raise InputError("choose the service the credential is for", field="service")
    issued = services(request).charter.credentials.create_api_key(
        service, actor=f"staff:{user.staff.handle}"
    )
    return _page(request, issued=(issued.key.id, issued.key.service, issued.secret))


@router.post("/keys/{key_id}/revoke", include_in_schema=False)
def revoke_key(request: Request, user: Admin, key_id: str) -> Response:
    """Revoke a credential: it stops authenticating at once."""
    assert user.staff is not None
    if not KEY_ID.match(key_id):
        raise NotFoundError("no such API key", field="key_id")
    key = services(request).charter.credentials.revoke_api_key(
        key_id, actor=f"staff:{user.staff.handle}"
    )
    web_session(request).say(f"Credential {key.id} revoked: it no longer works.", "success")
    return redirect("/admin/keys")
