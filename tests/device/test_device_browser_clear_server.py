"""
End to end over HTTP: a person clears their browsing history on the phone with sync on; the
phone asks Mi Browser's server (``POST /v1/browser/history/clear``, confirmed on the phone),
the server destroys the synced history and queues ``clear_browser_history`` for the
person's other devices; the tablet polls, clears its history and acknowledges.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from charter.app import Charter
from charter.device import Device
from charter.errors import NotFoundError


def test_clearing_on_the_phone_clears_the_tablet_through_the_server(
    charter: Charter, make_device: Callable[..., Device], new_person: Callable[[], str]
) -> None:
    ana = new_person()
    phone, tablet = make_device(ana, "ana-phone"), make_device(ana, "ana-tablet")
    charter.browser.put_sync(ana, "history", [{"url": "https://example.org/a", "title": "A"}])
    tab = tablet.browser.open_tab()
    tablet.browser.visit(tab, "https://example.org/a", "A")
    assert tablet.browser.history() != []
    phone.browser.set_option("sync", True)
    phone.browser.clear_history()
    pending = charter.rights.devices.pending(subject_id=ana)
    assert [(c.device_id, c.kind) for c in pending] == [("ana-tablet", "clear_browser_history")]
    assert charter.rights.devices.pending(subject_id=ana, device_id="ana-phone") == []
    assert [c.kind for c in tablet.poll()] == ["clear_browser_history"]
    assert tablet.browser.history() == []
    assert charter.rights.devices.pending(subject_id=ana) == []
    with pytest.raises(NotFoundError):  # the synced copy went too
        charter.browser.get_sync(ana, "history")
