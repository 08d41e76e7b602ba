"""
Per-device settings (category switches beside the account's, sync only on Wi-Fi, gallery
chosen folders sealed by the device) and the membership purchase history, over the API with
the device client, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from charter.app import Charter
from charter.client import ApiError
from charter.client.protection import DeviceKey, ProtectedCloud
from charter.errors import RefusedError
from charter.taxonomy import Purpose
from charter.testing import FakeClock
from support.cloud_fixtures import cloud_device
from support.cloud_fixtures import cloud_person as person

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient


def a_device(charter: Charter, api: TestClient, subject: str, folder: Path) -> ProtectedCloud:
    mine = cloud_device(charter, api, subject, folder / "device-key.json")
    mine.register()
    return mine


def test_a_category_switched_off_on_one_device_stops_only_that_device(
    charter: Charter, api: TestClient, tmp_path: Path
) -> None:
    subject = person(charter)
    phone = a_device(charter, api, subject, tmp_path / "phone")
    tablet = a_device(charter, api, subject, tmp_path / "tablet")
    me = phone.settings(sync_off=["gallery", "notes"], wifi_only=True)
    assert me["sync_off"] == ["gallery", "notes"] and me["wifi_only"] is True
    assert me["sync"]["gallery"] is False and me["sync"]["contacts"] is True
    with pytest.raises(ApiError) as refused:
        phone.cloud.upload("notes", b"from the phone")
    assert refused.value.code == "sync_off_on_device"
    with pytest.raises(ApiError):
        phone.cloud.upload_batch("gallery", [b"\xff\xd8a"])
    assert phone.cloud.upload("contacts", b"BEGIN:VCARD\nEND:VCARD").version == 1
    note = tablet.cloud.upload("notes", b"from the tablet")  # the tablet still syncs notes
    assert phone.cloud.download(note.id) == b"from the tablet"
    listed = {d["device_id"]: d for d in tablet.devices()}
    assert listed[tablet.device.device_id]["sync"]["notes"] is True
    assert listed[tablet.device.device_id]["wifi_only"] is False
    # the account-wide switch stops every device
    charter.cloud.set_sync(subject, "contacts", False)
    assert tablet.devices()[0]["sync"]["contacts"] is False
    with pytest.raises(ApiError) as off:
        tablet.cloud.upload("contacts", b"x")
    assert off.value.code == "sync_off"
    with pytest.raises(ApiError) as unknown:
        phone.settings(sync_off=["faxes"])
    assert unknown.value.status == 422


def test_chosen_gallery_folders_are_carried_sealed_to_the_device(
    charter: Charter, api: TestClient, tmp_path: Path
) -> None:
    subject = person(charter)
    phone = a_device(charter, api, subject, tmp_path / "phone")
    tablet = a_device(charter, api, subject, tmp_path / "tablet")
    folders = ["DCIM/Camera", "Pictures/FOLDERCANARYk2"]
    me = phone.settings(gallery_folders=folders)
    assert me["gallery_chosen"] is True and me["folder_count"] == 2
    assert phone.gallery_folders() == folders
    stored = charter.cloud.devices.get(subject, phone.device.device_id).folders or b""
    assert b"FOLDERCANARYk2" not in stored and stored.startswith(b"CS\x01")
    assert tablet.gallery_folders() == []  # its own record, not the phone's
    all_again = phone.settings(gallery_folders=[])
    assert all_again["gallery_chosen"] is False and phone.gallery_folders() == []
    other = charter.gate.create_subject("account", "de", actor="test").id
    with pytest.raises(Exception, match="no such device"):
        charter.cloud.devices.get(other, phone.device.device_id)


def test_a_device_id_keeps_its_key(charter: Charter, api: TestClient, tmp_path: Path) -> None:
    subject = person(charter)
    phone = a_device(charter, api, subject, tmp_path / "phone")
    assert phone.register()["device_id"] == phone.device.device_id  # again: no change
    impostor = DeviceKey.create()
    with pytest.raises(ApiError) as refused:
        phone.transport.request(
            "POST",
            "/v1/cloud/devices",
            json={"device_id": phone.device.device_id, "public_key": impostor.public_hex},
        )
    assert refused.value.code == "device_key_mismatch"
    bad = phone.transport.request(
        "POST",
        "/v1/cloud/devices",
        json={"device_id": "dv_" + "0" * 32, "public_key": "00" * 32},
        expect=(422,),
    )
    assert bad.json()["error"]["field"] == "public_key"
    phone.transport.request("DELETE", f"/v1/cloud/devices/{phone.device.device_id}")
    assert phone.devices() == []


def test_plan_changes_are_kept_as_purchase_history(
    charter: Charter, api: TestClient, tmp_path: Path, clock: FakeClock
) -> None:
    subject = person(charter)
    phone = a_device(charter, api, subject, tmp_path / "phone")
    charter.cloud.set_plan(subject, "plus")
    clock.advance(seconds=60)
    charter.cloud.set_plan(subject, "plus")  # no change, no purchase
    charter.cloud.set_plan(subject, "premium", source="person")
    history = phone.transport.request("GET", "/v1/cloud/purchases").json()
    assert [(p["plan"], p["previous"], p["source"]) for p in history] == [
        ("premium", "plus", "person"),
        ("plus", "free", "staff"),
    ]
    records = charter.gate.read(
        subject,
        service="cloud",
        purpose=Purpose.APP_FUNCTIONALITY,
        data_type="purchase_history",
        actor="test",
    )
    assert len(records) == 2  # gate records: exported and erased with the account
    outsider = charter.gate.create_subject("account", "de", actor="test").id
    with pytest.raises(RefusedError, match=r"consent|authoriz|switch"):
        charter.cloud.set_plan(outsider, "plus")  # the gate refuses: Cloud not authorized
    assert charter.cloud.usage(outsider)[0].name == "free"
