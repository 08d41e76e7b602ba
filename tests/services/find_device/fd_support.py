"""Helpers of the find-device tests: a served deployment, an owner with keys, a device."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from charter.app import Charter
from charter.asgi import create_app
from charter.client.find_device import FindDeviceAgent, FindDeviceOwner
from charter.client.find_device_crypto import OwnerKeyFile, Position
from support.live import Served, listening_socket

BERLIN = Position(52.520008, 13.404954, 12.0)
IDS = {"mac_address": "AA:BB:CC:00:11:22", "device_id": "imei-hash-35693803", "fid": "fid-7781"}


OPEN: list[Any] = []
"""Clients made by a test, closed after it (see conftest)."""


@dataclass
class Owner:
    subject_id: str
    token: str
    keys: OwnerKeyFile
    api: FindDeviceOwner


@contextmanager
def served(charter: Charter) -> Iterator[str]:
    sock, url = listening_socket()
    with Served(sock, create_app(charter)):
        yield url


def owner(charter: Charter, url: str, *, market: str = "de") -> Owner:
    subject = charter.gate.create_subject("account", market, actor="test").id
    token = charter.credentials.issue_user_token(subject, actor="test").secret
    keys = OwnerKeyFile.generate()
    api = FindDeviceOwner(url, token, keys, clock=charter.clock)
    api.register()
    OPEN.append(api)
    return Owner(subject, token, keys, api)


def device(
    charter: Charter,
    url: str,
    tmp: Path,
    *,
    ids: dict[str, str] | None = None,
    position: Position = BERLIN,
    name: str = "phone",
) -> FindDeviceAgent:
    agent = FindDeviceAgent(
        url, tmp / f"{name}.json", ids or IDS, lambda: position, clock=charter.clock
    )
    OPEN.append(agent)
    return agent


def refresh(charter: Charter, who: Owner) -> None:
    """A new user token for the owner (the fake clock outlived the old one)."""
    who.token = charter.credentials.issue_user_token(who.subject_id, actor="test").secret
    who.api.transport.headers = {"Authorization": f"Bearer {who.token}"}
