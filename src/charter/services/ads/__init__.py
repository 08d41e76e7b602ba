"""
Advertising (catalog service ``advertisement``): resettable advertising IDs, segments from
allowed sources only (read through the gate), ad decisions with their reason, partner IDs
hashed per partner. See ``docs/telemetry.md``.
"""

from __future__ import annotations

from charter.services.ads.service import AdChoice, Ads

__all__ = ["AdChoice", "Ads"]
