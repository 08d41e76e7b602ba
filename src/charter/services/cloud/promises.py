"""The cloud service's catalog promises (its ``service`` rules) and the code that keeps each;
the tests that prove them carry ``@pytest.mark.promise("<rule id>")``."""

from __future__ import annotations

KEPT_BY: dict[str, str] = {
    "cloud.trash_window": "CloudSync.delete moves trash categories to the trash for the plan's "
    "window (30 to 180 days); purge_expired destroys them when it ends",
    "cloud.delete_on_sync_off": "switches.set_sync: switching off Wi-Fi or frequent phrases "
    "destroys their cloud items at once, and nothing of a switched-off category is stored",
}

ENFORCERS = frozenset(KEPT_BY)
"""The enforcer ids this package registers (the catalog names them under ``enforcer:``)."""
