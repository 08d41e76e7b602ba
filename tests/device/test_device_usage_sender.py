"""
Usage events over HTTP: the device's sender posts the events the person's switches allow,
batched, with the person's token, to the URL set in ``device.json`` (``usage_url``), in the
usage API's shape. A collector on its own loopback port proves the configured URL and
the token; the server's own usage API (the default URL) proves what is stored.
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
from charter.device.usage import DIAGNOSTICS_SWITCH, USAGE_SWITCH, HttpUsageSender
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
            {
                USAGE_SWITCH: True,
                DIAGNOSTICS_SWITCH: True,
                "browser.authorization": True,
                "cloud.authorization": False,
            },
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


SEQUENCE = (
    ("package_name", "com.example.browser"),
    ("version_type", "stable"),
    ("open_close", "open"),
    ("duration", 42),
    ("operator", "op"),
    ("network_type", "wifi"),
)
ESSENTIAL_FIELDS = (
    ("purpose", "system_updates"),
    ("system_version", "14.0.3"),
    ("device_model", "M2101"),
    ("update_status", "up_to_date"),
)


def test_the_servers_usage_api_takes_what_the_switches_let_out(
    charter: Charter, make_device: Callable[..., Device], new_person: Callable[[], str]
) -> None:
    """By default the sender posts to the server's own usage API: an app usage event with
    the switches on is stored; with Usage and Diagnostics off it never leaves the device,
    and only the essential telemetry goes."""
    ana = new_person()
    phone = make_device(ana, "ana-phone")
    sender = phone.usage.sink
    assert isinstance(sender, HttpUsageSender) and sender.url == "/v1/usage/events"
    used = UsageEvent("browser", "opened", 1, fields=SEQUENCE)
    essential = UsageEvent("system", "update", 1, kind="essential", fields=ESSENTIAL_FIELDS)
    charter.gate.set_switches(
        ana,
        {USAGE_SWITCH: True, DIAGNOSTICS_SWITCH: True, "browser.authorization": True},
        source="user",
        actor="subject",
    )
    phone.refresh_switches()
    assert phone.usage.offer(used) and phone.usage.offer(essential)
    assert phone.usage.flush() == 2
    assert [(o["kind"], o["accepted"], o["reason"]) for o in sender.outcomes] == [
        ("usage_sequence", True, "stored"),
        ("essential", True, "essential"),
    ]

    charter.gate.set_switches(ana, {DIAGNOSTICS_SWITCH: False}, source="user", actor="subject")
    phone.refresh_switches()
    assert not phone.usage.offer(used)  # dropped on the device
    assert phone.usage.offer(essential)
    assert phone.usage.flush() == 1
    assert [(o["kind"], o["accepted"]) for o in sender.outcomes] == [("essential", True)]
    assert sender.refused == 0 and sender.queue == []


def test_a_batch_the_server_refuses_is_dropped_not_retried(
    charter: Charter, make_device: Callable[..., Device], new_person: Callable[[], str]
) -> None:
    ana = new_person()
    phone = make_device(ana, "ana-phone")
    charter.gate.set_switches(
        ana,
        {USAGE_SWITCH: True, DIAGNOSTICS_SWITCH: True, "browser.authorization": True},
        source="user",
        actor="subject",
    )
    phone.refresh_switches()
    sender = phone.usage.sink
    assert isinstance(sender, HttpUsageSender)
    bad = UsageEvent("browser", "opened", 1, fields=(("not_declared", "x"),))
    assert phone.usage.offer(bad)
    assert phone.usage.flush() == 0  # 422: an undeclared field refuses the whole batch
    assert sender.refused == 1 and sender.queue == []
