"""
Mi Browser: whether sync is on, and clearing browsing history on every device signed in
with sync on — the person confirms first, then each other device gets the command.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from charter.errors import InputError
from charter.web._routing import WebRoute
from charter.web.deps import (
    User,
    csrf_protect,
    current_user,
    redirect,
    render,
    services,
    web_session,
)

router = APIRouter(route_class=WebRoute, dependencies=[Depends(csrf_protect)])

Me = Annotated[User, Depends(current_user)]
WEB_DEVICE = "privacy-center"
"""The device id clearing from these pages (no device of the person is left out)."""


@router.get("/browser", include_in_schema=False)
def my_browser(request: Request, user: Me) -> Response:
    """Mi Browser: sync, the devices, clearing history."""
    charter = services(request).charter
    subject = user.subject_id
    return render(
        request,
        "browser.html",
        {
            "title": "Mi Browser",
            "sync_on": charter.browser.sync_on(subject),
            "devices": charter.rights.devices.devices(subject),
        },
    )


@router.post("/browser/clear-history", include_in_schema=False)
def clear_history(
    request: Request, user: Me, confirm: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    """Clear browsing history everywhere, once confirmed."""
    if confirm != "yes":
        raise InputError("tick the box to confirm clearing on every device", field="confirm")
    done = services(request).charter.browser.clear_history(
        user.subject_id, device_id=WEB_DEVICE, confirm=True
    )
    n = len(done.commands)
    web_session(request).say(
        f"History cleared; {n} device{'s' if n != 1 else ''} will clear it too."
        if done.synced
        else "History cleared (sync is off: nothing to clear on other devices).",
        "success",
    )
    return redirect("/browser")
