"""
What Mi Browser's APIs accept, pure: the synced kinds (and whether each may hold a URL), the
analytics types and the feed interactions, with their validation.

Bookmarks, history and open tabs are the person's own copy, synced through the cloud
(encrypted in their region, declared by the ``cloud`` service): they are the only types that
may hold a URL. Everything else — synced settings, analytics reports, feed interactions,
search-suggestion text — is refused whole (reason ``url_refused``) when any value in it is
URL-like (:mod:`.urls`).
"""

from __future__ import annotations

from typing import Any

from charter.errors import InputError, RefusedError
from charter.services.browser.urls import find_url

MAY_HOLD_URL: dict[str, bool] = {
    "bookmarks": True,
    "history": True,
    "tabs": True,
    "settings": False,
}
"""Each synced kind, and whether its values may hold a URL."""

ANALYTICS_KINDS = ("product_interaction", "crash_data", "performance_data")
"""The analytics types (catalog: usage data and diagnostics, for analytics only)."""

SETTINGS = {
    "do_not_track": bool,
    "global_privacy_control": bool,
    "clear_on_exit": bool,
    "smart_address_bar": bool,
    "search_engine": str,
    "text_size": int,
}
"""The browser settings a person's devices share."""

MAX_ENTRIES = 10_000
ENTRY_FIELDS = {"url", "title", "folder", "visited_at", "position"}


def refuse_urls(value: Any, where: str) -> None:
    """
    Raises:
        RefusedError: ``value`` holds a URL-like string (code ``url_refused``; the message
            names where, never the value).
    """
    found = find_url(value, where)
    if found is not None:
        raise RefusedError(
            f"{found} looks like a web address; Mi Browser's server never receives the "
            "addresses of visited pages, so nothing of this request was stored: send "
            "names, counts and ids only",
            code="url_refused",
            field=found,
        )


def check_sync(kind: str, payload: Any) -> None:
    """
    Validate a synced kind's payload.

    Raises:
        InputError: unknown kind or malformed payload (what and where).
        RefusedError: a URL-like value in a kind that may not hold one (``url_refused``).
    """
    if kind not in MAY_HOLD_URL:
        raise InputError(
            f"no synced kind {kind!r}; use one of: {', '.join(MAY_HOLD_URL)}", field="kind"
        )
    if kind == "settings":
        if not isinstance(payload, dict):
            raise InputError("settings are an object of setting: value", field="entries")
        for key, value in payload.items():
            expected = SETTINGS.get(key)
            if expected is None:
                raise InputError(
                    f"entries.{key}: no such setting; use: {', '.join(SETTINGS)}", field=key
                )
            if type(value) is not expected:
                raise InputError(f"entries.{key}: a {expected.__name__}", field=key)
        refuse_urls(payload, "entries")
        return
    if not isinstance(payload, list) or len(payload) > MAX_ENTRIES:
        raise InputError(f"{kind} is a list of at most {MAX_ENTRIES} entries", field="entries")
    for i, entry in enumerate(payload):
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise InputError(f"entries[{i}]: an object with a url", field="entries")
        extra = sorted(set(entry) - ENTRY_FIELDS)
        if extra:
            raise InputError(
                f"entries[{i}]: unknown field(s) {', '.join(extra)}; use: "
                + ", ".join(sorted(ENTRY_FIELDS)),
                field="entries",
            )


def check_feed(interactions: Any) -> list[dict[str, str]]:
    """
    Validate feed interactions: ``[{content_id, topic, action}]``, names and ids only.

    Raises:
        InputError: malformed.
        RefusedError: a URL-like value (``url_refused``).
    """
    if not isinstance(interactions, list) or not 1 <= len(interactions) <= 500:
        raise InputError("send 1 to 500 interactions", field="interactions")
    out = []
    for i, item in enumerate(interactions):
        if not isinstance(item, dict) or set(item) != {"content_id", "topic", "action"}:
            raise InputError(
                f"interactions[{i}]: an object with content_id, topic and action",
                field="interactions",
            )
        if not all(isinstance(v, str) and 0 < len(v) <= 80 for v in item.values()):
            raise InputError(f"interactions[{i}]: texts of 1-80 characters", field="interactions")
        out.append({k: str(v) for k, v in item.items()})
    refuse_urls(out, "interactions")
    return out
