"""The advertising service's catalog promises (its ``service`` rules) and the code that keeps
each; the tests that prove them carry ``@pytest.mark.promise("<rule id>")``."""

from __future__ import annotations

KEPT_BY: dict[str, str] = {
    "advertisement.segment_sources": "Ads.read_source: segments read only the data types the "
    "rule names (source_not_allowed otherwise), each through the gate for advertising",
    "advertisement.non_personalized_fallback": "Ads.decide: when the gate refuses the segment "
    "read (Personalized Ads off) a non-personalized ad is served; nothing read or updated",
}

ENFORCERS = frozenset(KEPT_BY)
"""The enforcer ids this package registers (the catalog names them under ``enforcer:``)."""
