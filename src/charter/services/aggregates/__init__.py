"""
Aggregated analytics shared by the content services (Mi Browser, Mi Video): an event offered
for analytics is decided by the gate's policy (the service's authorization and the User
Experience Program switch), then only added to a per-day counter. No row names a subject,
an app instance or a device; a count is released only once enough reports made it (see
:mod:`.counts`). See ``docs/browser-video-pay.md``.
"""

from __future__ import annotations

from charter.services.aggregates.counts import MIN_REPORTS, Aggregates, Count

__all__ = ["MIN_REPORTS", "Aggregates", "Count"]
