"""
Shared photo links under advanced protection, over HTTP with the device client, on SQLite
and PostgreSQL: the device strips and seals the copy, the link's fragment carries the key,
the server serves only ciphertext, holds no plaintext in any file, and still enforces
expiry and revocation and counts each view in the person's activity.
"""

from __future__ import annotations

import base64
import io
import warnings
from urllib.parse import urlsplit

import pytest
from PIL import Image
from sqlalchemy import func, select

from charter.app import Charter
from charter.client import ApiError
from charter.client.e2e import E2EError, open_shared_photo
from charter.client.protection import ProtectedCloud
from charter.errors import NotFoundError
from charter.services.cloud.tables import links, web_unlocks
from charter.taxonomy import Purpose
from charter.testing import FakeClock

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient

CANARY = "CANARY-Make-9931"


def photo_with_location() -> bytes:
    image = Image.new("RGB", (64, 40), (30, 140, 220))
    exif = image.getexif()
    exif[0x010F] = CANARY  # Make
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def key_of(url: str) -> bytes:
    fragment = urlsplit(url).fragment
    assert fragment.startswith("k=")
    return base64.urlsafe_b64decode(fragment[2:] + "=")


def test_a_protected_photo_is_shared_as_ciphertext_with_the_key_in_the_fragment(
    charter: Charter, api: TestClient, person_phone: tuple[str, ProtectedCloud], clock: FakeClock
) -> None:
    subject, phone = person_phone
    phone.protect("gallery", acknowledge_data_loss=True)
    original = photo_with_location()
    photo = phone.upload("gallery", original, name="IMG_0001.jpg", path="DCIM/Camera")
    url = phone.share(photo, days=2)
    parts = urlsplit(url)
    assert url.startswith(charter.settings.issuer + "/s/p/sl_")
    page = api.get(parts.path)  # what a browser sends: no fragment
    assert page.status_code == 200 and "/static/shared-photo.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    sealed = api.get(parts.path + "/sealed")
    assert sealed.status_code == 200 and sealed.content.startswith(b"SP\x01")
    assert CANARY.encode() not in sealed.content
    media_type, image = open_shared_photo(key_of(url), sealed.content)
    shown = Image.open(io.BytesIO(image))
    assert media_type == "image/jpeg" and shown.size == (64, 40)
    assert 0x8825 not in shown.getexif() and CANARY.encode() not in image
    with pytest.raises(E2EError):  # another key opens nothing
        open_shared_photo(b"\x01" * 32, sealed.content)
    # the standard route does not serve it, and the server holds no plaintext in any file
    assert api.get(parts.path.replace("/s/p/", "/s/")).status_code == 404
    needles = [CANARY.encode(), image[200:264], image[-200:-136], key_of(url)]
    files = [p for p in charter.settings.data_dir.rglob("*") if p.is_file()]
    assert not [(p.name, i) for p in files for i, n in enumerate(needles) if n in p.read_bytes()]
    # counted in the activity; the link ends when it expires
    views = charter.rights.activity.page(subject).entries
    assert len([e for e in views if e.action == "shared_link_view"]) == 1
    assert [k["views"] for k in phone.transport.request("GET", "/v1/cloud/links").json()] == [1]
    clock.advance(days=2, seconds=1)
    assert api.get(parts.path).status_code == 404
    assert api.get(parts.path + "/sealed").status_code == 404


def test_a_revoked_sealed_link_serves_nothing_and_its_copy_is_destroyed(
    charter: Charter, api: TestClient, person_phone: tuple[str, ProtectedCloud]
) -> None:
    subject, phone = person_phone
    phone.protect("gallery", acknowledge_data_loss=True)
    photo = phone.upload("gallery", photo_with_location(), name="IMG_2.jpg")
    first = phone.share(photo)
    (kept,) = phone.transport.request("GET", "/v1/cloud/links").json()
    second = phone.share(photo)
    (ended,) = [
        k for k in phone.transport.request("GET", "/v1/cloud/links").json() if k["id"] != kept["id"]
    ]
    with charter.stores.control().connect() as conn:
        record = conn.execute(
            select(links.c.record_id).where(
                links.c.subject_id == subject, links.c.id == ended["id"]
            )
        ).scalar_one()
    held = charter.gate.read_blob(
        subject, record, service="cloud", purpose=Purpose.APP_FUNCTIONALITY, actor="test"
    )
    assert held.startswith(b"SP\x01")
    assert api.get(urlsplit(second).path + "/sealed").status_code == 200
    phone.transport.request("DELETE", f"/v1/cloud/links/{ended['id']}")
    assert api.get(urlsplit(second).path).status_code == 404
    assert api.get(urlsplit(second).path + "/sealed").status_code == 404
    with pytest.raises(NotFoundError):  # revoking destroyed the sealed copy
        charter.gate.read_blob(
            subject, record, service="cloud", purpose=Purpose.APP_FUNCTIONALITY, actor="test"
        )
    assert api.get(urlsplit(first).path + "/sealed").status_code == 200
    phone.cloud.delete(photo)  # to the trash: its links end
    assert api.get(urlsplit(first).path + "/sealed").status_code == 404
    # a sealed copy is only for a protected gallery, and only in format SP 01
    with pytest.raises(ApiError) as bad:
        phone.transport.request(
            "POST", f"/v1/cloud/items/{photo.id}/sealed-links", content=b"plain jpeg bytes"
        )
    assert bad.value.status in (404, 422)


def test_the_purge_destroys_the_sealed_copy_of_an_expired_link(
    charter: Charter, api: TestClient, person_phone: tuple[str, ProtectedCloud], clock: FakeClock
) -> None:
    subject, phone = person_phone
    phone.protect("gallery", acknowledge_data_loss=True)
    photo = phone.upload("gallery", photo_with_location(), name="IMG_3.jpg")
    short = urlsplit(phone.share(photo, days=1)).path
    long = urlsplit(phone.share(photo, days=3)).path

    def copies() -> dict[str, str | None]:
        with charter.stores.control().connect() as conn:
            rows = conn.execute(
                select(links.c.expires_at, links.c.record_id).where(links.c.subject_id == subject)
            ).all()
        return {
            ("short" if r.expires_at == min(x.expires_at for x in rows) else "long"): r.record_id
            for r in rows
        }

    held = copies()
    assert held["short"] and held["long"]
    assert charter.cloud.sealed_links.purge_ended() == 0  # nothing has ended yet
    clock.advance(days=1, seconds=1)
    assert api.get(short + "/sealed").status_code == 404
    assert charter.cloud.sealed_links.purge_ended() == 1
    assert charter.cloud.sealed_links.purge_ended() == 0  # idempotent
    assert copies() == {"short": None, "long": held["long"]}
    with pytest.raises(NotFoundError):  # the expired link's copy is gone from the gate
        charter.gate.read_blob(
            subject, str(held["short"]), service="cloud", purpose=Purpose.APP_FUNCTIONALITY,
            actor="test",
        )  # fmt: skip
    assert api.get(long + "/sealed").status_code == 200  # the other link still works
    assert api.get(short + "/sealed").status_code == 404


def test_erasing_the_account_leaves_no_sealed_copy_link_or_web_unlock(
    charter: Charter, api: TestClient, person_phone: tuple[str, ProtectedCloud]
) -> None:
    subject, phone = person_phone
    phone.protect("gallery", acknowledge_data_loss=True)
    photo = phone.upload("gallery", photo_with_location(), name="MARKERphotoN5")
    url = phone.share(photo)
    browser_key = "11" * 32
    asked = charter.cloud.web_unlocks.ask(subject, "session-a", browser_key)
    assert asked.id and api.get(urlsplit(url).path + "/sealed").status_code == 200
    charter.rights.delete_account(subject, actor="test")
    with charter.stores.control().connect() as conn:
        for table in (links, web_unlocks):
            left = conn.execute(
                select(func.count()).select_from(table).where(table.c.subject_id == subject)
            ).scalar_one()
            assert left == 0, table.name
    assert api.get(urlsplit(url).path + "/sealed").status_code == 404
    report = charter.rights.verify_erasure(subject, markers=["MARKERphotoN5", CANARY])
    assert report.clean, report
