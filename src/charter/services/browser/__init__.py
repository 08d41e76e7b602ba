"""
Mi Browser (catalog service ``browser``): the server side of a browser whose server never
receives the addresses of visited pages. Synced bookmarks, history and tabs are the person's
cloud items; analytics are counters; the search-suggestion proxy keeps nothing. See
``docs/browser-video-pay.md``.
"""

from __future__ import annotations

from charter.services.browser.kinds import ANALYTICS_KINDS, MAY_HOLD_URL, SETTINGS
from charter.services.browser.service import (
    CLEAR_COMMAND,
    FEED_SOURCES,
    Browser,
    Cleared,
    Feed,
    NotifyDevices,
    Synced,
)
from charter.services.browser.suggest import (
    SearchEngine,
    SimulatedSearchEngine,
    SuggestionRequest,
)
from charter.services.browser.urls import find_url, looks_like_url

__all__ = [
    "ANALYTICS_KINDS",
    "CLEAR_COMMAND",
    "FEED_SOURCES",
    "MAY_HOLD_URL",
    "SETTINGS",
    "Browser",
    "Cleared",
    "Feed",
    "NotifyDevices",
    "SearchEngine",
    "SimulatedSearchEngine",
    "SuggestionRequest",
    "Synced",
    "find_url",
    "looks_like_url",
]
