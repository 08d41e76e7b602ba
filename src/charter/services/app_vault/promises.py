"""The App Vault's catalog promises (its ``service`` rules) and the code that keeps each;
the tests that prove them carry ``@pytest.mark.promise("<rule id>")``."""

from __future__ import annotations

KEPT_BY: dict[str, str] = {
    "app_vault.news_personalization_scope": "AppVault.news: the partner is handed only gate "
    "records of the feed's own interactions (source news_feed), and only with the person's "
    "personalization switch on; interaction with any other card is refused",
    "app_vault.analytics_aggregated": "charter.services.aggregates.Aggregates: analytics is a "
    "counter per service, kind, module, event and day, with no subject column",
}

ENFORCERS = frozenset(KEPT_BY)
"""The enforcer ids this package registers (the catalog names them under ``enforcer:``)."""
