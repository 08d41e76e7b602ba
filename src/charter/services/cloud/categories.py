"""What a device can sync: each category is one data type of the catalog's ``cloud`` service."""

from __future__ import annotations

from dataclasses import dataclass

from charter.errors import InputError


@dataclass(frozen=True, slots=True)
class Category:
    """One syncable category."""

    name: str
    data_type: str
    """The catalog data type its content is stored as."""
    trash: bool
    """Deleted items go to the trash (restorable for the plan's window) instead of at once."""
    delete_on_sync_off: bool = False
    """Switching its sync off deletes the cloud copy at once (catalog rule)."""


CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        Category("gallery", "photos_videos", trash=True),
        Category("messages", "text_messages", trash=True),
        Category("contacts", "contacts", trash=True),
        Category("call_history", "call_history", trash=False),
        Category("notes", "notes", trash=True),
        Category("recordings", "recordings", trash=True),
        Category("calendar", "calendar_events", trash=False),
        Category("browser", "browsing_history", trash=False),
        Category("wifi", "wifi_settings", trash=False, delete_on_sync_off=True),
        Category("home_screen", "home_screen_settings", trash=False),
        Category("phrases", "frequent_phrase", trash=False, delete_on_sync_off=True),
    )
}


def category(name: str) -> Category:
    """
    A category by name.

    Raises:
        InputError: no such category (the message lists them).
    """
    found = CATEGORIES.get(name)
    if found is None:
        raise InputError(
            f"no cloud category {name!r}; use one of: {', '.join(CATEGORIES)}", field="category"
        )
    return found
