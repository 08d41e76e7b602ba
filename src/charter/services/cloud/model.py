"""What a device sees of an item, and the conflict a stale change gets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from charter.errors import CharterError


class ConflictError(CharterError):
    """An update was based on an older version than the item's current one."""

    code = "version_conflict"

    def __init__(self, current: Item, attempted_base: int) -> None:
        super().__init__(
            f"the item is at version {current.version}, the change was based on version "
            f"{attempted_base}; nothing was stored: merge both and send again with "
            f"base version {current.version}",
            field="base_version",
        )
        self.current = current
        self.attempted_base = attempted_base


@dataclass(frozen=True, slots=True)
class Item:
    """An item as a device sees it (its content is fetched separately)."""

    id: str
    category: str
    version: int
    state: str
    size: int
    change: int
    created_at: int
    updated_at: int
    purge_at: int | None


Change = Item
"""A change is the item's state after it."""


def item_of(row: Any) -> Item:
    """An :class:`Item` from a ``cloud_items`` row."""
    return Item(
        row.id,
        row.category,
        row.version,
        row.state,
        row.size,
        row.seq,
        row.created_at,
        row.updated_at,
        row.purge_at,
    )
