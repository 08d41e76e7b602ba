"""
The copies sealed on a device behind shared links of protected photos count against the
person's quota (the API's usage includes them), a new link or an upload past the quota is
refused with the figures, and the space comes back when the link is revoked, expires or its
photo is destroyed; the purge then destroys those copies. SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from charter.app import Charter
from charter.client import ApiError
from charter.client.protection import ProtectedCloud
from charter.services.cloud import PLANS, Plan
from charter.services.cloud.tables import links
from charter.testing import FakeClock

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient


def a_photo(seed: int) -> bytes:
    image = Image.new("RGB", (48, 32), (seed % 256, 90, 200))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def used(phone: ProtectedCloud) -> int:
    return int(phone.transport.request("GET", "/v1/cloud/usage").json()["used_bytes"])


def copy_sizes(charter: Charter, subject: str) -> dict[str, int]:
    with charter.stores.control().connect() as conn:
        rows = conn.execute(
            select(links.c.id, links.c.size).where(
                links.c.subject_id == subject, links.c.record_id.is_not(None)
            )
        ).all()
    return {r.id: int(r.size) for r in rows}


def test_a_sealed_copy_counts_until_its_link_is_revoked_and_past_the_quota_is_refused(
    charter: Charter, person_phone: tuple[str, ProtectedCloud], monkeypatch: Any
) -> None:
    subject, phone = person_phone
    phone.protect("gallery", acknowledge_data_loss=True)
    photo = phone.upload("gallery", a_photo(1), name="IMG_1.jpg")
    before = used(phone)
    assert before == photo.size
    phone.share(photo)
    ((first, size),) = copy_sizes(charter, subject).items()
    assert size > 0
    assert used(phone) == before + size  # the API shows it
    shown = phone.transport.request("GET", "/v1/cloud/usage").json()
    assert shown["shared_copies_bytes"] == size
    assert charter.cloud.usage(subject)[1] == before + size  # and the web's figure
    # a plan with room for half a copy more: the next link is refused with the figures
    quota = before + size + size // 2
    monkeypatch.setitem(PLANS, "free", Plan("free", quota, 30))
    with pytest.raises(ApiError) as refused:
        phone.share(photo)
    assert refused.value.code == "quota_exceeded"
    assert f"needs {size} bytes and {size // 2} of the {quota} bytes" in str(refused.value)
    assert list(copy_sizes(charter, subject)) == [first]  # nothing was kept
    with pytest.raises(ApiError) as upload_refused:  # an upload meets the same figures
        phone.upload("gallery", a_photo(2) + bytes(size))
    assert upload_refused.value.code == "quota_exceeded"
    # revoking frees the space at once: the next link fits
    phone.transport.request("DELETE", f"/v1/cloud/links/{first}")
    assert used(phone) == before
    phone.share(photo)
    assert used(phone) == before + size


def test_the_space_comes_back_when_the_link_expires_or_the_photo_is_destroyed(
    charter: Charter, api: TestClient, person_phone: tuple[str, ProtectedCloud], clock: FakeClock
) -> None:
    subject, phone = person_phone
    phone.protect("gallery", acknowledge_data_loss=True)
    kept = phone.upload("gallery", a_photo(3), name="IMG_3.jpg")
    dropped = phone.upload("gallery", a_photo(4), name="IMG_4.jpg")
    items_only = used(phone)
    phone.share(kept, days=1)
    phone.share(dropped, days=5)
    sizes = sorted(copy_sizes(charter, subject).values())
    assert used(phone) == items_only + sum(sizes)
    # the photo goes to the trash: its copy still counts (a restore brings the link back)
    phone.cloud.delete(dropped)
    assert used(phone) == items_only + sum(sizes)
    # emptying the trash destroys the photo: its copy no longer counts
    phone.transport.request("DELETE", "/v1/cloud/trash")
    after_empty = used(phone)
    ((_, kept_copy),) = _copies_of(charter, subject, kept.id)
    assert after_empty == kept.size + kept_copy
    assert charter.cloud.sealed_links.purge_ended() == 1  # the destroyed photo's copy goes
    assert used(phone) == after_empty
    clock.advance(days=1, seconds=1)  # the other link expired: its copy no longer counts
    assert charter.cloud.usage(subject)[1] == kept.size  # (the phone's token lasts a day)
    assert charter.cloud.sealed_links.purge_ended() == 1
    assert copy_sizes(charter, subject) == {}
    assert charter.cloud.usage(subject)[1] == kept.size


def _copies_of(charter: Charter, subject: str, item_id: str) -> list[tuple[str, int]]:
    with charter.stores.control().connect() as conn:
        rows = conn.execute(
            select(links.c.id, links.c.size).where(
                links.c.subject_id == subject,
                links.c.item_id == item_id,
                links.c.record_id.is_not(None),
            )
        ).all()
    return [(r.id, int(r.size)) for r in rows]
