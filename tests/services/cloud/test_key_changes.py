"""
Key changes under advanced protection, over HTTP with the device client, on SQLite and
PostgreSQL: only an approved device hands out keys (a device proof, or the recovery proof
for a device wrapping to itself); removing a device rotates the category keys so it cannot
open anything written afterwards; recovery shares (k of n) restore access; turning
protection off brings items back as standard items and deletes the wrapped keys.
"""

from __future__ import annotations

import base64
import warnings
from pathlib import Path

import pytest
from sqlalchemy import select

from charter.app import Charter
from charter.client import ApiError, CloudClient, Transport
from charter.client.e2e import E2EError, key_id, open_item, seal_item, wrap_key
from charter.client.protection import PROOF_HEADER, DeviceKey, LockedError, ProtectedCloud
from charter.client.recovery_shares import combine_shares, split_recovery
from charter.services.cloud.tables import protection, wrapped_keys
from support.cloud_fixtures import cloud_device
from support.cloud_fixtures import cloud_person as person

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient


def device(charter: Charter, api: TestClient, subject: str, where: Path) -> ProtectedCloud:
    """A device of the person: its own token, its own key file."""
    return cloud_device(charter, api, subject, where / "device-key.json")


def wraps_of(charter: Charter, subject: str, recipient: str) -> list[str]:
    with charter.stores.control().connect() as conn:
        return [
            r.category
            for r in conn.execute(
                select(wrapped_keys.c.category).where(
                    wrapped_keys.c.subject_id == subject, wrapped_keys.c.recipient == recipient
                )
            ).all()
        ]


def junk_wrap(phone: ProtectedCloud, category: str, target: DeviceKey) -> str:
    """A wrap that looks right to the server (the current key id) but holds another key."""
    current = bytes.fromhex(phone.status()["protected"][category]["key_id"])
    made = wrap_key(b"\x07" * 32, category, target.public_key)
    return base64.b64encode(made[:3] + current + made[19:]).decode()


def test_only_an_approved_device_may_hand_out_keys(
    charter: Charter, api: TestClient, tmp_path: Path
) -> None:
    subject = person(charter)
    phone = device(charter, api, subject, tmp_path / "phone")
    phone.protect("notes", acknowledge_data_loss=True)
    intruder = device(charter, api, subject, tmp_path / "intruder")
    intruder.register()
    body = {"wrapped": {"notes": junk_wrap(phone, "notes", intruder.device)}}
    target = f"/v1/cloud/devices/{intruder.device.device_id}/keys"
    # a pending device (any session of the account) approving itself: refused
    with pytest.raises(ApiError) as pending:
        intruder.transport.request("POST", target, json=body)
    assert (pending.value.status, pending.value.code) == (403, "device_not_approved")
    # a session naming no device, or a device it cannot prove it is
    bare = CloudClient(
        "https://testserver",
        charter.credentials.issue_user_token(subject, actor="test").secret,
        transport=Transport(
            "", charter.credentials.issue_user_token(subject, actor="test").secret, client=api
        ),
    )
    with pytest.raises(ApiError) as nameless:
        bare.transport.request("POST", target, json=body)
    assert nameless.value.code == "device_proof_required"
    bare.transport.headers["Charter-Device"] = phone.device.device_id
    bare.transport.headers[PROOF_HEADER] = "0" * 64
    with pytest.raises(ApiError) as posing:
        bare.transport.request("POST", target, json=body)
    assert posing.value.code == "device_proof_required"
    # a made-up recovery proof
    with pytest.raises(ApiError) as forged:
        intruder.transport.request(
            "POST", target, json={**body, "recovery_proofs": {"notes": "ab" * 32}}
        )
    assert forged.value.code == "recovery_proof_invalid"
    assert wraps_of(charter, subject, intruder.device.device_id) == []
    assert {d["device_id"]: d["e2e"] for d in phone.devices()}[
        intruder.device.device_id
    ] == "pending"
    # turning protection off and rotating need an approved device too
    for method, path in (
        ("POST", "/v1/cloud/protection/notes/leave"),
        ("DELETE", "/v1/cloud/protection/notes"),
    ):
        with pytest.raises(ApiError) as refused:
            intruder.transport.request(method, path)
        assert refused.value.code == "device_not_approved"
    # the approved phone may; so may the device itself with the real recovery proof
    assert phone.approve(intruder.device.device_id)["e2e"] == "approved"


def test_removing_a_device_rotates_the_keys_and_it_cannot_read_what_comes_after(
    charter: Charter, api: TestClient, tmp_path: Path
) -> None:
    subject = person(charter)
    phone = device(charter, api, subject, tmp_path / "phone")
    recovery = phone.protect("contacts", acknowledge_data_loss=True)
    tablet = device(charter, api, subject, tmp_path / "tablet")
    stolen = device(charter, api, subject, tmp_path / "stolen")
    for other in (tablet, stolen):
        other.register()
        phone.approve(other.device.device_id)
    before = phone.upload("contacts", b"BEGIN:VCARD\nFN:Ana\nEND:VCARD", name="Ana")
    assert stolen.download(before).name == "Ana"
    old_key = stolen.key("contacts")
    assert tablet.key("contacts") == old_key  # the tablet keeps it in memory
    assert phone.remove_device(stolen.device.device_id) == ["contacts"]
    status = phone.status()["protected"]["contacts"]
    assert status["state"] == "on" and status["key_id"] != key_id(old_key).hex()
    texts = [e.text for e in charter.rights.activity.page(subject).entries]
    assert any("gave contacts a new key" in t for t in texts)
    # the removed device's wraps are gone server-side; the others hold the new key only
    assert wraps_of(charter, subject, stolen.device.device_id) == []
    with charter.stores.control().connect() as conn:
        held = {
            r.recipient: r.key_id
            for r in conn.execute(
                select(wrapped_keys).where(wrapped_keys.c.subject_id == subject)
            ).all()
        }
    assert held == {
        phone.device.device_id: status["key_id"],
        tablet.device.device_id: status["key_id"],
        "recovery": status["key_id"],
    }
    # new items use the new key; the removed device, keeping its old key, opens none of them
    after = phone.upload("contacts", b"BEGIN:VCARD\nFN:Bo\nEND:VCARD", name="Bo")
    envelope = stolen.cloud.download(after.id)
    assert envelope[3:19].hex() == status["key_id"]
    with pytest.raises(E2EError):
        open_item(old_key, "contacts", envelope)
    stolen.register()  # it may come back as a device, but only pending
    with pytest.raises(LockedError):
        stolen.download(after)
    # an old-key upload is refused now: new items must use the new key
    with pytest.raises(ApiError) as stale:
        stolen.cloud.upload("contacts", seal_item(old_key, "contacts", b"late"))
    assert stale.value.code == "e2e_required"
    # the remaining devices read old and new items (earlier keys sealed under the new one)
    fresh_tablet = device(charter, api, subject, tmp_path / "tablet")
    assert fresh_tablet.download(before).name == "Ana"
    assert fresh_tablet.download(after).name == "Bo"
    # the tablet, still holding the old key in memory, picks up the new one by itself
    assert tablet.download(tablet.upload("contacts", b"BEGIN:VCARD\nFN:Cy\nEND:VCARD")).content
    assert tablet.key("contacts") not in (old_key, None)
    # a second rotation keeps every earlier key (sealed under the newest one)
    phone.rotate("contacts")
    # and the recovery key, wrapped anew, opens both on a brand new device
    spare = device(charter, api, subject, tmp_path / "spare")
    assert spare.recover(recovery)["e2e"] == "approved"
    assert [spare.download(i).name for i in (before, after)] == ["Ana", "Bo"]


def test_a_device_removed_on_the_web_marks_the_keys_for_rotation(
    charter: Charter, api: TestClient, tmp_path: Path
) -> None:
    subject = person(charter)
    phone = device(charter, api, subject, tmp_path / "phone")
    phone.protect("notes", acknowledge_data_loss=True)
    phone.protect("calendar", acknowledge_data_loss=True)
    lost = device(charter, api, subject, tmp_path / "lost")
    lost.register()
    phone.approve(lost.device.device_id)
    charter.cloud.devices.remove(subject, lost.device.device_id)  # as the web page does
    states = {n: p["state"] for n, p in phone.status()["protected"].items()}
    assert states == {"notes": "rotate", "calendar": "rotate"}
    assert sorted(phone.rotate_due()) == ["calendar", "notes"]
    with charter.stores.control().connect() as conn:
        assert {
            r.state
            for r in conn.execute(
                select(protection).where(protection.c.subject_id == subject)
            ).all()
        } == {"on"}
    # a rotation must cover every approved device and the recovery key, no one else
    key = phone.key("notes")
    proof = phone.status()["protected"]["notes"]
    with pytest.raises(ApiError) as partial:
        phone.transport.request(
            "POST",
            "/v1/cloud/protection/notes/rotate",
            json={
                "key_id": key_id(key).hex(),
                "wrapped": {
                    phone.device.device_id: base64.b64encode(
                        wrap_key(key, "notes", phone.device.public_key)
                    ).decode(),
                    lost.device.device_id: base64.b64encode(
                        wrap_key(key, "notes", lost.device.public_key)
                    ).decode(),
                },
                "previous_b64": base64.b64encode(b"CK\x01" + key_id(key) + bytes(28)).decode(),
                "recovery_public": proof["recovery_public"],
            },
        )
    assert partial.value.status == 422 and "recovery" in partial.value.message


def test_k_recovery_shares_restore_access_and_k_minus_one_do_not(
    charter: Charter, api: TestClient, tmp_path: Path
) -> None:
    subject = person(charter)
    phone = device(charter, api, subject, tmp_path / "phone")
    recovery = phone.protect("messages", acknowledge_data_loss=True)
    shares = split_recovery(recovery, threshold=3, count=5)  # one to each of five contacts
    message = phone.upload("messages", b"the safe code is 4711", name="Ana")
    # every device is lost; three contacts come together on a new phone
    fresh = device(charter, api, subject, tmp_path / "fresh")
    with pytest.raises(E2EError):
        fresh.recover(combine_shares([shares[4], shares[1]]))
    with pytest.raises(LockedError):
        fresh.download(message)
    assert fresh.recover(combine_shares([shares[4], shares[0], shares[2]]))["e2e"] == "approved"
    assert fresh.download(message).content == b"the safe code is 4711"
    # the server holds no share nor the recovery key in any file
    needles = [s.split()[5].encode() + b" " + s.split()[6].encode() for s in shares]
    needles.append(recovery.encode())
    files = [p for p in charter.settings.data_dir.rglob("*") if p.is_file()]
    assert not [(p.name, n) for p in files for n in needles if n in p.read_bytes()]


def test_turning_protection_off_brings_the_items_back_as_standard(
    charter: Charter, api: TestClient, tmp_path: Path
) -> None:
    subject = person(charter)
    phone = device(charter, api, subject, tmp_path / "phone")
    phone.protect("notes", acknowledge_data_loss=True)
    kept = phone.upload("notes", b"milk and eggs", name="shopping")
    trashed = phone.upload("notes", b"old list", name="old")
    phone.cloud.delete(trashed)
    # half way: the keys are still there and the server refuses to finish early
    phone.transport.request("POST", "/v1/cloud/protection/notes/leave")
    with pytest.raises(ApiError) as early:
        phone.transport.request("DELETE", "/v1/cloud/protection/notes")
    assert early.value.code == "items_still_protected" and "2 item(s)" in early.value.message
    assert phone.unprotect("notes") == 2
    assert charter.cloud.protection.status(subject) == {}
    assert wraps_of(charter, subject, phone.device.device_id) == []
    assert wraps_of(charter, subject, "recovery") == []
    # the server holds standard content again (it can read it: server-encrypted at rest)
    assert charter.cloud.content(subject, kept.id)[1] == b"milk and eggs"
    assert charter.cloud.content(subject, trashed.id)[1] == b"old list"
    assert charter.cloud.item(subject, trashed.id).state == "trashed"
    assert phone.cloud.upload("notes", b"plain again").state == "live"
