"""
Find Device through the device runtime, against a real served server: the device switches
it on at enrolment (its key inside the device's encrypted store), answers a locate with a
sealed fix from its location provider and sends nothing unasked, reports in lost mode on the
interval of the fake clock, shows the owner's message and number on its lock screen, refuses
to switch off while lost, crypto-erases itself on a remote erase, and after the erase or a
factory reset takes lost mode back through the server's binding (another account cannot
take it). ``Device.run`` long-polls and stops by itself after a remote erase.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from charter.app import Charter
from charter.client import ApiError
from charter.client.find_device import FindDeviceOwner
from charter.client.find_device_crypto import OwnerKeyFile, Position
from charter.device import Device
from charter.device.hardware import HARDWARE
from charter.device.keys import FileKeys
from charter.device.lost import LockScreen
from charter.errors import RefusedError
from charter.testing import FakeClock

PASSWORD = "device-pass-1"
BERLIN = Position(52.520008, 13.404954, 12.0)
IDS = {"mac_address": "AA:BB:CC:00:11:99", "device_id": "serial-lost-1", "fid": "fid-lost-1"}


class People:
    """Owners with their Find Device keys, and the clients to close after the test."""

    def __init__(self, charter: Charter, server: str, clock: FakeClock) -> None:
        self.charter, self.server, self.clock = charter, server, clock
        self.open: list[FindDeviceOwner | Device] = []

    def token(self, subject: str) -> str:
        return self.charter.credentials.issue_user_token(subject, actor="test").secret

    def owner(self) -> tuple[str, FindDeviceOwner]:
        subject = self.charter.gate.create_subject("account", "de", actor="test").id
        api = FindDeviceOwner(
            self.server, self.token(subject), OwnerKeyFile.generate(), clock=self.clock
        )
        api.register()
        self.open.append(api)
        return subject, api

    def device(self, folder: Path, subject: str) -> Device:
        phone = Device.create(
            folder,
            password=PASSWORD,
            server=self.server,
            token=self.token(subject),
            device_id="phone-" + subject[-6:],
            clock=self.clock,
            keys=FileKeys(folder),
            find_device=True,
            phone_number="+49 30 1234567",
            identifiers=IDS,
        )
        self.open.append(phone)
        return phone

    def close(self) -> None:
        for item in self.open:
            item.close()


@pytest.fixture
def people(charter: Charter, server: str, clock: FakeClock) -> Iterator[People]:
    made = People(charter, server, clock)
    yield made
    made.close()


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.mark.promise("find_device.locate_on_request_only")
@pytest.mark.promise("find_device.lost_mode_periodic_location")
@pytest.mark.promise("find_device.off_requires_leaving_lost_mode")
@pytest.mark.promise("find_device.lost_mode_survives_reset")
def test_lost_device_through_the_runtime(people: People, clock: FakeClock, tmp_path: Path) -> None:
    folder = tmp_path / "phone"
    ana, ana_api = people.owner()
    phone = people.device(folder, ana)
    phone.hardware.move(BERLIN)
    fd = phone.find_device
    assert fd is not None and fd.device_id
    fd_id = fd.device_id
    # The device's Find Device key lives in its encrypted store: no file of the device
    # holds it in clear, and only the hardware file is plain JSON.
    state = fd.agent.state
    secret = state["device_key"].encode()
    assert not any(secret in p.read_bytes() for p in folder.rglob("*") if p.is_file())

    # Nothing leaves unasked: polls and ticks (time passing) send no position.
    assert fd.poll() == []
    clock.advance(seconds=3600)
    assert fd.poll() == [] and fd.tick() == 0
    assert ana_api.history()["reports"] == []

    # Locate: one sealed report, the location provider's fix, opened by the owner's key.
    ana_api.send(fd_id, "locate")
    assert fd.poll() == [("locate", "done")]
    reports = ana_api.history()["reports"]
    assert [(r["kind"], r["position"]["lat"], r["verified"]) for r in reports] == [
        ("locate", BERLIN.lat, True)
    ]

    ana_api.send(fd_id, "ring")
    clock.advance(seconds=1)
    ana_api.send(fd_id, "lock")
    assert fd.poll() == [("ring", "done"), ("lock", "done")]
    assert phone.rang == 1 and phone.lock_screen == LockScreen("", "", lost=False)
    phone.unlock(PASSWORD)
    assert phone.lock_screen is None

    # Lost mode: the owner's message and number on the lock screen, a report at once and
    # then one per interval of the fake clock, none in between.
    ana_api.send(
        fd_id, "lost_mode_on", message="Please call me", phone="+49 30 999", interval_s=600
    )
    assert fd.poll() == [("lost_mode_on", "done")]
    assert phone.lock_screen == LockScreen("Please call me", "+49 30 999", lost=True)

    def lost_reports() -> int:
        return sum(1 for r in ana_api.history()["reports"] if r["kind"] == "lost")

    assert lost_reports() == 1
    clock.advance(seconds=599)
    assert fd.poll() == [] and lost_reports() == 1
    clock.advance(seconds=1)
    assert fd.poll() == [] and lost_reports() == 2

    # Lost mode keeps Find Device on: refused on the device, and at the server.
    with pytest.raises(RefusedError) as refused:
        phone.disable_find_device()
    assert refused.value.code == "lost_mode_on"
    assert phone.find_device is fd and fd.on

    # Remote erase: acknowledged, then the device's keys and every store are gone; only the
    # (simulated) hardware stays.
    ana_api.send(fd_id, "erase")
    assert fd.poll() == [("erase", "done")]
    assert phone.erased and _files(folder) == [HARDWARE]
    commands = {c["kind"]: c["outcome"] for c in ana_api.history()["commands"]}
    assert commands["erase"] == "done"

    # Another account cannot set it up with Find Device: bound and lost. Nothing is left.
    bo, _ = people.owner()
    with pytest.raises(ApiError) as taken:
        people.device(folder, bo)
    assert taken.value.code == "bound_to_another_account"
    assert _files(folder) == [HARDWARE]
    assert people.charter.rights.devices.devices(bo) == []  # not enrolled either

    # The owner sets it up again: lost mode comes back with its message, and reports.
    again = people.device(folder, ana)
    assert again.find_device is not None and again.find_device.device_id == fd_id
    assert again.lock_screen == LockScreen("Please call me", "+49 30 999", lost=True)
    assert again.find_device.tick() == 1
    assert lost_reports() == 3

    # A factory reset by hand: the same.
    again.wipe_for_recovery()  # a reset from recovery mode: no password asked
    assert _files(folder) == [HARDWARE]
    third = people.device(folder, ana)
    assert third.lock_screen is not None and third.lock_screen.lost
    assert third.find_device is not None

    # The owner leaves lost mode: now the device may switch Find Device off.
    ana_api.send(fd_id, "lost_mode_off")
    assert third.find_device.poll() == [("lost_mode_off", "done")]
    third.disable_find_device()
    assert third.find_device is None
    assert ana_api.devices()[0]["state"] == "off"


def test_run_long_polls_and_stops_after_a_remote_erase(
    people: People, clock: FakeClock, tmp_path: Path
) -> None:
    folder = tmp_path / "phone"
    ana, ana_api = people.owner()
    phone = people.device(folder, ana)
    phone.hardware.move(BERLIN)
    assert phone.find_device is not None
    fd_id = phone.find_device.device_id or ""
    ana_api.send(fd_id, "locate")
    clock.advance(seconds=1)  # commands are delivered in the order they were queued
    ana_api.send(fd_id, "erase")
    stop, errors = threading.Event(), []
    runner = threading.Thread(
        target=phone.run, args=(stop,), kwargs={"every": 1.0, "on_error": errors.append}
    )
    runner.start()
    runner.join(timeout=120)  # a bound for a broken run loop, not a wait for timing
    stop.set()
    assert not runner.is_alive() and errors == []
    assert phone.erased and _files(folder) == [HARDWARE]
    kinds = [r["kind"] for r in ana_api.history()["reports"]]
    assert kinds == ["locate"]
