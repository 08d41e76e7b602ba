"""
Find Device (``/v1/find-device``): the owner's keys, devices, owner-signed commands and the
history of sealed positions; and the device's side: activation (with the owner's access
token), long-polling for commands, acknowledgements, signed batches of sealed reports, and
switching off. The device side authenticates with its device token
(``Authorization: Bearer fdt.…``). See ``docs/find_device.md``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from charter.api.deps import AnyPrincipal, CharterDep
from charter.api.errors import responses
from charter.errors import AuthError, RefusedError
from charter.services.find_device import Command, Device, FindDevice
from charter.services.find_device.wire import b64d, b64e

router = APIRouter(prefix="/v1/find-device", tags=["find_device"])

DeviceId = Annotated[str, Path(pattern=r"^fd_[0-9a-f]{32}$", description="A device id.")]
CommandId = Annotated[str, Path(pattern=r"^fc_[0-9a-f]{32}$", description="A command id.")]
MAX_WAIT = 30.0


class OwnerIn(BaseModel):
    seal_public: str = Field(max_length=64, description="X25519 public key, base64.")
    sign_public: str = Field(max_length=64, description="Ed25519 public key, base64.")
    wrapped: str | None = Field(None, max_length=8192, description="Wrapped private keys.")
    endorsement: str | None = Field(None, max_length=128)


class ActivateIn(BaseModel):
    identifiers: dict[str, str] = Field(description="mac_address, device_id, fid.")
    device_key: str = Field(max_length=64, description="The device's Ed25519 public key.")
    phone_number: str | None = Field(None, max_length=40)


class CommandIn(BaseModel):
    payload: str = Field(max_length=8192, description="Canonical JSON, base64.")
    signature: str = Field(max_length=128, description="Owner's Ed25519 signature, base64.")


class AckIn(BaseModel):
    outcome: str = Field(max_length=24, description="done or refused:<reason>.")


class ReportsIn(BaseModel):
    reports: list[dict[str, Any]] = Field(max_length=1000)
    sig: str = Field(max_length=128, description="Device's signature of the batch, base64.")


def _subject(principal: AnyPrincipal) -> str:
    if principal.subject_id is None:
        raise RefusedError("call with the owner's access token", code="forbidden")
    return principal.subject_id


def _device(request: Request, fd: FindDevice) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthError("send the device token: Authorization: Bearer fdt.…", code="unauthorized")
    return fd.bindings.authenticate(token.strip())


def device_out(d: Device, fd: FindDevice, subject_id: str) -> dict[str, Any]:
    with fd.control.connect() as conn:
        from charter.services.find_device.common import device_row  # noqa: PLC0415

        key = bytes(device_row(conn, subject_id, d.id).device_key)
    return {
        "id": d.id,
        "state": d.state,
        "lost": d.lost,
        "interval_s": d.interval_s,
        "bound_at": d.bound_at,
        "off_since": d.off_since,
        "last_seen": d.last_seen,
        "activations": d.activations,
        "history_gone_at": d.history_gone_at,
        "device_key": b64e(key),
    }


def command_out(c: Command) -> dict[str, Any]:
    return {
        "id": c.id,
        "device_id": c.device_id,
        "kind": c.kind,
        "actor": c.actor,
        "created_at": c.created_at,
        "expires_at": c.expires_at,
        "delivered_at": c.delivered_at,
        "acked_at": c.acked_at,
        "outcome": c.outcome,
    }


def owner_out(fd: FindDevice, subject_id: str) -> dict[str, Any] | None:
    keys = fd.owner_keys(subject_id)
    if keys is None:
        return None
    return {
        "seal_public": b64e(keys.seal_public),
        "sign_public": b64e(keys.sign_public),
        "wrapped": b64e(keys.wrapped) if keys.wrapped else None,
        "endorsement": b64e(keys.endorsement) if keys.endorsement else None,
        "since": keys.updated_at,
    }


@router.put("/owner", responses=responses(401, 403, 422))
def set_owner(body: OwnerIn, principal: AnyPrincipal, charter: CharterDep) -> dict[str, Any]:
    """Register or replace the owner's public keys (and, for the web, wrapped private keys)."""
    fd, subject = charter.find_device, _subject(principal)
    fd.set_owner_keys(
        subject,
        b64d(body.seal_public, field="seal_public", size=32),
        b64d(body.sign_public, field="sign_public", size=32),
        b64d(body.wrapped, field="wrapped") if body.wrapped else None,
        b64d(body.endorsement, field="endorsement", size=64) if body.endorsement else None,
    )
    return owner_out(fd, subject) or {}


@router.get("/owner", responses=responses(401, 403, 404))
def get_owner(principal: AnyPrincipal, charter: CharterDep) -> dict[str, Any]:
    """The owner's keys as registered."""
    found = owner_out(charter.find_device, _subject(principal))
    if found is None:
        from charter.errors import NotFoundError  # noqa: PLC0415

        raise NotFoundError("no owner keys yet", field="owner")
    return found


@router.get("/devices", responses=responses(401, 403))
def list_devices(principal: AnyPrincipal, charter: CharterDep) -> dict[str, Any]:
    """The owner's devices."""
    fd, subject = charter.find_device, _subject(principal)
    return {"devices": [device_out(d, fd, subject) for d in fd.devices(subject)]}


@router.post(
    "/devices/{device_id}/commands", status_code=201, responses=responses(401, 403, 404, 422, 429)
)
def send_command(
    device_id: DeviceId, body: CommandIn, principal: AnyPrincipal, charter: CharterDep
) -> dict[str, Any]:
    """Queue an owner-signed command (locate, ring, lock, erase, lost_mode_on/off)."""
    command = charter.find_device.commands.queue(
        _subject(principal),
        device_id,
        b64d(body.payload, field="payload"),
        b64d(body.signature, field="signature", size=64),
        actor="subject",
    )
    return command_out(command)


@router.post("/devices/{device_id}/off", responses=responses(401, 403, 404))
def owner_off(device_id: DeviceId, principal: AnyPrincipal, charter: CharterDep) -> dict[str, Any]:
    """Switch Find Device off for a device (refused while lost mode is on)."""
    fd, subject = charter.find_device, _subject(principal)
    return device_out(fd.switch_off(subject, device_id, actor="subject"), fd, subject)


@router.get("/history", responses=responses(401, 403))
def history(
    principal: AnyPrincipal,
    charter: CharterDep,
    device: Annotated[str | None, Query(pattern=r"^fd_[0-9a-f]{32}$")] = None,
) -> dict[str, Any]:
    """Past commands and the sealed positions (opened only with the owner's key)."""
    fd, subject = charter.find_device, _subject(principal)
    return {
        "commands": [command_out(c) for c in fd.commands.history(subject)],
        "reports": [
            {
                "id": r.id,
                "device_id": r.device_id,
                "kind": r.kind,
                "command_id": r.command_id,
                "received_at": r.received_at,
                "sealed": b64e(r.sealed),
            }
            for r in fd.reports.list(subject, device_id=device)
        ],
    }


@router.post("/activate", status_code=201, responses=responses(401, 403, 422))
def activate(body: ActivateIn, principal: AnyPrincipal, charter: CharterDep) -> dict[str, Any]:
    """Switch Find Device on for a device, with the owner's access token."""
    fd, subject = charter.find_device, _subject(principal)
    found = fd.activate(
        subject,
        body.identifiers,
        b64d(body.device_key, field="device_key", size=32),
        phone_number=body.phone_number,
    )
    device = found.device
    with fd.control.connect() as conn:
        from charter.services.find_device.common import device_row  # noqa: PLC0415

        lost_command_id = device_row(conn, subject, device.id).lost_command
    lost = fd.commands.lost_command(subject, lost_command_id) if device.lost else None
    return {
        "device_id": device.id,
        "token": found.token,
        "reactivated": found.reactivated,
        "owner": owner_out(fd, subject),
        "lost": device.lost,
        "interval_s": device.interval_s,
        "lost_command": ({"payload": b64e(lost[0]), "signature": b64e(lost[1])} if lost else None),
    }


@router.get("/device/commands", responses=responses(401))
async def device_commands(
    request: Request,
    charter: CharterDep,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT)] = 0,
) -> dict[str, Any]:
    """The device's pending commands; waits up to ``wait`` seconds for one (long poll)."""
    fd = charter.find_device
    subject, device_id = await run_in_threadpool(_device, request, fd)
    found = await run_in_threadpool(fd.commands.wait_pending, subject, device_id, wait)
    device = await run_in_threadpool(fd.device, subject, device_id)
    return {
        "commands": [{"id": i, "payload": b64e(p), "signature": b64e(s)} for i, p, s in found],
        "owner": owner_out(fd, subject),
        "lost": device.lost,
        "state": device.state,
    }


@router.post("/device/commands/{command_id}/ack", responses=responses(401, 404, 422))
def device_ack(
    command_id: CommandId, body: AckIn, request: Request, charter: CharterDep
) -> dict[str, Any]:
    """The device's answer to a command."""
    fd = charter.find_device
    subject, device_id = _device(request, fd)
    return command_out(fd.commands.ack(subject, device_id, command_id, body.outcome))


@router.post("/device/reports", status_code=201, responses=responses(401, 403, 422))
def device_reports(body: ReportsIn, request: Request, charter: CharterDep) -> dict[str, Any]:
    """A batch of sealed positions, signed with the device's key."""
    fd = charter.find_device
    subject, device_id = _device(request, fd)
    ids = fd.reports.ingest(subject, device_id, body.reports, b64d(body.sig, field="sig", size=64))
    return {"ids": ids}


@router.post("/device/off", responses=responses(401, 403))
def device_off(request: Request, charter: CharterDep) -> dict[str, Any]:
    """Switch Find Device off from the device (refused while lost mode is on)."""
    fd = charter.find_device
    subject, device_id = _device(request, fd)
    return device_out(fd.switch_off(subject, device_id, actor="subject"), fd, subject)
