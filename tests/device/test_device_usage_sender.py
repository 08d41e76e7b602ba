"""
Usage events over HTTP: the device's sender posts the events the person's switches allow,
batched, with the person's token, to the URL set in ``device.json`` (``usage_url``), in the
usage API's shape. The usage API is not on this server yet, so a collector on its own
loopback port stands for it (it records what arrives and answers each event as accepted);
the switches come from the real served server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request

from charter.app import Charter
from charter.device import Device, UsageEvent
from charter.device.keys import FileKeys
from charter.device.usage import USAGE_SWITCH, HttpUsageSender
from support.live import Served, listening_socket


@pytest.fixture
def collector() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A usage collector over HTTP; its URL and what it received (with the bearer)."""
    got: list[dict[str, Any]] = []
    app = FastAPI()

    @app.post("/collect")
    async def collect(request: Request) -> list[dict[str, Any]]:
        body = await request.json()
        got.append({"auth": request.headers.get("authorization", ""), **body})
        return [
            {"index": i, "kind": e["kind"], "accepted": True, "reason": "", "message": ""}
            for i, e in enumerate(body["events"])
        ]

    sock, url = listening_socket()
    with Served(sock, app):
        yield url + "/collect", got


def test_only_allowed_events_leave_and_they_reach_the_configured_url(
    charter: Charter,
    make_device: Callable[..., Device],
    new_person: Callable[[], str],
    collector: tuple[str, list[dict[str, Any]]],
) -> None:
    url, got = collector
    ana = new_person()
    first = make_device(ana, "ana-phone")
    folder, clock = first.data_dir, first.clock
    config = json.loads((folder / "device.json").read_text())
    (folder / "device.json").write_text(json.dumps({**config, "usage_url": url}))
    first.close()
    phone = Device(folder, clock=clock, keys=FileKeys(folder))
    try:
        sender = phone.usage.sink
        assert isinstance(sender, HttpUsageSender) and sender.url == url

        # Switch off: nothing is queued, nothing is sent.
        phone.refresh_switches()
        assert not phone.usage.offer(UsageEvent("browser", "pages", 3))
        assert phone.usage.flush() == 0 and got == []

        charter.gate.set_switches(
            ana,
            {USAGE_SWITCH: True, "browser.authorization": True, "cloud.authorization": False},
            source="user",
            actor="subject",
        )
        phone.refresh_switches()
        opened = UsageEvent(
            "browser",
            "opened",
            1,
            fields=(("package_name", "com.example.browser"), ("open_close", "open")),
        )
        assert phone.usage.offer(UsageEvent("browser", "pages", 3))
        assert phone.usage.offer(opened)
        assert not phone.usage.offer(UsageEvent("cloud", "syncs", 1))  # its service is off
        assert phone.usage.flush() == 2
        [batch] = got
        token = phone.session.token
        assert batch["auth"] == f"Bearer {token}" and batch["device"] == "ana-phone"
        assert batch["events"] == [
            {"kind": "usage_sequence", "fields": {"package_name": "browser", "duration": 3}},
            {
                "kind": "usage_sequence",
                "fields": {"package_name": "com.example.browser", "open_close": "open"},
            },
        ]
        assert phone.usage.dropped == 2 and sender.sent == 2 and sender.refused == 0
        assert phone.usage.flush() == 0 and len(got) == 1  # nothing twice
    finally:
        phone.close()


def test_without_the_usage_api_a_batch_is_refused_and_dropped(
    charter: Charter, make_device: Callable[..., Device], new_person: Callable[[], str]
) -> None:
    """The default URL is the server's usage route; on a server without it the batch is
    answered 404: dropped and counted, never retried."""
    ana = new_person()
    phone = make_device(ana, "ana-phone")
    charter.gate.set_switches(
        ana, {USAGE_SWITCH: True, "browser.authorization": True}, source="user", actor="subject"
    )
    phone.refresh_switches()
    sender = phone.usage.sink
    assert isinstance(sender, HttpUsageSender) and sender.url == "/v1/usage/events"
    assert phone.usage.offer(UsageEvent("browser", "pages", 3))
    if "/v1/usage/events" in {getattr(r, "path", "") for r in _routes(charter)}:
        assert phone.usage.flush() == 1  # the usage API (issue 17) answers each event
    else:
        assert phone.usage.flush() == 0
        assert sender.refused == 1
    assert sender.queue == []


def _routes(charter: Charter) -> list[Any]:
    from charter.asgi import create_app  # noqa: PLC0415

    return list(create_app(charter).routes)
