"""
The catalog's ``device`` rules this device agent keeps, by service: the promises report marks
such a rule kept when its enforcer is listed here and a test marked
``@pytest.mark.promise("<service>.<rule>")`` proves it. A device rule's enforcer is the one
its catalog entry names, else ``<service>.<rule>``.
"""

from __future__ import annotations

from collections.abc import Mapping

KEPT_BY: dict[str, tuple[str, ...]] = {
    "ai_technology": (
        "password_for_biometric_changes",  # Biometrics: every settings call checks the password
        "fingerprint_refused",  # Biometrics.fingerprint_refusal
        "factory_reset_wipes_biometrics",  # Device.factory_reset
        "face_off_keeps_features",  # Biometrics.set_face_unlock keeps them
        "raw_biometrics_not_kept",  # features_of: a one-way digest, the sample is dropped
        "fingerprint_in_tee",  # Biometrics.check_for_app: the result only
    ),
    "browser": (
        "no_url_collection",  # Browser.usage: counts only
        "no_search_suggestions_in_incognito",  # Browser.suggestions
        "suggestions_off_sends_nothing",  # Browser.suggestions
        "suggestions_not_kept",  # Browser.suggestions returns, keeps nothing
        "incognito_leaves_no_trace",  # Tab state in memory, gone at Browser.exit
    ),
    "video": ("local_history_on_device", "local_use_analytics_only"),
    "app_vault": ("shortcuts_on_device", "local_only_cards"),
}

ENFORCERS: Mapping[str, frozenset[str]] = {
    service: frozenset(f"{service}.{rule}" for rule in rules) for service, rules in KEPT_BY.items()
}
"""Per service, the enforcer ids of the device rules this agent keeps."""
