"""
Categories protected before migration 0018 have no recovery public key (the rows look as
they did then: ``recovery_public`` null). Their recovery key still approves a new device,
without the person doing anything first: the next approved device to fetch its keys seals
a key proof under the category key; a new device that opened the key with the recovery key
opens that proof, and the server keeps the recovery key's public key from then on. A
removed device that still knows the key cannot use the proof, and a rotation asks for the
recovery key once. Over HTTP with the device client, SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import warnings
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from charter.app import Charter
from charter.client import ApiError
from charter.client.e2e import (
    E2EError,
    new_recovery_code,
    open_key_proof,
    public_bytes,
    recovery_private_key,
    wrap_key,
)
from charter.client.protection import LockedError
from charter.services.cloud.tables import protection
from support.cloud_fixtures import cloud_device, cloud_person

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient


def as_before_0018(charter: Charter, subject: str) -> None:
    """What 0018 found: no recovery public key (state 'on', nothing sealed beside the key)."""
    with charter.stores.control().begin() as conn:
        conn.execute(
            update(protection)
            .where(protection.c.subject_id == subject)
            .values(recovery_public=None, key_proof=None)
        )


def row(charter: Charter, subject: str, category: str) -> Any:
    with charter.stores.control().connect() as conn:
        return conn.execute(
            select(protection).where(
                protection.c.subject_id == subject, protection.c.category == category
            )
        ).one()


def device(charter: Charter, api: TestClient, subject: str, tmp_path: Path, name: str):
    return cloud_device(charter, api, subject, tmp_path / name / "device-key.json")


def public_of(code: str) -> str:
    return public_bytes(recovery_private_key(code).public_key()).hex()


def test_the_recovery_key_of_a_category_protected_before_0018_approves_a_new_device(
    charter: Charter, api: TestClient, tmp_path: Path
) -> None:
    subject = cloud_person(charter)
    phone = device(charter, api, subject, tmp_path, "phone")
    recovery = phone.protect("messages", acknowledge_data_loss=True)
    message = phone.upload("messages", b"meet at noon", name="Ana")
    as_before_0018(charter, subject)
    assert phone.status()["protected"]["messages"]["recovery"] == "preparing"

    # before any device prepared it, recovery says what to do (and changes nothing)
    early = device(charter, api, subject, tmp_path, "early")
    with pytest.raises(ApiError) as not_ready:
        early.recover(recovery)
    assert not_ready.value.code == "recovery_not_ready"
    assert "open the app once on a device that holds the keys" in not_ready.value.message
    assert {d["device_id"]: d["e2e"] for d in phone.devices()}[early.device.device_id] == (
        "pending"
    )

    # the phone's next sync prepares it by itself: it fetches its key, seals the proof
    again = device(charter, api, subject, tmp_path, "phone")  # the same key file, restarted
    assert again.download(message).content == b"meet at noon"
    prepared = row(charter, subject, "messages")
    assert prepared.recovery_public is None and bytes(prepared.key_proof).startswith(b"KP\x01")
    assert again.status()["protected"]["messages"]["recovery"] == "key_proof"
    key = again.key("messages")
    assert key not in bytes(prepared.key_proof)  # sealed under the key, not the key

    # a device without the recovery key cannot pass the proof: a wrong code opens nothing,
    # and a made-up proof is refused
    intruder = device(charter, api, subject, tmp_path, "intruder")
    with pytest.raises(E2EError):
        intruder.recover(new_recovery_code())
    intruder.register()
    made_up = {"messages": base64.b64encode(b"CW\x01" + bytes(96)).decode()}
    with pytest.raises(ApiError) as refused:
        intruder.transport.request(
            "POST",
            f"/v1/cloud/devices/{intruder.device.device_id}/keys",
            json={"wrapped": made_up, "recovery_proofs": {"messages": "00" * 32}},
        )
    assert refused.value.code == "recovery_proof_invalid"

    # every device lost: a new one with the recovery key is approved and reads
    fresh = device(charter, api, subject, tmp_path, "fresh")
    assert fresh.recover(recovery)["e2e"] == "approved"
    assert fresh.download(message).content == b"meet at noon"
    bound = row(charter, subject, "messages")
    assert bound.recovery_public == public_of(recovery) and bound.key_proof is None
    assert fresh.status()["protected"]["messages"]["recovery"] == "ready"
    # from now on it is like any category: a rotation needs no recovery key
    fresh.rotate("messages")
    later = device(charter, api, subject, tmp_path, "later")
    assert later.recover(recovery)["e2e"] == "approved"
    assert later.download(message).content == b"meet at noon"


def test_a_removed_device_cannot_use_the_key_proof_and_a_rotation_asks_for_the_recovery_key(
    charter: Charter, api: TestClient, tmp_path: Path
) -> None:
    subject = cloud_person(charter)
    phone = device(charter, api, subject, tmp_path, "phone")
    recovery = phone.protect("notes", acknowledge_data_loss=True)
    stolen = device(charter, api, subject, tmp_path, "stolen")
    stolen.register()
    phone.approve(stolen.device.device_id)
    as_before_0018(charter, subject)
    stolen.key("notes")  # its sync prepared the key proof (it holds the key)
    assert row(charter, subject, "notes").key_proof is not None

    # removed, it still knows the key: while the phone holds it too, the proof approves nobody
    phone.transport.request("DELETE", f"/v1/cloud/devices/{stolen.device.device_id}")
    thief = device(charter, api, subject, tmp_path, "stolen")
    thief.register()
    key = stolen.key("notes")
    (entry,) = thief.transport.request(
        "GET", "/v1/cloud/keys", params={"recipient": "recovery"}
    ).json()
    opened = open_key_proof(key, "notes", base64.b64decode(entry["key_proof_b64"]))
    with pytest.raises(ApiError) as refused:
        thief.transport.request(
            "POST",
            f"/v1/cloud/devices/{thief.device.device_id}/keys",
            json={
                "wrapped": {
                    "notes": base64.b64encode(
                        wrap_key(key, "notes", thief.device.public_key)
                    ).decode()
                },
                "recovery_proofs": {"notes": opened.hex()},
            },
        )
    assert refused.value.code == "rotation_due"

    # the phone's rotation asks for the recovery key once, checks it, and keeps its public key
    with pytest.raises(E2EError, match="enter its recovery key once"):
        phone.rotate_due()
    with pytest.raises(E2EError):
        phone.rotate_due(recovery=new_recovery_code())  # not this category's recovery key
    assert phone.rotate_due(recovery=recovery) == ["notes"]
    rotated = row(charter, subject, "notes")
    assert rotated.recovery_public == public_of(recovery) and rotated.key_proof is None
    after = phone.upload("notes", b"after the theft", name="x")
    with pytest.raises(LockedError):
        device(charter, api, subject, tmp_path, "stolen").download(after)
