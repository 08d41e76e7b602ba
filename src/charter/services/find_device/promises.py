"""The find-device service's catalog promises (its ``service`` rules) and the code that keeps
each; the tests that prove them carry ``@pytest.mark.promise("<rule id>")``. Its ``device``
rules are kept by the device side (:mod:`charter.client.find_device`) and reported by the
device agent's registry."""

from __future__ import annotations

KEPT_BY: dict[str, str] = {
    "find_device.location_history_deletion": "FindDevice.switch_off records off_since; "
    "purge.purge_history destroys a device's sealed reports and locate operations once it "
    "has stayed off 30 consecutive days (switching on again clears the count); resumable",
    "find_device.remote_actions": "commands.Commands.queue: owner-signed ring, lock, erase "
    "and lost mode (nonce, expiry), checked by the server and again by the device before it "
    "acts and acknowledges",
}

ENFORCERS = frozenset(KEPT_BY)
"""The enforcer ids this package registers (the catalog names them under ``enforcer:``)."""
