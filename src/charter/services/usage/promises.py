"""The app usage data service's catalog promises (its ``service`` rules) and the code that
keeps each; the tests that prove them carry ``@pytest.mark.promise("<rule id>")``."""

from __future__ import annotations

KEPT_BY: dict[str, str] = {
    "app_usage_data.aggregated_analysis": "Analytics.release_app_usage: usage is read for "
    "analytics only to release an OpenDP histogram (k-suppressed, each person's lifetime "
    "budget charged and capped); third parties get only the released aggregate",
}

ENFORCERS = frozenset(KEPT_BY)
"""The enforcer ids this package registers (the catalog names them under ``enforcer:``)."""
