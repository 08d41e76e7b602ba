"""
Mi Video (catalog service ``video``): local features collect nothing but analytics, the
history of local videos never leaves the device, and online data serves personalised
trending only in the markets the catalog names. See ``docs/browser-video-pay.md``.
"""

from __future__ import annotations

from charter.services.video.service import ANALYTICS_KINDS, ONLINE_TYPES, Trending, Video

__all__ = ["ANALYTICS_KINDS", "ONLINE_TYPES", "Trending", "Video"]
