"""Which segment an app or an ad interaction points to, and the ads there are for each. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

SEGMENT_OF_PACKAGE: dict[str, str] = {
    "game": "games",
    "glgm": "games",
    "video": "video",
    "player": "music",
    "fm": "music",
    "shop": "shopping",
    "mipicks": "apps",
    "discover": "apps",
    "health": "health",
    "weather": "outdoors",
    "camera": "photography",
    "gallery": "photography",
    "browser": "news",
    "news": "news",
    "smarthome": "smart_home",
}
"""A package-name fragment → the segment its use points to (first match wins)."""

ADS: dict[str, tuple[str, ...]] = {
    "games": ("ad_games_puzzle", "ad_games_racing"),
    "video": ("ad_video_streaming",),
    "music": ("ad_music_headphones",),
    "shopping": ("ad_shopping_sale",),
    "apps": ("ad_apps_new",),
    "health": ("ad_health_tracker",),
    "outdoors": ("ad_outdoors_gear",),
    "photography": ("ad_photo_editor",),
    "news": ("ad_news_daily",),
    "smart_home": ("ad_smart_home_hub",),
}
NON_PERSONALIZED: tuple[str, ...] = ("ad_general_1", "ad_general_2", "ad_general_3")
MIN_SIGNALS = 2
"""A segment needs at least this many signals (app events or ad clicks)."""


def segment_of(package: str) -> str | None:
    """The segment a package points to, if any."""
    low = package.lower()
    for fragment, segment in SEGMENT_OF_PACKAGE.items():
        if fragment in low:
            return segment
    return None


def packages_of(event: Mapping[str, Any]) -> list[str]:
    """The packages an app event names: one (a usage sequence, an app status) or a list
    (an installed-apps snapshot); anything else names none."""
    value = event.get("package_name")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [p for p in value if isinstance(p, str)]
    return []


def segments_of(event: Mapping[str, Any]) -> set[str]:
    """The segments an app event points to: that of each package it names, each once."""
    return {s for p in packages_of(event) if (s := segment_of(p)) is not None}


def build(
    usage: Iterable[Mapping[str, Any]], interactions: Iterable[Mapping[str, Any]]
) -> dict[str, int]:
    """Segments (with their signal counts) from app usage events and ad interactions.

    An installed-apps snapshot names a list of packages: each package is matched on its own
    (never the list as text), and the snapshot counts once for every segment they point to.
    """
    signals: Counter[str] = Counter()
    for event in usage:  # an event counts once for each segment its packages point to
        signals.update(segments_of(event))
    for click in interactions:
        seg = str(click.get("segment", ""))
        if seg in ADS:
            signals[seg] += 1
    return {s: n for s, n in sorted(signals.items()) if n >= MIN_SIGNALS}
