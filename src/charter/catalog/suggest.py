"""Closest-term suggestions for "did you mean ..." messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(value: object, candidates: Iterable[str]) -> str | None:
    """
    The candidate closest to ``value``, or None when nothing is reasonably close.

    Matching ignores case and treats spaces and dashes as underscores, so
    ``"App functionality"`` suggests ``app_functionality``.
    """
    if not isinstance(value, str):
        return None
    pool = list(candidates)
    normal = value.strip().lower().replace(" ", "_").replace("-", "_")
    if normal in pool and normal != value:
        return normal
    matches = difflib.get_close_matches(normal, pool, n=1, cutoff=0.6)
    return matches[0] if matches else None
