"""
Get Apps: the app store (catalog service ``get_apps``), offered only in the markets the
catalog names (India, Russia, Spain, Indonesia).

- :mod:`.apps`: the catalogue (fixed, non-personal, every app security-audited);
- :mod:`.reviews`: reviews, public with the author's nickname masked to everyone but the
  author (promise ``get_apps.masked_reviewer_names``);
- :mod:`.service`: installs, recommendations (never personalised in Spain) and the Points
  Mall (India only).

Review texts, installs and redemptions are gate records; this package keeps only which app
a record is about, ratings and points balances (:mod:`.tables`). See
``docs/themes-vault-getapps.md``.
"""

from __future__ import annotations

from charter.services.get_apps.apps import APPS, App
from charter.services.get_apps.reviews import Review, ReviewPage, mask_nickname
from charter.services.get_apps.service import GetApps, Points, Suggestions

__all__ = [
    "APPS",
    "App",
    "GetApps",
    "Points",
    "Review",
    "ReviewPage",
    "Suggestions",
    "mask_nickname",
]
