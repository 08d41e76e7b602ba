"""
App Vault: the page of cards left of the home screen (catalog service ``app_vault``).

- **Cards** (shortcuts, notes, steps, calendar) are rendered from what the device sends for
  display only: :mod:`.cards` turns it into the card's lines and keeps nothing (declared
  :data:`~.cards.NOT_STORED`; a marker scan of every file the server writes proves it).
- **News** (:mod:`.news`) comes from a content partner (Mail.ru or MSN.com by market); it is
  tailored only with the person's ``app_vault.personalization`` switch on, and only from the
  feed's own interactions, never from the usage of other cards.

See ``docs/themes-vault-getapps.md``.
"""

from __future__ import annotations

from charter.services.app_vault.cards import CARD_KINDS, NOT_STORED, Card, render_cards
from charter.services.app_vault.news import NewsItem, Partner
from charter.services.app_vault.service import AppVault, Feed

__all__ = [
    "CARD_KINDS",
    "NOT_STORED",
    "AppVault",
    "Card",
    "Feed",
    "NewsItem",
    "Partner",
    "render_cards",
]
