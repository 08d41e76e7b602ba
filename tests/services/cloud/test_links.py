"""Shared photo links: the photo without its location or metadata, to anyone with the link,
until it expires or is revoked; counted on the link and in the owner's activity."""

from __future__ import annotations

import io
import warnings

from PIL import Image

from charter.app import Charter
from charter.testing import FakeClock

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient

CANARY = "CANARY-Make-4417"


def photo_with_location() -> bytes:
    image = Image.new("RGB", (48, 32), (200, 40, 40))
    exif = image.getexif()
    exif[0x010F] = CANARY  # Make
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def owner(charter: Charter) -> tuple[str, dict[str, str]]:
    subject = charter.gate.create_subject("account", "de", actor="test").id
    charter.gate.set_switches(
        subject, {"cloud.authorization": True}, source="user", actor="subject"
    )
    token = charter.credentials.issue_user_token(subject, actor="test").secret
    return subject, {"Authorization": f"Bearer {token}"}


def upload(api: TestClient, headers: dict[str, str], category: str, data: bytes) -> str:
    answer = api.post(
        f"/v1/cloud/{category}/items",
        content=data,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_a_shared_photo_has_no_location_and_the_link_ends(
    charter: Charter, api: TestClient, clock: FakeClock
) -> None:
    _, headers = owner(charter)
    original = photo_with_location()
    assert CANARY.encode() in original
    item = upload(api, headers, "gallery", original)
    made = api.post(f"/v1/cloud/items/{item}/links", json={"days": 2}, headers=headers)
    assert made.status_code == 201, made.text
    url = made.json()["url"]
    assert url.startswith(charter.settings.issuer + "/s/sl_")
    path = url.removeprefix(charter.settings.issuer)
    served = api.get(path)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert CANARY.encode() not in served.content
    shown = Image.open(io.BytesIO(served.content))
    assert 0x8825 not in shown.getexif() and shown.size == (48, 32)
    assert served.headers["cache-control"] == "no-store"
    listed = api.get("/v1/cloud/links", headers=headers).json()
    assert [(k["views"], k["url"]) for k in listed] == [(1, None)]  # the token is shown once
    clock.advance(days=2, seconds=1)
    assert api.get(path).status_code == 404


def test_a_revoked_link_and_a_deleted_photo_serve_nothing(
    charter: Charter, api: TestClient
) -> None:
    _, headers = owner(charter)
    item = upload(api, headers, "gallery", photo_with_location())
    first = api.post(f"/v1/cloud/items/{item}/links", headers=headers).json()
    second = api.post(f"/v1/cloud/items/{item}/links", headers=headers).json()
    gone = api.delete(f"/v1/cloud/links/{first['id']}", headers=headers)
    assert gone.status_code == 200 and gone.json()["revoked_at"] is not None
    assert api.get(first["url"].split("testserver")[-1]).status_code == 404
    assert api.get(second["url"].split("testserver")[-1]).status_code == 200
    api.delete(f"/v1/cloud/items/{item}", headers=headers)  # to the trash
    assert api.get(second["url"].split("testserver")[-1]).status_code == 404
    assert api.get("/s/sl_" + "A" * 43).status_code == 404


def test_only_gallery_photos_can_be_shared(charter: Charter, api: TestClient) -> None:
    _, headers = owner(charter)
    note = upload(api, headers, "notes", b"a note")
    refused = api.post(f"/v1/cloud/items/{note}/links", headers=headers)
    assert refused.status_code == 422 and "gallery" in refused.json()["error"]["message"]
    not_photo = upload(api, headers, "gallery", b"not a photo at all")
    refused = api.post(f"/v1/cloud/items/{not_photo}/links", headers=headers)
    assert refused.status_code == 422 and "JPEG" in refused.json()["error"]["message"]
    _, other = owner(charter)
    photo = upload(api, headers, "gallery", photo_with_location())
    assert api.post(f"/v1/cloud/items/{photo}/links", headers=other).status_code == 404


def test_views_are_in_the_owners_activity(charter: Charter, api: TestClient) -> None:
    subject, headers = owner(charter)
    item = upload(api, headers, "gallery", photo_with_location())
    link = api.post(f"/v1/cloud/items/{item}/links", headers=headers).json()
    api.get(link["url"].split("testserver")[-1])
    page = charter.rights.activity.page(subject)
    opened = [e for e in page.entries if e.action == "shared_link_view"]
    assert len(opened) == 1 and "opened a photo you shared" in opened[0].text
