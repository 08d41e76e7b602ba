"""
Find Device in the Privacy Center: the person's devices, their owner keys, the commands
they sent and the sealed positions.

The server never holds a readable position and never sees the owner's private keys: the
page's script (``static/find-device.js``) makes the keys in the browser, wraps them under a
key derived from a passphrase that never leaves the browser, signs each command there and
opens the sealed positions there with the bundled ``@hpke/core``. The JSON calls below carry
only public keys, the opaque wrapped blob, signed commands and ciphertext; every ``POST``
carries the session's CSRF token like any form of the Privacy Center.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from charter.errors import CharterError
from charter.services.find_device import Command, Device, FindDevice
from charter.services.find_device.wire import b64d
from charter.web._routing import WebRoute, message_of, status_of
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
DeviceId = Annotated[str, Path(pattern=r"^fd_[0-9a-f]{32}$")]
CommandId = Annotated[str, Path(pattern=r"^fc_[0-9a-f]{32}$")]
MAX_WAIT = 25.0

KIND_WORDS = {
    "locate": "Locate",
    "ring": "Ring",
    "lock": "Lock",
    "erase": "Erase",
    "lost_mode_on": "Lost mode on",
    "lost_mode_off": "Lost mode off",
}
ACTOR_WORDS = {"subject": "you (app or command line)", "web": "you (this page)"}
_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _fd(request: Request) -> FindDevice:
    return services(request).charter.find_device


def _b64(raw: bytes | None) -> str | None:
    return base64.b64encode(raw).decode() if raw is not None else None


def _json(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=_NO_STORE)


def _refused(exc: CharterError) -> JSONResponse:
    code = getattr(exc, "code", None) or "refused"
    return _json({"error": {"code": code, "message": message_of(exc)}}, status_of(exc))


def command_json(c: Command) -> dict[str, Any]:
    """A command as the page's script reads it."""
    return {
        "id": c.id,
        "device_id": c.device_id,
        "kind": c.kind,
        "created_at": c.created_at,
        "acked_at": c.acked_at,
        "outcome": c.outcome,
    }


def _device_keys(fd: FindDevice, subject_id: str, found: list[Device]) -> dict[str, str]:
    return {d.id: _b64(fd.device_key(subject_id, d.id)) or "" for d in found}


@router.get("/find-device", include_in_schema=False)
def page(request: Request, user: Me) -> Response:
    """The person's devices, owner keys, actions and history."""
    fd = _fd(request)
    keys = fd.owner_keys(user.subject_id)
    return render(
        request,
        "find_device.html",
        {
            "title": "Find my device",
            "devices": fd.devices(user.subject_id),
            "keys": keys,
            "commands": fd.commands.history(user.subject_id, limit=50),
            "kinds": KIND_WORDS,
            "actors": ACTOR_WORDS,
        },
    )


@router.get("/find-device/data", include_in_schema=False)
def data(request: Request, user: Me) -> Response:
    """What the page's script needs: the wrapped keys, devices, commands, sealed reports."""
    fd, subject = _fd(request), user.subject_id
    keys = fd.owner_keys(subject)
    found = fd.devices(subject)
    return _json(
        {
            "now": fd.clock(),
            "owner": None
            if keys is None
            else {
                "seal_public": _b64(keys.seal_public),
                "sign_public": _b64(keys.sign_public),
                "wrapped": _b64(keys.wrapped),
            },
            "devices": [
                {"id": d.id, "state": d.state, "lost": d.lost, "key": k}
                for d, k in zip(found, _device_keys(fd, subject, found).values(), strict=True)
            ],
            "commands": [command_json(c) for c in fd.commands.history(subject, limit=50)],
            "reports": [
                {
                    "id": r.id,
                    "device_id": r.device_id,
                    "kind": r.kind,
                    "command_id": r.command_id,
                    "received_at": r.received_at,
                    "sealed": _b64(r.sealed),
                }
                for r in fd.reports.list(subject)
            ],
        }
    )


@router.post("/find-device/owner", include_in_schema=False)
def set_owner(
    request: Request,
    user: Me,
    seal_public: Annotated[str, Form(max_length=64)],
    sign_public: Annotated[str, Form(max_length=64)],
    wrapped: Annotated[str, Form(max_length=8192)],
    endorsement: Annotated[str | None, Form(max_length=128)] = None,
) -> Response:
    """Register the owner keys the browser made (public parts, private parts wrapped)."""
    try:
        _fd(request).set_owner_keys(
            user.subject_id,
            b64d(seal_public, field="seal_public", size=32),
            b64d(sign_public, field="sign_public", size=32),
            b64d(wrapped, field="wrapped"),
            b64d(endorsement, field="endorsement", size=64) if endorsement else None,
        )
    except CharterError as exc:
        return _refused(exc)
    return _json({"ok": True})


@router.post("/find-device/devices/{device_id}/commands", include_in_schema=False)
def send_command(
    request: Request,
    user: Me,
    device_id: DeviceId,
    payload: Annotated[str, Form(max_length=8192)],
    signature: Annotated[str, Form(max_length=128)],
) -> Response:
    """Queue a command the browser signed with the owner's key."""
    try:
        command = _fd(request).commands.queue(
            user.subject_id,
            device_id,
            b64d(payload, field="payload"),
            b64d(signature, field="signature", size=64),
            actor="web",
        )
    except CharterError as exc:
        return _refused(exc)
    return _json(command_json(command), 201)


@router.get("/find-device/commands/{command_id}", include_in_schema=False)
async def answer(
    request: Request,
    command_id: CommandId,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT)] = 0,
) -> Response:
    """A command once its device answered (waiting up to ``wait`` seconds), with the sealed
    report that answered a locate."""
    user = await run_in_threadpool(current_user, request)
    fd = _fd(request)
    try:
        found = await run_in_threadpool(fd.commands.wait_answer, user.subject_id, command_id, wait)
    except CharterError as exc:
        return _refused(exc)
    sealed = [
        {
            "id": r.id,
            "device_id": r.device_id,
            "received_at": r.received_at,
            "sealed": _b64(r.sealed),
        }
        for r in await run_in_threadpool(fd.reports.answering, user.subject_id, command_id)
    ]
    return _json({"command": command_json(found), "reports": sealed})


@router.post("/find-device/devices/{device_id}/off", include_in_schema=False)
def switch_off(request: Request, user: Me, device_id: DeviceId) -> Response:
    """Switch Find Device off for a device (refused while lost mode is on)."""
    _fd(request).switch_off(user.subject_id, device_id, actor="subject")
    web_session(request).say(
        "Find Device is off for this device. Its location history is destroyed after 30 days off.",
        "success",
    )
    return redirect("/find-device")
