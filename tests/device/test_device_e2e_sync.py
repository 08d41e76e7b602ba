"""
Cloud sync of a category under advanced protection (issue 15's end-to-end keys) through the
device runtime, against a real served server: the device encrypts before it uploads and
decrypts when it downloads (``charter.client.protection``), the server holds only ciphertext,
a device of the person not approved yet keeps its changes and takes nothing (no ciphertext
stored as content), and once approved it syncs both ways; other categories stay as they were.
"""

from __future__ import annotations

from collections.abc import Callable

from charter.app import Charter
from charter.device import Device
from charter.device.sync import CLOUD


def _synced(*devices: Device) -> None:
    for d in devices:
        d.refresh_switches()
        d.sync_cloud()


def test_a_protected_category_is_encrypted_and_decrypted_on_the_devices(
    charter: Charter, make_device: Callable[..., Device], new_person: Callable[[], str]
) -> None:
    ana = new_person()
    phone, tablet = make_device(ana, "ana-phone"), make_device(ana, "ana-tablet")
    assert phone.cloud_sync is not None and tablet.cloud_sync is not None
    assert phone.cloud_sync.protected is not None and tablet.cloud_sync.protected is not None
    assert phone.cloud is not None
    phone.cloud_sync.protected.protect("notes", acknowledge_data_loss=True)
    phone.cloud_sync.add("notes", b"the secret recipe")
    phone.cloud_sync.add("contacts", b"BEGIN:VCARD plain")
    _synced(phone)
    assert phone.last_push is not None and len(phone.last_push.uploaded) == 2
    held = {i: phone.cloud.download(i) for i in phone.last_push.uploaded}
    [note] = [i for i, raw in held.items() if raw.startswith(b"CE\x01")]
    assert b"secret recipe" not in held[note]  # the server holds ciphertext only
    [card] = [i for i in held if i != note]
    assert held[card] == b"BEGIN:VCARD plain"  # an unprotected category is unchanged
    assert phone.owner.get(CLOUD, note) == b"the secret recipe"

    # The tablet is not approved yet: it takes the plain item, nothing of the protected one,
    # and keeps its own protected note on the device.
    mine = tablet.cloud_sync.add("notes", b"tablet's secret")
    _synced(tablet)
    assert tablet.owner.get(CLOUD, card) == b"BEGIN:VCARD plain"
    assert tablet.owner.get(CLOUD, note) is None and tablet.cloud_sync.locked == [note]
    assert tablet.last_push is not None and tablet.last_push.locked == [mine]
    assert tablet.owner.get(CLOUD, mine) == b"tablet's secret"
    assert len(list(phone.cloud.all_changes())) == 2  # nothing of the tablet's went up

    # Approved from the phone (fingerprints compared): the tablet syncs both ways.
    phone.cloud_sync.protected.approve(tablet.cloud_sync.protected.device.device_id)
    _synced(tablet)
    assert tablet.owner.get(CLOUD, note) == b"the secret recipe"
    assert tablet.last_push is not None and len(tablet.last_push.uploaded) == 1
    theirs = tablet.last_push.uploaded[0]
    assert b"tablet's secret" not in phone.cloud.download(theirs)
    tablet.cloud_sync.edit(note, b"the secret recipe, v2")
    _synced(tablet, phone)
    assert b"v2" not in phone.cloud.download(note)
    assert phone.owner.get(CLOUD, note) == b"the secret recipe, v2"
    assert phone.owner.get(CLOUD, theirs) == b"tablet's secret"
