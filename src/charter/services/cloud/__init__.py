"""
Cloud: a person's data kept in sync between their devices (catalog service ``cloud``).

Every item's content is a gate record of service ``cloud`` (consent, purpose, encryption,
residency, audit, export and erasure come with it); this package keeps only what sync needs
beside it: item ids, categories, versions, change numbers, sizes and trash state
(:mod:`.tables`). See ``docs/cloud.md``.
"""

from __future__ import annotations

from charter.services.cloud.categories import CATEGORIES, Category
from charter.services.cloud.model import Change, ConflictError, Item
from charter.services.cloud.plans import PLANS, Plan
from charter.services.cloud.service import Cloud
from charter.services.cloud.sync import CloudSync

__all__ = [
    "CATEGORIES",
    "PLANS",
    "Category",
    "Change",
    "Cloud",
    "CloudSync",
    "ConflictError",
    "Item",
    "Plan",
]
