"""Fixtures for the device agent: a real server over HTTP (uvicorn on a free loopback port,
the deployment on the backend under test) and devices enrolled with it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from charter.app import Charter
from charter.asgi import create_app
from charter.device import Device
from charter.device.keys import FileKeys
from charter.testing import FakeClock
from support.live import Served, listening_socket

PASSWORD = "device-pass-1"


@pytest.fixture
def server(charter: Charter) -> Iterator[str]:
    """The deployment served over HTTP; its base URL."""
    sock, url = listening_socket()
    with Served(sock, create_app(charter)):
        yield url


@pytest.fixture
def device_clock() -> FakeClock:
    """The devices' own clock."""
    return FakeClock()


@pytest.fixture
def make_device(
    tmp_path: Path, charter: Charter, server: str, device_clock: FakeClock
) -> Iterator[Callable[..., Device]]:
    """``make_device(subject_id, name)``: a device of that person, enrolled over HTTP."""
    made: list[Device] = []

    def make(subject_id: str, name: str, *, http: httpx.Client | None = None) -> Device:
        token = charter.credentials.issue_user_token(subject_id, actor="test").secret
        folder = tmp_path / "devices" / name
        device = Device.create(
            folder,
            password=PASSWORD,
            server=server,
            token=token,
            device_id=name,
            clock=device_clock,
            keys=FileKeys(folder),
            http=http or httpx.Client(base_url=server, timeout=30),
        )
        made.append(device)
        return device

    yield make
    for d in made:
        if d.data_dir.exists() and (d.data_dir / "device.json").exists():
            d.close()


@pytest.fixture
def phone(tmp_path: Path, device_clock: FakeClock) -> Iterator[Device]:
    """A device with no server."""
    folder = tmp_path / "phone"
    device = Device.create(folder, password=PASSWORD, clock=device_clock, keys=FileKeys(folder))
    yield device
    if (folder / "device.json").exists():
        device.close()


@pytest.fixture
def new_person(charter: Charter) -> Callable[[], str]:
    """``new_person()``: a new person with the cloud authorised; their subject id."""

    def make() -> str:
        subject = charter.gate.create_subject("account", "de", actor="test").id
        charter.gate.set_switches(
            subject, {"cloud.authorization": True}, source="user", actor="subject"
        )
        return subject

    return make
