"""
Fixtures and helpers shared by the cloud tests (tests/services/cloud): the served app (a
``TestClient`` over :func:`charter.asgi.create_app`), a person who authorized cloud, and a
device of theirs (its own user token, its own key file) as ``charter.client`` drives it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from charter.app import Charter
from charter.asgi import create_app
from charter.client import CloudClient, Transport
from charter.client.protection import DeviceKey, ProtectedCloud

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient


@pytest.fixture
def api(charter: Charter) -> Iterator[TestClient]:
    """The deployment served over the API (in process)."""
    with TestClient(create_app(charter), base_url="https://testserver") as client:
        yield client


def cloud_person(charter: Charter) -> str:
    """A new person (region ``de``) who switched cloud's authorization on."""
    subject = charter.gate.create_subject("account", "de", actor="test").id
    charter.gate.set_switches(
        subject, {"cloud.authorization": True}, source="user", actor="subject"
    )
    return subject


def cloud_device(charter: Charter, api: TestClient, subject: str, key_file: Path) -> ProtectedCloud:
    """A device of the person: its own token, its own key file (not registered yet)."""
    token = charter.credentials.issue_user_token(subject, actor="test").secret
    cloud = CloudClient("https://testserver", token, transport=Transport("", token, client=api))
    return ProtectedCloud(cloud, DeviceKey.load_or_create(key_file))


@pytest.fixture
def person_phone(charter: Charter, api: TestClient, tmp_path: Path) -> tuple[str, ProtectedCloud]:
    """A person and their phone (key file ``phone.json``), not registered yet."""
    subject = cloud_person(charter)
    return subject, cloud_device(charter, api, subject, tmp_path / "phone.json")
