"""
Find Device end to end: a simulated device (the reference client, over real HTTP to a server
on a free port) and the owner (the client's owner side, with their key file). Enrol, locate,
lost mode with periodic reports under the fake clock, ring, lock, erase, factory reset, and
re-activation refused for another account until the owner releases the device.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fd_support import BERLIN, IDS, device, owner, served

from charter.app import Charter
from charter.client import ApiError
from charter.client.find_device import LostModeOnError
from charter.testing import FakeClock


@pytest.mark.promise("find_device.remote_actions")
@pytest.mark.promise("find_device.locate_on_request_only")
@pytest.mark.promise("find_device.lost_mode_periodic_location")
@pytest.mark.promise("find_device.lost_mode_survives_reset")
def test_enrol_locate_lost_mode_ring_lock_erase_reset(
    charter: Charter, clock: FakeClock, tmp_path: Path
) -> None:
    with served(charter) as url:
        alice = owner(charter, url)
        phone = device(charter, url, tmp_path)
        answer = phone.activate(alice.token, phone_number="+49 30 1234567")
        assert answer["reactivated"] is False and phone.device_id
        fd_id = phone.device_id

        # Nothing is sent unasked: a locate report without a pending request is refused.
        with pytest.raises(ApiError) as refused:
            phone.send_batch([("locate", "fc_" + "0" * 32, BERLIN)])
        assert refused.value.code == "not_requested"
        assert phone.poll() == []
        assert alice.api.history()["reports"] == []

        alice.api.send(fd_id, "locate")
        assert phone.poll() == [("locate", "done")]
        seen = alice.api.history()
        assert [r["position"]["lat"] for r in seen["reports"]] == [BERLIN.lat]
        assert seen["reports"][0]["verified"] is True
        assert seen["commands"][0]["outcome"] == "done"

        alice.api.send(fd_id, "ring")
        clock.advance(seconds=1)  # commands are delivered in the order they were queued
        alice.api.send(fd_id, "lock")
        assert phone.poll() == [("ring", "done"), ("lock", "done")]
        assert phone.rang == 1 and phone.locked

        # Lost mode: the lock screen shows the owner's message and number; a report at once,
        # then one per interval of the fake clock, none in between.
        alice.api.send(
            fd_id, "lost_mode_on", message="Please call me", phone="+49 30 999", interval_s=600
        )
        assert phone.poll() == [("lost_mode_on", "done")]
        assert phone.lost and phone.lost["message"] == "Please call me"
        assert phone.lost["phone"] == "+49 30 999"
        lost_reports = lambda: [r for r in alice.api.history()["reports"] if r["kind"] == "lost"]  # noqa: E731
        assert len(lost_reports()) == 1
        clock.advance(seconds=599)
        assert phone.tick() == 0
        clock.advance(seconds=1)
        assert phone.tick() == 1
        clock.advance(seconds=600)
        assert phone.tick() == 1
        assert len(lost_reports()) == 3
        assert all(r["position"]["lon"] == BERLIN.lon for r in lost_reports())

        # Lost mode blocks switching off, on the device and on the server.
        with pytest.raises(LostModeOnError):
            phone.switch_off()
        with pytest.raises(ApiError) as blocked:
            alice.api.switch_off(fd_id)
        assert blocked.value.code == "lost_mode_on"

        # Remote erase: the device acknowledges, then its keys are destroyed.
        alice.api.send(fd_id, "erase")
        assert phone.poll() == [("erase", "done")]
        assert not (tmp_path / "phone.json").exists() and phone.state == {}

        # Bob cannot activate the erased phone: it is bound and lost.
        bob = owner(charter, url)
        with pytest.raises(ApiError) as taken:
            device(charter, url, tmp_path, name="phone-bob").activate(bob.token)
        assert taken.value.code == "bound_to_another_account"

        # Alice re-activates it: same device, new key, lost mode comes back with its message.
        again = phone.activate(alice.token)
        assert again["reactivated"] is True and phone.device_id == fd_id
        assert phone.lost and phone.lost["message"] == "Please call me"
        assert phone.tick() == 1

        # Factory reset: the same again.
        phone.factory_reset()
        with pytest.raises(ApiError):
            device(charter, url, tmp_path, name="phone-bob2").activate(bob.token)
        phone.activate(alice.token)
        assert phone.device_id == fd_id and phone.lost

        # The owner leaves lost mode and releases the phone; then Bob may activate it.
        alice.api.send(fd_id, "lost_mode_off")
        assert phone.poll() == [("lost_mode_off", "done")]
        assert alice.api.switch_off(fd_id)["state"] == "off"
        bobs = device(charter, url, tmp_path, name="phone-bob3")
        assert bobs.activate(bob.token)["reactivated"] is False
        assert bobs.device_id != fd_id

        # Every command and acknowledgement is in the owner's audit trail.
        region = charter.gate.subject(alice.subject_id).region
        engine = charter.stores.region(region)
        entries = charter.journal.for_subject(engine, alice.subject_id, limit=500)
        actions = [e.action for e in entries]
        assert actions.count("find_device_command") == 6
        assert actions.count("find_device_ack") == 5  # a locate is answered by its report


def test_identifiers_change_nothing_when_any_matches(charter: Charter, tmp_path: Path) -> None:
    """A reset may change the Android ID: the MAC address or FID still finds the binding."""
    with served(charter) as url:
        alice = owner(charter, url)
        bob = owner(charter, url)
        device(charter, url, tmp_path).activate(alice.token)
        changed = {**IDS, "device_id": "android-id-after-reset"}
        with pytest.raises(ApiError) as taken:
            device(charter, url, tmp_path, ids=changed, name="b").activate(bob.token)
        assert taken.value.code == "bound_to_another_account"
