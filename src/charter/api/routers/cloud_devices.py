"""
The cloud's devices, advanced protection and purchase history (``/v1/cloud/devices``,
``/v1/cloud/keys``, ``/v1/cloud/protection``, ``/v1/cloud/purchases``); part of the cloud
router (:mod:`charter.api.routers.cloud` includes it). See ``docs/cloud.md``.
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from charter.api.cloud_device_models import (
    DeviceIn,
    DeviceOut,
    DeviceSettingsIn,
    KeyProofIn,
    KeysIn,
    ProtectedOut,
    ProtectIn,
    ProtectionOut,
    PurchaseOut,
    RotateIn,
    WrappedKeyOut,
)
from charter.api.deps import AnyPrincipal, CharterDep
from charter.api.errors import responses
from charter.app import Charter
from charter.errors import InputError, RefusedError
from charter.services.cloud.devices import Device, fingerprint
from charter.services.cloud.protection import STATEMENT, Protected

router = APIRouter()

DeviceId = Annotated[str, Path(pattern=r"^dv_[0-9a-f]{32}$", description="A device id.")]
CategoryName = Annotated[str, Path(pattern=r"^[a-z_]{1,20}$", description="A category.")]
DEVICE_HEADER = "Charter-Device"
PROOF_HEADER = "Charter-Device-Proof"
CallerDevice = Annotated[
    str | None,
    Header(alias=DEVICE_HEADER, pattern=r"^dv_[0-9a-f]{32}$", description="The calling device."),
]
CallerProof = Annotated[
    str | None,
    Header(
        alias=PROOF_HEADER,
        pattern=r"^[0-9a-f]{64}$",
        description="The device proof (opened from the sealed one registration returns).",
    ),
]


def subject_of(principal: AnyPrincipal) -> str:
    """The person calling (a device with their token)."""
    if principal.subject_id is None:
        raise RefusedError(
            "cloud sync is for a person's devices: call with their access token",
            code="forbidden",
        )
    return principal.subject_id


async def check_device_switch(
    request: Request,
    principal: AnyPrincipal,
    charter: CharterDep,
    charter_device: Annotated[
        str | None,
        Header(
            alias=DEVICE_HEADER,
            pattern=r"^dv_[0-9a-f]{32}$",
            description="The calling device (its per-device switches apply).",
        ),
    ] = None,
) -> None:
    """A device naming itself is held to its own category switches (a request naming no
    device costs no thread hand-off)."""
    category = request.path_params.get("category")
    if charter_device is not None and category:
        await run_in_threadpool(
            charter.cloud.devices.check_sync_on, subject_of(principal), charter_device, category
        )


def _device_out(charter: Charter, subject_id: str, device: Device) -> DeviceOut:
    return DeviceOut(
        device_id=device.device_id,
        public_key=device.public_key,
        fingerprint=fingerprint(bytes.fromhex(device.public_key)),
        e2e=device.e2e,
        sync_off=list(device.sync_off),
        wifi_only=device.wifi_only,
        gallery_chosen=device.gallery_chosen,
        folder_count=device.folder_count,
        folders_sealed_b64=base64.b64encode(device.folders).decode() if device.folders else None,
        sync=charter.cloud.devices.effective(subject_id, device.device_id),
        created_at=device.created_at,
        updated_at=device.updated_at,
    )


def _b64(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise InputError("not base64", field=field) from None


@router.post("/devices", status_code=201, responses=responses(401, 403, 422))
def register_device(body: DeviceIn, principal: AnyPrincipal, charter: CharterDep) -> DeviceOut:
    """Record a device and its X25519 public key (for advanced protection and its own
    settings); registering again with the same key changes nothing."""
    subject_id = subject_of(principal)
    device = charter.cloud.devices.register(subject_id, body.device_id, body.public_key)
    out = _device_out(charter, subject_id, device)
    sealed = charter.cloud.keys.sealed_device_proof(subject_id, device.device_id)
    out.proof_sealed_b64 = base64.b64encode(sealed).decode()
    return out


@router.get("/devices", responses=responses(401, 403))
def list_devices(principal: AnyPrincipal, charter: CharterDep) -> list[DeviceOut]:
    """The person's devices with their settings and advanced-protection state."""
    subject_id = subject_of(principal)
    return [_device_out(charter, subject_id, d) for d in charter.cloud.devices.all(subject_id)]


@router.get("/devices/{device_id}", responses=responses(401, 403, 404))
def get_device(device_id: DeviceId, principal: AnyPrincipal, charter: CharterDep) -> DeviceOut:
    """One device: its settings and each category's sync on it."""
    subject_id = subject_of(principal)
    return _device_out(charter, subject_id, charter.cloud.devices.get(subject_id, device_id))


@router.put("/devices/{device_id}", responses=responses(401, 403, 404, 422))
def configure_device(
    device_id: DeviceId, body: DeviceSettingsIn, principal: AnyPrincipal, charter: CharterDep
) -> DeviceOut:
    """Change a device's settings: categories off on it, sync only on Wi-Fi, gallery
    folders (sealed by the device)."""
    subject_id = subject_of(principal)
    device = charter.cloud.devices.configure(
        subject_id,
        device_id,
        sync_off=body.sync_off,
        wifi_only=body.wifi_only,
        gallery_chosen=body.gallery_chosen,
        folders=(
            _b64(body.folders_sealed_b64, "folders_sealed_b64")
            if body.folders_sealed_b64 is not None
            else None
        ),
        folder_count=body.folder_count,
    )
    return _device_out(charter, subject_id, device)


@router.delete("/devices/{device_id}", responses=responses(401, 403, 404))
def remove_device(
    device_id: DeviceId, principal: AnyPrincipal, charter: CharterDep
) -> dict[str, bool]:
    """Forget a device and every key wrapped to it."""
    charter.cloud.devices.remove(subject_of(principal), device_id)
    return {"removed": True}


@router.post("/devices/{device_id}/keys", responses=responses(401, 403, 404, 422))
def give_keys(
    device_id: DeviceId,
    body: KeysIn,
    principal: AnyPrincipal,
    charter: CharterDep,
    caller: CallerDevice = None,
    proof: CallerProof = None,
) -> DeviceOut:
    """Approve a device: the protected categories' keys wrapped to its public key by an
    approved device proving itself (``Charter-Device``, ``Charter-Device-Proof``), or by
    the device itself with the recovery proofs it opened with the recovery key. Any other
    caller is refused (``device_not_approved``)."""
    subject_id = subject_of(principal)
    wrapped = {k: _b64(v, "wrapped") for k, v in body.wrapped.items()}
    charter.cloud.keys.check_approval(
        subject_id, device_id, wrapped, caller, proof, dict(body.recovery_proofs)
    )
    device = charter.cloud.protection.approve(subject_id, device_id, wrapped)
    if body.recovery_public:
        charter.cloud.keys.bind_recovery(subject_id, sorted(wrapped), body.recovery_public)
    return _device_out(charter, subject_id, device)


@router.get("/keys", responses=responses(401, 403, 422))
def wrapped_keys(
    principal: AnyPrincipal,
    charter: CharterDep,
    recipient: Annotated[str, Query(pattern=r"^(dv_[0-9a-f]{32}|recovery)$")],
) -> list[WrappedKeyOut]:
    """The protected categories' keys wrapped to a device or to the recovery key: only
    that recipient's private key, never on the server, opens them."""
    subject_id = subject_of(principal)
    found = charter.cloud.protection.keys_for(subject_id, recipient)
    keys = charter.cloud.keys
    proofs = keys.sealed_recovery_proofs(subject_id) if recipient == "recovery" else {}
    due = keys.key_proofs_due(subject_id, recipient) if found else {}
    status = charter.cloud.protection.status(subject_id) if recipient == "recovery" else {}

    def b64(blob: bytes | None) -> str | None:
        return base64.b64encode(blob).decode() if blob else None

    return [
        WrappedKeyOut(
            category=k.category,
            key_id=k.key_id,
            wrapped_b64=base64.b64encode(k.wrapped).decode(),
            proof_sealed_b64=b64(proofs.get(k.category)),
            key_proof_sealed_b64=b64(due.get(k.category)),
            key_proof_b64=b64(status[k.category].key_proof if k.category in status else None),
        )
        for k in found
    ]


def _protected_out(p: Protected) -> ProtectedOut:
    return ProtectedOut(
        category=p.category,
        key_id=p.key_id,
        format=p.format,
        enabled_at=p.enabled_at,
        state=p.state,
        recovery_public=p.recovery_public,
        recovery=p.recovery,
        previous_b64=base64.b64encode(p.previous).decode() if p.previous else None,
    )


@router.get("/protection", responses=responses(401, 403))
def protection_status(principal: AnyPrincipal, charter: CharterDep) -> ProtectionOut:
    """The categories under advanced protection, and the statement to show the person
    before they opt one in."""
    found = charter.cloud.protection.status(subject_of(principal))
    return ProtectionOut(
        statement=STATEMENT, protected={k: _protected_out(v) for k, v in found.items()}
    )


@router.put("/protection/{category}", responses=responses(401, 403, 422))
def protect_category(
    category: CategoryName,
    body: ProtectIn,
    principal: AnyPrincipal,
    charter: CharterDep,
    caller: CallerDevice = None,
    proof: CallerProof = None,
) -> ProtectedOut:
    """Put a category under advanced protection (end-to-end); ``acknowledge_data_loss``
    must be true, and the device that made the key proves itself. From then on its
    contents must be envelopes made on a device."""
    subject_id = subject_of(principal)
    who, _ = charter.cloud.keys.proven_device(subject_id, caller, proof)
    if who != body.device_id:
        raise RefusedError(
            "the device that made the key sends it (device_id is the calling device)",
            code="device_proof_required",
        )
    wrapped = {k: _b64(v, "wrapped") for k, v in body.wrapped.items()}
    found = charter.cloud.protection.enable(
        subject_id,
        category,
        acknowledge_data_loss=body.acknowledge_data_loss,
        key_id=body.key_id,
        device_id=body.device_id,
        wrapped=wrapped,
        recovery_public=body.recovery_public,
    )
    return _protected_out(found)


@router.post("/protection/{category}/rotate", responses=responses(401, 403, 422))
def rotate_key(
    category: CategoryName,
    body: RotateIn,
    principal: AnyPrincipal,
    charter: CharterDep,
    caller: CallerDevice = None,
    proof: CallerProof = None,
) -> ProtectedOut:
    """A new key for a protected category, from an approved device (after a device was
    removed): wrapped to every approved device and the recovery key only; every other
    wrap of the category is deleted, and new items must use the new key."""
    subject_id = subject_of(principal)
    who = charter.cloud.keys.approved_device(subject_id, caller, proof)
    charter.cloud.keys.rotate(
        subject_id,
        category,
        caller=who,
        key_id=body.key_id,
        wrapped={k: _b64(v, "wrapped") for k, v in body.wrapped.items()},
        previous=_b64(body.previous_b64, "previous_b64"),
        recovery_public=body.recovery_public,
    )
    return _protected_out(charter.cloud.protection.status(subject_id)[category])


@router.put("/protection/{category}/key-proof", responses=responses(401, 403, 422))
def keep_key_proof(
    category: CategoryName,
    body: KeyProofIn,
    principal: AnyPrincipal,
    charter: CharterDep,
    caller: CallerDevice = None,
    proof: CallerProof = None,
) -> ProtectedOut:
    """A category protected before 0018 (no recovery public key): an approved device
    sends the key proof it was given, sealed under the category key, so that the recovery
    key can approve a new device (the client does this by itself)."""
    subject_id = subject_of(principal)
    charter.cloud.keys.approved_device(subject_id, caller, proof)
    charter.cloud.keys.keep_key_proof(
        subject_id, category, _b64(body.key_proof_b64, "key_proof_b64")
    )
    return _protected_out(charter.cloud.protection.status(subject_id)[category])


@router.post("/protection/{category}/leave", responses=responses(401, 403, 422))
def leave_protection(
    category: CategoryName,
    principal: AnyPrincipal,
    charter: CharterDep,
    caller: CallerDevice = None,
    proof: CallerProof = None,
) -> ProtectedOut:
    """Start turning a category's protection off (approved device only): its items may
    now be re-uploaded decrypted, as standard (server-encrypted) items."""
    subject_id = subject_of(principal)
    charter.cloud.keys.approved_device(subject_id, caller, proof)
    charter.cloud.keys.leave(subject_id, category)
    return _protected_out(charter.cloud.protection.status(subject_id)[category])


@router.delete("/protection/{category}", responses=responses(401, 403, 422))
def turn_protection_off(
    category: CategoryName,
    principal: AnyPrincipal,
    charter: CharterDep,
    caller: CallerDevice = None,
    proof: CallerProof = None,
) -> dict[str, int | bool]:
    """Finish turning a category's protection off (approved device only): refused while an
    item is still an envelope (``items_still_protected``); then the wrapped keys are
    deleted."""
    subject_id = subject_of(principal)
    charter.cloud.keys.approved_device(subject_id, caller, proof)
    checked = charter.cloud.keys.turn_off(subject_id, category)
    return {"protected": False, "items": checked}


@router.get("/purchases", responses=responses(401, 403))
def purchase_history(principal: AnyPrincipal, charter: CharterDep) -> list[PurchaseOut]:
    """The person's membership purchases, newest first."""
    return [
        PurchaseOut(plan=p.plan, previous=p.previous, at=p.at, source=p.source)
        for p in charter.cloud.purchases(subject_of(principal))
    ]
