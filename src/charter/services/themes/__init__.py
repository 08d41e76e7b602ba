"""
Themes: a store of themes, wallpapers, ringtones and fonts (catalog service ``themes``).

Browsing needs no account; favourites and purchases need a signed-in account and the
service's authorization, which the first-run choice gives (recorded as consent, with the
person's answer about personalised recommendations as the ``themes.personalization``
switch). Favourites, purchases and viewed resources are gate records; this package keeps
only which resource a record is about (:mod:`.tables`). See ``docs/themes-vault-getapps.md``.
"""

from __future__ import annotations

from charter.services.themes.resources import RESOURCES, Resource
from charter.services.themes.service import Recommendations, Themes

__all__ = ["RESOURCES", "Recommendations", "Resource", "Themes"]
