"""The themes service's catalog promises (its ``service`` rules) and the code that keeps each;
the tests that prove them carry ``@pytest.mark.promise("<rule id>")``."""

from __future__ import annotations

KEPT_BY: dict[str, str] = {
    "themes.favorites_require_login": "Themes.require_account: favourites (and purchases) are "
    "refused with login_required unless the caller is a signed-in account",
    "themes.analytics_aggregated": "charter.services.aggregates.Aggregates: analytics is a "
    "counter per service, kind, module, event and day, with no subject column",
}

ENFORCERS = frozenset(KEPT_BY)
"""The enforcer ids this package registers (the catalog names them under ``enforcer:``)."""
