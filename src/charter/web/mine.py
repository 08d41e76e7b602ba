"""
The person's requests and complaints, devices and pending device commands, and account
deletion.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from charter.errors import InputError
from charter.rights.requests import RequestKind
from charter.web._routing import WebRoute, message_of
from charter.web.accounts import delete_account
from charter.web.deps import (
    User,
    csrf_protect,
    current_user,
    day,
    redirect,
    render,
    services,
    web_session,
)

router = APIRouter(route_class=WebRoute, dependencies=[Depends(csrf_protect)])

Me = Annotated[User, Depends(current_user)]

KIND_WORDS = {
    RequestKind.ACCESS: "Access to my data",
    RequestKind.CORRECT: "Correct my data",
    RequestKind.DELETE: "Delete my data",
    RequestKind.WITHDRAW: "Withdraw consent",
    RequestKind.COMPLAIN: "Complaint",
}
FILEABLE = (RequestKind.ACCESS, RequestKind.CORRECT, RequestKind.DELETE, RequestKind.COMPLAIN)


@router.get("/requests", include_in_schema=False)
def my_requests(request: Request, user: Me) -> Response:
    """My requests and complaints, their state and deadline, and a form to file one."""
    return _requests_page(request, user)


def _requests_page(
    request: Request,
    user: User,
    *,
    chosen: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    """The requests page; after a refused form, with what was chosen and each error beside
    its field (status 400)."""
    web = services(request)
    queue = web.rights.requests
    rows = []
    for item in queue.for_subject(user.subject_id):
        texts = (
            queue.texts(item.id, actor="subject")
            if item.has_message or item.has_answer
            else {"message": None, "answer": None}
        )
        rows.append((item, texts))
    market = web.charter.gate.subject(user.subject_id).market
    offered = [s for s in web.charter.catalog if s.markets.includes(market)]
    return render(
        request,
        "requests.html",
        {
            "title": "My requests",
            "rows": rows,
            "kinds": [(k.value, KIND_WORDS[k]) for k in FILEABLE],
            "kind_words": {k.value: w for k, w in KIND_WORDS.items()},
            "services": offered,
            "service_names": {s.id: s.name for s in web.charter.catalog},
            "chosen": chosen or {},
            "errors": errors or {},
            "now": web.charter.clock(),
        },
        status=400 if errors else 200,
    )


@router.post("/requests", include_in_schema=False)
def file_request(
    request: Request,
    user: Me,
    kind: Annotated[str, Form(max_length=20)],
    message: Annotated[str, Form(max_length=20_000)] = "",
    service: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """File a request or a complaint (due in 30 days). A refused form comes back as it was
    filled in, with the error next to its field."""
    chosen = {"kind": kind, "service": service, "message": message}
    if kind not in {k.value for k in FILEABLE}:
        return _requests_page(
            request, user, chosen=chosen, errors={"kind": "Choose what you are asking for."}
        )
    if kind == RequestKind.COMPLAIN.value and not message.strip():
        return _requests_page(
            request,
            user,
            chosen=chosen,
            errors={"message": "Describe your complaint: what happened, and with which service."},
        )
    try:
        filed = services(request).rights.requests.file(
            user.subject_id,
            kind,
            service=service or None,
            message=message if message.strip() else None,
        )
    except InputError as exc:
        if exc.field not in chosen:
            raise
        return _requests_page(request, user, chosen=chosen, errors={exc.field: message_of(exc)})
    web_session(request).say(
        f"Your request was filed. We answer by {day(filed.due_at)}.", "success"
    )
    return redirect("/requests")


@router.get("/devices", include_in_schema=False)
def my_devices(request: Request, user: Me) -> Response:
    """My devices (from the account service), live sessions and pending device commands."""
    web = services(request)
    signed_in = web.accounts.devices(user.subject_id)
    names = {d["id"]: d["model"] or "Unnamed device" for d in signed_in}
    # the devices deletion commands go to: the same list, plus device agents registered
    # without signing in (never record sources)
    agents = [d for d in web.rights.devices.devices(user.subject_id) if d not in names]
    return render(
        request,
        "devices.html",
        {
            "title": "My devices",
            "devices": signed_in,
            "agents": agents,
            "names": names,
            "service_names": {s.id: s.name for s in web.charter.catalog},
            "sessions": web.accounts.sessions(user.subject_id),
            "current_session": user.session.session_id,
            "commands": web.rights.devices.pending(subject_id=user.subject_id),
        },
    )


@router.post("/devices/{device_id}/remove", include_in_schema=False)
def remove_device(request: Request, user: Me, device_id: str) -> Response:
    """Sign a device out and forget it."""
    services(request).accounts.remove_device(user.subject_id, device_id[:64])
    web_session(request).say("The device was signed out and removed.", "success")
    return redirect("/devices")


@router.get("/account/delete", include_in_schema=False)
def delete_page(request: Request, user: Me) -> Response:
    """What deleting the account means, and the form to do it."""
    return render(request, "delete_account.html", {"title": "Delete my account"})


@router.post("/account/delete", include_in_schema=False)
def delete_my_account(
    request: Request,
    user: Me,
    password: Annotated[str, Form(max_length=4096)],
    confirm: Annotated[str, Form(max_length=10)] = "",
    totp: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Confirm with the password, delete everything, sign out."""
    if confirm != "yes":
        raise InputError("tick the box to confirm first", field="confirm")
    web = services(request)
    web.accounts.reauthenticate(user.session, password, totp or None)
    delete_account(web.charter, web.rights, user.subject_id)
    session = web_session(request)
    web.browser.sign_out(session)
    session.say("Your account and all its data were deleted. Goodbye.", "success")
    return redirect("/signin")
