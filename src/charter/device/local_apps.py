"""
Two system apps whose catalog rules are kept on the device:

- **Video** (local videos): the viewing history of local videos is kept in the space only;
  when only local features are used, nothing but an analytics count may leave (through the
  usage reporter and its switches);
- **App Vault** cards: Shortcuts and the note, steps and calendar cards show local data only
  and upload nothing.
"""

from __future__ import annotations

import json

from charter.device.space import Space
from charter.device.usage import UsageEvent, UsageReporter

VIDEO = "video"
APP_VAULT = "app_vault"
LOCAL_CARDS = ("note", "steps", "calendar")


class LocalVideo:
    """The video player's local side."""

    def __init__(self, space: Space, usage: UsageReporter) -> None:
        self.space = space
        self.usage = usage

    def play(self, title: str) -> None:
        """Play a local video: its title joins the history here; an analytics count may go."""
        history = self.history()
        history.append(title)
        self.space.put(VIDEO, "history", json.dumps(history).encode())
        self.usage.offer(UsageEvent(VIDEO, "local_play", 1, "analytics"))

    def history(self) -> list[str]:
        """The local viewing history."""
        raw = self.space.get(VIDEO, "history")
        return list(json.loads(raw)) if raw else []


class AppVault:
    """App Vault's cards built from local data only."""

    def __init__(self, space: Space) -> None:
        self.space = space

    def set_card(self, card: str, content: str) -> None:
        """What a local app shows on its card (notes, steps, calendar)."""
        self.space.put(APP_VAULT, f"card:{card}", content.encode())

    def add_shortcut(self, app: str) -> None:
        """Pin an app to the Shortcuts card."""
        shortcuts = self.shortcuts()
        if app not in shortcuts:
            shortcuts.append(app)
        self.space.put(APP_VAULT, "shortcuts", json.dumps(shortcuts).encode())

    def shortcuts(self) -> list[str]:
        """The Shortcuts card."""
        raw = self.space.get(APP_VAULT, "shortcuts")
        return list(json.loads(raw)) if raw else []

    def cards(self) -> dict[str, str]:
        """Every local card with what it shows."""
        out = {}
        for card in LOCAL_CARDS:
            raw = self.space.get(APP_VAULT, f"card:{card}")
            if raw is not None:
                out[card] = raw.decode()
        return out
