"""Helpers of the usage, ads and AI tests: a person with chosen system switches, their
device's token headers, an HTTP client on the deployment, events of every kind."""

from __future__ import annotations

import warnings
from typing import Any

from charter.app import Charter

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient  # noqa: F401  (re-exported for the tests)

SWITCHES = ("user_experience_program", "usage_diagnostics", "personalized_ads")


def person(
    charter: Charter, market: str = "de", *, uep: bool = True, ud: bool = True, pa: bool = True
) -> str:
    subject = charter.gate.create_subject("account", market, actor="test").id
    charter.gate.set_switches(
        subject,
        {
            "system.user_experience_program": uep,
            "system.usage_diagnostics": ud,
            "system.personalized_ads": pa,
        },
        source="user",
        actor="subject",
    )
    return subject


def headers(charter: Charter, subject_id: str) -> dict[str, str]:
    token = charter.credentials.issue_user_token(subject_id, actor="test").secret
    return {"Authorization": f"Bearer {token}"}


def event(kind: str, package: str = "com.miui.gallery") -> dict[str, Any]:
    if kind == "usage_sequence":
        return {
            "kind": kind,
            "fields": {"package_name": package, "version_type": "stable", "open_close": "open",
                       "duration": 42, "operator": "op", "network_type": "wifi"},
        }  # fmt: skip
    if kind == "app_status":
        return {
            "kind": kind,
            "fields": {"package_name": package, "version_type": "stable", "language": "en",
                       "download_install_source": "store", "first_launch": True},
        }  # fmt: skip
    if kind == "installed_apps_snapshot":
        return {
            "kind": kind,
            "fields": {"package_name": [package, "com.miui.notes"], "version": "1.0",
                       "install_source": "preinstalled", "recent_updates": []},
        }  # fmt: skip
    return {
        "kind": "essential",
        "fields": {"purpose": "system_updates", "system_version": "14.0.3",
                   "device_model": "M2101", "update_status": "up_to_date"},
    }  # fmt: skip


KINDS = ("usage_sequence", "app_status", "installed_apps_snapshot", "essential")


def release_in_process(settings: Any, clock: Any, barrier: Any, results: Any) -> None:
    """A process of its own (spawned): open the deployment (on the test's clock), wait for
    the others at the barrier, release once, and report how many contributions it used."""
    deployment = Charter.open(settings, clock=clock)
    try:
        barrier.wait(timeout=120)
        out = deployment.usage.analytics.release_app_usage(actor="staff:race")
        results.put(out.used)
    finally:
        deployment.close()
