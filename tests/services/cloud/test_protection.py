"""
Advanced protection (end-to-end), with the device client (:mod:`charter.client.protection`)
over the API, on SQLite and PostgreSQL: the server holds only ciphertext (a canary scan of
every file it writes finds no content, name or path), a new device cannot read until an
approved device or the recovery key gives it the keys, losing every device and the recovery
key leaves nothing anyone can open, and erasing the account leaves no residue.
"""

from __future__ import annotations

import base64
import warnings
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from charter.app import Charter
from charter.client import ApiError
from charter.client.e2e import E2EError, new_recovery_code
from charter.client.protection import LockedError, ProtectedCloud
from charter.services.cloud.protection import STATEMENT
from charter.services.cloud.tables import devices, protection, wrapped_keys
from support.cloud_fixtures import cloud_device
from support.cloud_fixtures import cloud_person as person

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient


def device(charter: Charter, api: TestClient, subject: str, key_dir: Path) -> ProtectedCloud:
    """A device of the person: its own token, its own key file."""
    return cloud_device(charter, api, subject, key_dir / "device-key.json")


def new_device(charter: Charter, api: TestClient, subject: str, tmp_path: Path, name: str):
    return device(charter, api, subject, tmp_path / "devices" / name)


def test_a_new_device_reads_only_once_an_approved_device_gives_it_the_keys(
    charter: Charter, api: TestClient, tmp_path: Path
) -> None:
    subject = person(charter)
    phone = new_device(charter, api, subject, tmp_path, "phone")
    plain = phone.cloud.upload("notes", b"written before protection")
    assert "lost for good" in phone.status()["statement"]
    phone.protect("notes", acknowledge_data_loss=True)
    changes = list(phone.cloud.all_changes())
    assert [(c.id, c.version) for c in changes] == [(plain.id, 2)]  # re-encrypted in place
    assert phone.download(changes[0]).content == b"written before protection"
    note = phone.upload("notes", b"the secret recipe", name="recipe.txt", path="Kitchen")
    tablet = new_device(charter, api, subject, tmp_path, "tablet")
    listed = {d["device_id"]: d for d in tablet.register() and tablet.devices()}
    assert listed[tablet.device.device_id]["e2e"] == "pending"
    assert listed[phone.device.device_id]["e2e"] == "approved"
    with pytest.raises(LockedError):
        tablet.download(note)
    assert tablet.cloud.download(note.id).startswith(b"CE\x01")  # ciphertext only
    # the person compares the twelve digits on both screens, then approves on the phone
    assert listed[tablet.device.device_id]["fingerprint"] == tablet.device.fingerprint
    approved = phone.approve(tablet.device.device_id)
    assert approved["e2e"] == "approved"
    opened = tablet.download(note)
    assert (opened.name, opened.path, opened.content) == (
        "recipe.txt",
        "Kitchen",
        b"the secret recipe",
    )
    # a new category protected later is wrapped to every approved device at once
    tablet.protect("contacts", acknowledge_data_loss=True)
    card = tablet.upload("contacts", b"BEGIN:VCARD\nFN:Ana\nEND:VCARD", name="Ana")
    assert phone.download(card).name == "Ana"


def test_the_server_refuses_plaintext_and_opting_in_needs_the_acknowledgement(
    charter: Charter, api: TestClient, tmp_path: Path
) -> None:
    subject = person(charter)
    phone = new_device(charter, api, subject, tmp_path, "phone")
    with pytest.raises(ApiError) as refused:
        phone.protect("calendar", acknowledge_data_loss=False)
    assert refused.value.status == 422 and refused.value.field == "acknowledge_data_loss"
    assert STATEMENT in refused.value.message
    assert charter.cloud.protection.status(subject) == {}
    phone.protect("calendar", acknowledge_data_loss=True)
    with pytest.raises(ApiError) as plain:
        phone.cloud.upload("calendar", b"dentist at 9")
    assert plain.value.code == "e2e_required"
    with pytest.raises(ApiError) as batch:
        phone.cloud.upload_batch("calendar", [b"one", b"two"])
    assert batch.value.code == "e2e_required"
    with pytest.raises(ApiError) as large:  # sealed while it arrives: checked by its head
        phone.cloud.upload("calendar", b"a long plaintext calendar " * 20_000)
    assert large.value.code == "e2e_required"
    assert not [p for p in charter.stores.blob_dir("eu").rglob("*") if p.is_file()]
    big = phone.upload("calendar", b"a long calendar " * 20_000, name="Year")
    assert phone.download(big).content == b"a long calendar " * 20_000
    with pytest.raises(ApiError) as again:
        phone.protect("calendar", acknowledge_data_loss=True)
    assert again.value.code == "already_protected"
    event = phone.upload("calendar", b"dentist at 9", name="Dentist")
    # the server still enforces consent: no authorization, no sync
    charter.gate.set_switches(
        subject, {"cloud.authorization": False}, source="user", actor="subject"
    )
    with pytest.raises(ApiError) as withdrawn:
        phone.upload("calendar", b"another")
    assert withdrawn.value.code == "consent_required"
    charter.gate.set_switches(
        subject, {"cloud.authorization": True}, source="user", actor="subject"
    )
    assert phone.download(event).name == "Dentist"


def test_the_recovery_key_restores_access_and_without_it_the_data_is_lost(
    charter: Charter, api: TestClient, tmp_path: Path
) -> None:
    subject = person(charter)
    phone = new_device(charter, api, subject, tmp_path, "phone")
    recovery = phone.protect("messages", acknowledge_data_loss=True)
    assert recovery.startswith("RK1-")
    message = phone.upload("messages", b"meet at noon", name="Ana", path="Inbox")
    key = phone.key("messages")
    # every device is lost; a new one comes with the recovery key
    fresh = new_device(charter, api, subject, tmp_path, "fresh")
    with pytest.raises(LockedError):
        fresh.download(message)
    with pytest.raises(E2EError):
        fresh.recover(new_recovery_code())  # a wrong recovery key opens nothing
    assert fresh.recover(recovery)["e2e"] == "approved"
    assert fresh.download(message).content == b"meet at noon"
    # without any device and without the recovery key, nothing the server holds opens:
    # the key is in none of its files (only wrapped to keys it does not have)
    lost = new_device(charter, api, subject, tmp_path, "lost")
    lost.register()
    with pytest.raises(LockedError):
        lost.download(message)
    for needle in (key, key.hex().encode(), base64.b64encode(key)):
        assert not [p for p in files_of(charter) if needle in p.read_bytes()]


def files_of(charter: Charter) -> list[Path]:
    return [p for p in charter.settings.data_dir.rglob("*") if p.is_file()]


def bytes_of(path: Path) -> list[bytes]:
    """A file's bytes, and each member's of an archive (exports are zip files)."""
    out = [path.read_bytes()]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            out += [archive.read(name) for name in archive.namelist()]
    return out


def forms(text: str) -> list[bytes]:
    raw = text.encode()
    return [
        raw,
        text.encode("utf-16-le"),
        raw.hex().encode(),
        *(base64.b64encode(b"\x00" * n + raw)[4 if n else 0 : -4] for n in range(3)),
    ]


@pytest.mark.parametrize("category", ["contacts", "calendar", "notes", "gallery"])
def test_no_file_the_server_writes_holds_a_content_name_or_path(
    charter: Charter, api: TestClient, tmp_path: Path, category: str
) -> None:
    subject = person(charter)
    phone = new_device(charter, api, subject, tmp_path, "phone")
    phone.protect(category, acknowledge_data_loss=True)
    canaries = {
        "content": f"CANARYcontent{category}Zq7",
        "name": f"CANARYname{category}Wv3",
        "path": f"CANARYpath{category}Xk9",
        "batch": f"CANARYbatch{category}Jm2",
    }
    item = phone.upload(
        category,
        canaries["content"].encode() * 3,
        name=canaries["name"],
        path=canaries["path"],
    )
    phone.upload_batch(category, [(canaries["name"] + "2", canaries["batch"].encode())])
    phone.update(item, canaries["content"].encode() + b" edited", name=canaries["name"])
    charter.rights.export(subject)
    assert any("export" in str(p) for p in files_of(charter))  # the export is on disk
    found = [
        (label, path.name)
        for path in files_of(charter)
        for label, text in canaries.items()
        for needle in forms(text)
        if any(needle in data for data in bytes_of(path))
    ]
    assert found == []
    # even with every server key (the keyring, the person's data key) the server reads
    # only envelopes
    for change in phone.cloud.all_changes():
        _, held = charter.cloud.content(subject, change.id)
        assert held.startswith(b"CE\x01")
        assert not [t for t in canaries.values() if t.encode() in held]
    assert phone.download(item).content.startswith(canaries["content"].encode())


def test_erasing_the_account_shreds_the_keys_and_leaves_no_residue(
    charter: Charter, api: TestClient, tmp_path: Path
) -> None:
    subject = person(charter)
    phone = new_device(charter, api, subject, tmp_path, "phone")
    phone.protect("recordings", acknowledge_data_loss=True)
    kept = phone.upload("recordings", b"MARKERvoiceQ8", name="memo")
    gone = phone.upload("recordings", b"MARKERtrashR4")
    phone.cloud.delete(gone)  # in the trash
    charter.rights.delete_account(subject, actor="test")
    with charter.stores.control().connect() as conn:
        for table in (protection, wrapped_keys, devices):
            left = conn.execute(
                select(func.count()).select_from(table).where(table.c.subject_id == subject)
            ).scalar_one()
            assert left == 0, table.name
    report = charter.rights.verify_erasure(subject, markers=["MARKERvoiceQ8", "MARKERtrashR4"])
    assert report.clean, report
    assert kept.id  # the device still holds its key file; the server holds nothing to open


def test_a_shared_link_of_a_protected_gallery_is_refused_with_the_reason(
    charter: Charter, api: TestClient, tmp_path: Path
) -> None:
    subject = person(charter)
    phone = new_device(charter, api, subject, tmp_path, "phone")
    phone.protect("gallery", acknowledge_data_loss=True)
    photo = phone.upload("gallery", b"\xff\xd8\xff\xe0 photo", name="IMG_1.jpg", path="DCIM")
    with pytest.raises(ApiError) as refused:
        phone.cloud.share(photo.id)
    assert refused.value.code == "advanced_protection"
