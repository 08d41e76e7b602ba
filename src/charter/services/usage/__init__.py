"""
App usage data (catalog service ``app_usage_data``): usage events from a person's devices
through the gate under the "Usage and Diagnostics" switch, essential telemetry that names
no one, and analysis released only as differentially private aggregates with a per-person
lifetime budget (:mod:`.analytics`, :mod:`.dp`); the server's side of local privacy
(:mod:`.ldp`). See ``docs/telemetry.md``.
"""

from __future__ import annotations

from charter.services.usage.analytics import Analytics, Spent
from charter.services.usage.events import Outcome, UsageEvents
from charter.services.usage.params import UsageParams, tighten_budget
from charter.services.usage.service import Usage

__all__ = ["Analytics", "Outcome", "Spent", "Usage", "UsageEvents", "UsageParams", "tighten_budget"]
