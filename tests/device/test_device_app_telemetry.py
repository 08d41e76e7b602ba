"""
App usage telemetry through the device runtime, against a real served server: each declared
kind leaves at its declared frequency with its declared fields only (usage sequences in
batches several times a day, app status when it happens, the installed-apps snapshot at most
once a day), and with "Usage and Diagnostics" off only the essential telemetry leaves. Every
request the device makes is watched on its HTTP client.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from charter.app import Charter
from charter.device import Device
from charter.device.telemetry import SEQUENCE_EVERY_HOURS, declared
from charter.errors import InputError
from charter.taxonomy import Purpose
from charter.testing import FakeClock

USE = {"version_type": "stable", "open_close": "open", "duration": 42, "operator": "op",
       "network_type": "wifi"}  # fmt: skip


class Watched:
    """The device's HTTP client, noting each usage batch it sends (kinds, fields)."""

    def __init__(self, server: str) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.client = httpx.Client(
            base_url=server, timeout=30, event_hooks={"request": [self._seen]}
        )

    def _seen(self, request: httpx.Request) -> None:
        if request.url.path == "/v1/usage/events":
            self.batches.append(json.loads(request.content)["events"])

    def kinds(self) -> list[list[str]]:
        return [[e["kind"] for e in b] for b in self.batches]


def _person(charter: Charter, *, diagnostics: bool = True) -> str:
    subject = charter.gate.create_subject("account", "de", actor="test").id
    charter.gate.set_switches(
        subject,
        {"system.user_experience_program": True, "system.usage_diagnostics": diagnostics},
        source="user",
        actor="subject",
    )
    return subject


def _stored(charter: Charter, subject: str) -> list[str]:
    found = charter.gate.read(
        subject, service="app_usage_data", purpose=Purpose.ADVERTISING, actor="test"
    )
    return sorted(r.source or "" for r in found)


def test_declared_fields_and_frequencies_are_the_catalogs(charter: Charter) -> None:
    rules = {r.id: r.params for r in charter.catalog.service("app_usage_data").rules}
    mine = declared()
    assert mine.fields["usage_sequence"] == set(rules["event_usage_sequence"]["fields"])
    assert mine.fields["app_status"] == set(rules["event_app_status"]["fields"])
    assert mine.snapshot_per_day == rules["event_installed_apps_snapshot"]["per_day"] == 1
    assert set(mine.essential_for) == set(rules["essential_telemetry"]["for"])


@pytest.mark.promise("app_usage_data.event_usage_sequence")
def test_usage_sequences_leave_in_batches_several_times_a_day(
    charter: Charter, server: str, make_device: Callable[..., Device], device_clock: FakeClock
) -> None:
    ana = _person(charter)
    watched = Watched(server)
    phone = make_device(ana, "ana-phone", http=watched.client)
    phone.refresh_switches()
    with pytest.raises(InputError) as bad:  # an undeclared field never leaves the device
        phone.telemetry.used("com.miui.gallery", url="https://example.org/secret")
    assert "url" in str(bad.value) and watched.batches == []
    sent_at: list[int] = []
    for hour in range(24):
        phone.telemetry.used("com.miui.gallery", **USE)  # type: ignore[arg-type]
        before = len(watched.batches)
        phone.telemetry.tick([])
        if any("usage_sequence" in k for k in watched.kinds()[before:]):
            sent_at.append(hour)
        device_clock.advance(seconds=3600)
    assert sent_at == list(range(0, 24, SEQUENCE_EVERY_HOURS))  # 6 batches a day
    sequences = [e for b in watched.batches for e in b if e["kind"] == "usage_sequence"]
    assert len(sequences) == 24 - (24 - 1) % SEQUENCE_EVERY_HOURS  # the last hours still wait
    assert all(set(e["fields"]) == {"package_name", *USE} for e in sequences)
    assert _stored(charter, ana).count("usage_sequence") == len(sequences)


@pytest.mark.promise("app_usage_data.event_app_status")
def test_app_status_leaves_when_it_happens(
    charter: Charter, server: str, make_device: Callable[..., Device]
) -> None:
    ana = _person(charter)
    watched = Watched(server)
    phone = make_device(ana, "ana-phone", http=watched.client)
    phone.refresh_switches()
    assert phone.telemetry.status(
        "com.miui.notes", version_type="stable", download_install_source="get_apps",
        first_launch=True,
    )  # fmt: skip
    assert watched.kinds() == [["app_status"]]  # at once, alone
    phone.telemetry.status("com.miui.notes", uninstall=True)
    assert watched.kinds() == [["app_status"], ["app_status"]]
    assert _stored(charter, ana) == ["app_status", "app_status"]
    with pytest.raises(InputError):
        phone.telemetry.status("com.miui.notes", duration=3)  # a usage-sequence field
    assert len(watched.batches) == 2


@pytest.mark.promise("app_usage_data.event_installed_apps_snapshot")
def test_the_installed_apps_snapshot_leaves_at_most_once_a_day(
    charter: Charter, server: str, make_device: Callable[..., Device], device_clock: FakeClock
) -> None:
    ana = _person(charter)
    watched = Watched(server)
    phone = make_device(ana, "ana-phone", http=watched.client)
    phone.refresh_switches()
    apps = ["com.miui.gallery", "com.miui.notes"]
    for _hour in range(72):
        phone.telemetry.tick(apps)
        phone.telemetry.snapshot(apps)  # asked again at once: not due
        device_clock.advance(seconds=3600)
    snapshots = [e for b in watched.batches for e in b if e["kind"] == "installed_apps_snapshot"]
    assert len(snapshots) == 3  # one a day for three days
    assert all(e["fields"]["package_name"] == apps for e in snapshots)
    assert set(snapshots[0]["fields"]) <= declared().fields["installed_apps_snapshot"]
    # the server keeps only the latest, and never had to refuse one for its frequency
    assert _stored(charter, ana) == ["installed_apps_snapshot"]


@pytest.mark.promise("app_usage_data.essential_telemetry")
def test_with_usage_and_diagnostics_off_only_essential_telemetry_leaves(
    charter: Charter, server: str, make_device: Callable[..., Device], device_clock: FakeClock
) -> None:
    ana = _person(charter, diagnostics=False)
    watched = Watched(server)
    phone = make_device(ana, "ana-phone", http=watched.client)
    assert phone.refresh_switches()["system.usage_diagnostics"] is False
    for _hour in range(30):
        phone.telemetry.used("com.miui.gallery", **USE)  # type: ignore[arg-type]
        phone.telemetry.tick(["com.miui.gallery"])
        device_clock.advance(seconds=3600)
    assert not phone.telemetry.status("com.miui.gallery", update=True)
    assert watched.batches == []  # nothing but essential telemetry may leave
    assert phone.telemetry.essential("security", security_patch="2026-11-01", device_model="M2101")
    assert phone.telemetry.essential(
        "system_updates", system_version="14.0.3", update_status="up_to_date"
    )
    assert watched.kinds() == [["essential"], ["essential"]]
    with pytest.raises(InputError):
        phone.telemetry.essential("advertising", device_model="M2101")
    with pytest.raises(InputError):
        phone.telemetry.essential("security", package_name="com.miui.gallery")
    assert len(watched.batches) == 2
    assert sorted(r["purpose"] for r in charter.usage.events.essential_counts()) == [
        "security",
        "system_updates",
    ]
    # switched back on: the next uses leave with the next batch
    charter.gate.set_switches(
        ana, {"system.usage_diagnostics": True}, source="user", actor="subject"
    )
    phone.refresh_switches()
    phone.telemetry.used("com.miui.gallery", **USE)  # type: ignore[arg-type]
    device_clock.advance(seconds=SEQUENCE_EVERY_HOURS * 3600)
    phone.telemetry.tick([])
    assert watched.kinds()[2:] == [["usage_sequence"], ["installed_apps_snapshot"]]
    # nothing from while it was off: one use, one snapshot
    assert _stored(charter, ana) == ["installed_apps_snapshot", "usage_sequence"]
