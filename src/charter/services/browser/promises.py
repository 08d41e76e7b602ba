"""Mi Browser's catalog promises (its ``service`` rules) and the code that keeps each; the
tests that prove them carry ``@pytest.mark.promise("<rule id>")``."""

from __future__ import annotations

KEPT_BY: dict[str, str] = {
    "browser.synced_data_not_analysed": "Browser.feed reads only the feed's own interactions "
    "(FEED_SOURCES: browser content_consumption_data, through the gate for personalization); "
    "synced bookmarks, history and tabs are cloud items read only to hand them back to the "
    "person's devices, and the gate refuses any use of them for personalization",
    "browser.analytics_aggregated": "Aggregates.add: analytics reports are decided by the "
    "gate's policy, then only added to per-day counters that name no one; Aggregates.report "
    "releases a counter only once MIN_REPORTS reports made it",
}

ENFORCERS = frozenset(KEPT_BY)
"""The enforcer ids this package registers (the catalog names them under ``enforcer:``)."""
