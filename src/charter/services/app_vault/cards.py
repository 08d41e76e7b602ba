"""
Cards rendered from display-only data. Pure: no I/O, no logging, nothing kept.

The device sends what a card shows (the apps it opens most, a note's first lines, today's
steps, the next calendar events), the server lays it out and answers; the values live only
in the request and the response. Promises ``app_vault.shortcuts_on_device`` and
``app_vault.local_only_cards`` are about what the device uploads; this module is why the
server, too, keeps none of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from charter.errors import InputError

CARD_KINDS = ("shortcuts", "note", "steps", "calendar")
NOT_STORED: frozenset[str] = frozenset(CARD_KINDS)
"""Card kinds whose data the server never stores (nor logs, nor hands to the gate)."""
MAX_CARDS = 12
MAX_LINES = 8
MAX_TEXT = 200


@dataclass(frozen=True, slots=True)
class Card:
    """A card laid out for display."""

    kind: str
    title: str
    lines: tuple[str, ...]


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT or any(ord(c) < 32 for c in value):
        raise InputError(f"{where} is text of at most {MAX_TEXT} printable characters", field=where)
    return value


def _items(data: Mapping[str, Any], key: str, where: str) -> Sequence[Any]:
    found = data.get(key, [])
    if not isinstance(found, list) or len(found) > MAX_LINES:
        raise InputError(f"{where}.{key} is a list of at most {MAX_LINES} entries", field=where)
    return found


def _card(index: int, card: Mapping[str, Any]) -> Card:
    where = f"cards[{index}]"
    kind = card.get("kind")
    if kind not in CARD_KINDS:
        raise InputError(f"{where}.kind is one of: {', '.join(CARD_KINDS)}", field=where)
    data = card.get("data", {})
    if not isinstance(data, dict):
        raise InputError(f"{where}.data is an object", field=where)
    if kind == "shortcuts":
        apps = [_text(a, f"{where}.data.apps") for a in _items(data, "apps", where)]
        return Card(kind, "Shortcuts", tuple(apps))
    if kind == "note":
        lines = [_text(line, f"{where}.data.lines") for line in _items(data, "lines", where)]
        return Card(kind, "Notes", tuple(lines[:3]))
    if kind == "steps":
        steps = data.get("steps")
        goal = data.get("goal", 8000)
        if not isinstance(steps, int) or not isinstance(goal, int) or steps < 0 or goal <= 0:
            raise InputError(f"{where}.data has whole-number steps and goal", field=where)
        percent = min(100, steps * 100 // goal)
        return Card(kind, "Steps", (f"{steps} steps", f"{percent}% of {goal}"))
    events = []
    for entry in _items(data, "events", where):
        if not isinstance(entry, dict):
            raise InputError(f"{where}.data.events holds objects", field=where)
        at = _text(entry.get("at", ""), f"{where}.data.events.at")
        events.append(f"{at} {_text(entry.get('title', ''), f'{where}.data.events.title')}")
    return Card(kind, "Calendar", tuple(events))


def render_cards(cards: Sequence[Mapping[str, Any]]) -> list[Card]:
    """
    Lay out the cards the device sent (at most 12), in order.

    Raises:
        InputError: an unknown card kind or malformed data (the message names where; it never
            repeats the value).
    """
    if len(cards) > MAX_CARDS:
        raise InputError(f"at most {MAX_CARDS} cards at once", field="cards")
    return [_card(i, c) for i, c in enumerate(cards)]
