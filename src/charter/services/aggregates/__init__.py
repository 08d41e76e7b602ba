"""
Aggregated analytics of the content services (Themes, App Vault, Mi Browser, Mi Video): one
API (:class:`Aggregates`) adds reports to per-day counters after the service's decision (the
gate's policy, or the User Experience Program switch); no row names a subject, an app
instance or a device; a count is released only once enough reports made it (see
:mod:`.counts`). See ``docs/browser-video-pay.md`` and ``docs/themes-vault-getapps.md``.
"""

from __future__ import annotations

from charter.services.aggregates.counts import MIN_REPORTS, UXP, Aggregates, Count, Report

__all__ = ["MIN_REPORTS", "UXP", "Aggregates", "Count", "Report"]
