"""
A device approving a web session, over HTTP with the device client, on SQLite and
PostgreSQL: the keys reach the session wrapped to its ephemeral key only, only an approved
device gives them, only the session that asked gets them, and the approval expires.
"""

from __future__ import annotations

import warnings

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from charter.app import Charter
from charter.client import ApiError
from charter.client.e2e import key_id, open_item, public_bytes, unwrap_for_session
from charter.client.protection import ProtectedCloud
from charter.errors import NotFoundError, RefusedError
from charter.services.cloud.web_unlocks import LIFETIME
from charter.testing import FakeClock

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient


def test_the_session_gets_the_keys_wrapped_to_its_key_until_the_approval_expires(
    charter: Charter, api: TestClient, person_phone: tuple[str, ProtectedCloud], clock: FakeClock
) -> None:
    subject, phone = person_phone
    browser = X25519PrivateKey.generate()
    browser_hex = public_bytes(browser.public_key()).hex()
    with pytest.raises(RefusedError):  # nothing protected: nothing to unlock
        charter.cloud.web_unlocks.ask(subject, "session-a", browser_hex)
    phone.protect("notes", acknowledge_data_loss=True)
    note = phone.upload("notes", b"the plan", name="plan.txt")
    asked = charter.cloud.web_unlocks.ask(subject, "session-a", browser_hex)
    (listed,) = phone.web_unlocks()
    assert (listed["id"], listed["approved"]) == (asked.id, False)
    # malformed wraps, or a category not protected, change nothing
    for wrapped, field in (({"notes": ["AAAA"]}, "wrapped"), ({"contacts": ["AAAA"]}, "wrapped")):
        with pytest.raises(ApiError) as bad:
            phone.transport.request(
                "POST", f"/v1/cloud/unlocks/{asked.id}", json={"wrapped": wrapped}
            )
        assert bad.value.status == 422 and bad.value.field == field
    assert charter.cloud.web_unlocks.get(subject, asked.id).approved is False
    assert phone.approve_web(asked.id)["approved"] is True
    assert phone.web_unlocks() == []  # no longer waiting
    texts = [e.text for e in charter.rights.activity.page(subject).entries]
    assert any("let a browser session open" in t for t in texts)
    got = charter.cloud.web_unlocks.get(subject, asked.id, "session-a")
    (wrap,) = got.wrapped["notes"]
    key = unwrap_for_session(wrap, "notes", browser)
    assert open_item(key, "notes", phone.cloud.download(note.id)).content == b"the plan"
    with pytest.raises(NotFoundError):  # another session of the same person
        charter.cloud.web_unlocks.get(subject, asked.id, "session-b")
    clock.advance(seconds=LIFETIME // 1_000_000 + 1)
    with pytest.raises(NotFoundError):  # the approval expired
        charter.cloud.web_unlocks.get(subject, asked.id, "session-a")


def test_after_a_rotation_the_session_gets_the_earlier_keys_too(
    charter: Charter, api: TestClient, person_phone: tuple[str, ProtectedCloud]
) -> None:
    subject, phone = person_phone
    phone.protect("notes", acknowledge_data_loss=True)
    old = phone.upload("notes", b"before", name="a")
    phone.rotate("notes")
    new = phone.upload("notes", b"after", name="b")
    browser = X25519PrivateKey.generate()
    asked = charter.cloud.web_unlocks.ask(
        subject, "session-a", public_bytes(browser.public_key()).hex()
    )
    phone.approve_web(asked.id)
    wraps = charter.cloud.web_unlocks.get(subject, asked.id, "session-a").wrapped["notes"]
    assert len(wraps) == 2  # the current key and the earlier one
    keys = {key_id(k): k for k in (unwrap_for_session(w, "notes", browser) for w in wraps)}
    opened = []
    for item in (old, new):
        envelope = phone.cloud.download(item.id)
        opened.append(open_item(keys[envelope[3:19]], "notes", envelope).content)
    assert opened == [b"before", b"after"]
