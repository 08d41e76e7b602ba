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
        "biometrics_single_purpose",  # Biometrics._serves: face matched for unlocking only
        "enhancement_keeps_no_data",  # enhance: pure functions, no file, setting or request
    ),
    "app_usage_data": (
        "event_usage_sequence",  # AppTelemetry.used + tick: a batch every 4 hours
        "event_app_status",  # AppTelemetry.status: sent when it happens
        "event_installed_apps_snapshot",  # AppTelemetry.snapshot: at most once a day
        "essential_telemetry",  # UsageReporter.allowed: only essential with the switch off
    ),
    "themes": ("first_run_personalization_choice",),  # content.Wallpapers.open_home
    "pay": ("device_binding",),  # pay.MiPay: HMAC of IMEI and SIM slot, checked by the server
    "browser": (
        "no_url_collection",  # Browser.usage: counts only
        "no_search_suggestions_in_incognito",  # Browser.suggestions
        "suggestions_off_sends_nothing",  # Browser.suggestions
        "suggestions_not_kept",  # Browser.suggestions returns, keeps nothing
        "incognito_leaves_no_trace",  # Tab state in memory, gone at Browser.exit
    ),
    "find_device": (
        "locate_on_request_only",  # LostDevice: a position leaves only to answer a locate
        "lost_mode_periodic_location",  # LostDevice.tick: one report per lost-mode interval
        "off_requires_leaving_lost_mode",  # LostDevice.switch_off refuses (lost_mode_on)
        "lost_mode_survives_reset",  # Device.enable_find_device takes lost mode back
    ),
    "video": (
        "local_history_on_device",
        "local_use_analytics_only",
        "short_video_hashed_gaid",  # content.ShortVideo.hand_to: the server's per-partner hash
    ),
    "app_vault": ("shortcuts_on_device", "local_only_cards"),
}

ENFORCERS: Mapping[str, frozenset[str]] = {
    service: frozenset(f"{service}.{rule}" for rule in rules) for service, rules in KEPT_BY.items()
}
"""Per service, the enforcer ids of the device rules this agent keeps."""
