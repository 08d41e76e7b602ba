"""
Cloud sync both ways through the device runtime, against a real served server: an item made
on one device reaches the other; edits go up based on the version synced last; an item
changed on both devices is reported as a conflict on the one that lost, and neither side is
overwritten until the person chooses; deletions go up; nothing syncs with the cloud off.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from charter.app import Charter
from charter.device import Device
from charter.device.sync import CLOUD, Conflict
from charter.errors import InputError


def _synced(*devices: Device) -> None:
    for d in devices:
        d.refresh_switches()
        d.sync_cloud()


def test_items_go_up_and_come_down_and_conflicts_overwrite_nothing(
    charter: Charter, make_device: Callable[..., Device], new_person: Callable[[], str]
) -> None:
    ana = new_person()
    phone, tablet = make_device(ana, "ana-phone"), make_device(ana, "ana-tablet")
    assert phone.cloud_sync is not None and tablet.cloud_sync is not None
    local = phone.cloud_sync.add("notes", b"buy bread")
    _synced(phone)
    assert phone.last_push is not None and len(phone.last_push.uploaded) == 1
    item_id = phone.last_push.uploaded[0]
    assert phone.owner.get(CLOUD, local) is None and phone.owner.get(CLOUD, item_id) == b"buy bread"
    assert phone.cloud is not None and phone.cloud.download(item_id) == b"buy bread"
    _synced(tablet)
    assert tablet.owner.get(CLOUD, item_id) == b"buy bread"

    # An edit goes up based on the version synced; the other device takes it.
    tablet.cloud_sync.edit(item_id, b"buy bread and milk")
    _synced(tablet, phone)
    assert tablet.last_push is not None and tablet.last_push.updated == [item_id]
    assert phone.owner.get(CLOUD, item_id) == b"buy bread and milk"

    # Both change it: the first to push wins; the other's push is refused by version and
    # reported, and its pull does not overwrite its own edit.
    phone.cloud_sync.edit(item_id, b"phone's list")
    tablet.cloud_sync.edit(item_id, b"tablet's list")
    _synced(phone)
    _synced(tablet)
    [conflict] = tablet.cloud_sync.conflicts()
    assert conflict.item_id == item_id and conflict.cloud_version > conflict.base_version
    assert tablet.owner.get(CLOUD, item_id) == b"tablet's list"
    assert phone.cloud.download(item_id) == b"phone's list"
    _synced(tablet)  # still in conflict: nothing is sent, nothing is taken
    assert tablet.owner.get(CLOUD, item_id) == b"tablet's list"
    assert phone.cloud.download(item_id) == b"phone's list"

    # The same seen from the push side: an edit based on an old version is refused by the
    # server and reported.
    _synced(phone)
    phone.cloud_sync.edit(item_id, b"phone again")
    tablet.cloud_sync.resolve(item_id, keep="device")
    _synced(tablet)
    assert tablet.cloud_sync.conflicts() == []
    assert phone.cloud.download(item_id) == b"tablet's list"
    phone.refresh_switches()
    phone.sync_cloud()
    assert phone.cloud_sync.conflicts() == [
        Conflict(item_id, conflict.cloud_version, conflict.cloud_version + 1)
    ]
    assert phone.owner.get(CLOUD, item_id) == b"phone again"
    phone.cloud_sync.resolve(item_id, keep="cloud")
    assert phone.owner.get(CLOUD, item_id) == b"tablet's list"
    with pytest.raises(InputError):
        phone.cloud_sync.resolve(item_id, keep="cloud")

    # A deletion goes up; the other device drops its copy.
    phone.cloud_sync.remove(item_id)
    _synced(phone, tablet)
    assert phone.last_push is not None and phone.last_push.deleted == [item_id]
    assert tablet.owner.get(CLOUD, item_id) is None


def test_nothing_syncs_with_the_cloud_switched_off(
    charter: Charter, make_device: Callable[..., Device], new_person: Callable[[], str]
) -> None:
    ana = new_person()
    phone = make_device(ana, "ana-phone")
    assert phone.cloud_sync is not None and phone.cloud is not None
    charter.gate.set_switches(ana, {"cloud.authorization": False}, source="user", actor="subject")
    phone.cloud_sync.add("notes", b"stay here")
    _synced(phone)
    assert phone.last_push is None
    assert list(phone.cloud.all_changes("0")) == []
