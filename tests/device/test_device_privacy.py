"""
Apps, permissions and access records; the privacy report's NDJSON validates against the
schema written from Apple's field list, and every access appears once with its purpose;
private spaces; secure sharing.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from PIL import Image
from rich.console import Console

from charter.device import Device, Grant, Manifest
from charter.device.report import dashboard, ndjson
from charter.device.sharing import share_photo
from charter.errors import AuthError, InputError, NotFoundError, RefusedError
from charter.taxonomy import Purpose
from charter.testing import FakeClock

SCHEMA = json.loads(
    (Path(__file__).parent / "schemas" / "app_privacy_report.schema.json").read_text()
)
PURPOSES = frozenset(p.value for p in Purpose)
MAPS = {
    "app": "com.example.maps",
    "permissions": {"location": "app_functionality", "clipboard": "app_functionality"},
}
CAM = {"app": "com.example.cam", "permissions": {"camera": "app_functionality"}, "autostart": True}


def test_manifest_errors_name_the_field() -> None:
    with pytest.raises(InputError) as caught:
        Manifest.parse({"app": "com.x.y", "permissions": {"location": "spying"}}, PURPOSES)
    assert caught.value.field == "manifest.permissions.location"
    with pytest.raises(InputError, match="unknown permission"):
        Manifest.parse({"app": "com.x.y", "permissions": {"telepathy": "analytics"}}, PURPOSES)
    with pytest.raises(InputError):
        Manifest.parse({"app": "X"}, PURPOSES)


def test_grants_autostart_notifications_and_reset(phone: Device, device_clock: FakeClock) -> None:
    apps = phone.owner.apps
    apps.install(Manifest.parse(MAPS, PURPOSES))
    apps.install(Manifest.parse(CAM, PURPOSES))
    with pytest.raises(RefusedError) as caught:
        apps.use_permission("com.example.maps", "location", foreground=True)
    assert caught.value.code == "permission_denied"
    with pytest.raises(InputError, match="all the time"):
        apps.grant("com.example.cam", "camera", Grant.ALWAYS)
    with pytest.raises(InputError, match="did not declare"):
        apps.grant("com.example.cam", "location", Grant.ALWAYS)
    apps.grant("com.example.maps", "location", Grant.WHILE_IN_USE)
    apps.use_permission("com.example.maps", "location", foreground=True)
    with pytest.raises(RefusedError) as caught:
        apps.use_permission("com.example.maps", "location", foreground=False)
    assert caught.value.code == "background_denied"
    apps.grant("com.example.cam", "camera", Grant.ALLOW_ONCE)
    apps.use_permission("com.example.cam", "camera", foreground=True)
    with pytest.raises(RefusedError):  # used up
        apps.use_permission("com.example.cam", "camera", foreground=True)
    assert not apps.may_autostart("com.example.cam")
    apps.allow_autostart("com.example.cam", True)
    assert apps.may_autostart("com.example.cam")
    apps.set_notifications("com.example.cam", False)
    assert not phone.owner.post("com.example.cam", "hi", "there")
    apps.reset_days = 30
    device_clock.advance(days=31)
    apps.touch("com.example.cam")
    apps.grant("com.example.cam", "camera", Grant.WHILE_IN_USE)
    assert apps.reset_unused() == ["com.example.maps"]
    assert apps.grants("com.example.maps") == {}
    assert apps.grants("com.example.cam") == {"camera": Grant.WHILE_IN_USE}


def test_privacy_report_validates_and_lists_each_access_once_with_its_purpose(
    phone: Device, device_clock: FakeClock
) -> None:
    apps = phone.owner.apps
    apps.install(Manifest.parse(MAPS, PURPOSES))
    apps.grant("com.example.maps", "location", Grant.ALWAYS)
    apps.grant("com.example.maps", "clipboard", Grant.WHILE_IN_USE)
    made = [
        apps.use_permission("com.example.maps", "location", foreground=True),
        apps.use_permission("com.example.maps", "location", foreground=False),
        apps.use_permission("com.example.maps", "clipboard", foreground=True),
    ]
    assert [n.body for n in phone.shade()] == ["com.example.maps read your clipboard"]
    lines = [json.loads(line) for line in ndjson(phone.owner.log.records()).splitlines()]
    validator = Draft202012Validator(SCHEMA, format_checker=FormatChecker())
    for line in lines:
        validator.validate(line)
    begins = [line for line in lines if line["kind"] == "intervalBegin"]
    assert sorted(line["identifier"] for line in begins) == sorted(made)
    assert {
        (b["category"], b["charter"]["purpose"], b["charter"]["foreground"]) for b in begins
    } == {
        ("location", "app_functionality", True),
        ("location", "app_functionality", False),
        ("clipboard", "app_functionality", True),
    }
    assert [b["charter"]["notice"] for b in begins if b["category"] == "clipboard"] == [True]
    out = io.StringIO()
    dashboard(phone.owner.log.records(), Console(file=out, width=140))
    shown = out.getvalue()
    main, pastes = shown.split("Clipboard reads: 1")
    assert "com.example.maps" in main and "clipboard" not in main  # its own entry
    assert "com.example.maps" in pastes and "app_functionality" in pastes
    device_clock.advance(days=31)
    assert phone.owner.log.records() == []  # kept 30 days


def test_a_private_space_is_unreadable_without_its_credential(phone: Device) -> None:
    phone.spaces.create("health", "s3cret-health")
    space = phone.switch("health", "s3cret-health")
    space.put("notes", "diary", b"private words")
    space.apps.install(Manifest.parse(CAM, PURPOSES))
    space.hide_content = True
    space.post("com.example.cam", "Dr. visit", "at 3pm")
    assert [(n.title, n.body) for n in phone.shade()] == [("New notification", "")]
    assert phone.owner.get("notes", "diary") is None  # its own data
    assert phone.owner.apps.installed() == []  # its own apps
    phone.lock_spaces()
    with pytest.raises(AuthError) as caught:
        phone.switch("health", "wrong-guess")
    assert caught.value.code == "wrong_credential"
    assert b"private words" not in phone.spaces.path("health").read_bytes()
    assert phone.switch("health", "s3cret-health").get("notes", "diary") == b"private words"
    phone.delete_space("health")
    assert not phone.spaces.path("health").exists()
    with pytest.raises(NotFoundError):
        phone.switch("health", "s3cret-health")


def _jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 0.0)}
    exif[0x0110] = "Pixel Test"
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_sharing_strips_location_unless_kept_for_this_share() -> None:
    photo = _jpeg_with_gps()
    shared, report = share_photo(photo)
    assert report is not None and Image.open(io.BytesIO(shared)).getexif().get(0x8825) is None
    exif = Image.open(io.BytesIO(shared)).getexif()
    assert exif.get(0x0110) is None  # the camera model went too
    located, kept_report = share_photo(photo, keep_location=True)  # the location alone
    exif = Image.open(io.BytesIO(located)).getexif()
    assert exif.get_ifd(0x8825).get(1) == "N" and exif.get(0x0110) is None
    assert kept_report is not None and "gps" in kept_report.kept
    no_gps, _ = share_photo(photo, keep_other_metadata=True)
    exif = Image.open(io.BytesIO(no_gps)).getexif()
    assert exif.get(0x8825) is None and exif.get(0x0110) == "Pixel Test"
    kept, none = share_photo(photo, keep_location=True, keep_other_metadata=True)
    assert none is None and kept == photo
