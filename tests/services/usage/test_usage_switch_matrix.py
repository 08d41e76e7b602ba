"""
Every usage event kind × the three system switches × a market of every region, through HTTP:
what is accepted and with which reason, what the analytics purpose may then read (Usage and
Diagnostics and the User Experience Program), whether segments are built from it and ads
personalized (Personalized Ads: ``/v1/ads/segments/refresh`` and ``/v1/ads/decide``), and
what the person's budget shows. Essential telemetry (both declared purposes) passes whatever
the switches, and names no one.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from charter.app import Charter
from charter.asgi import create_app
from charter.errors import RefusedError
from charter.services.usage.tables import essential
from charter.taxonomy import Purpose
from charter.testing import FakeClock
from support.telemetry import KINDS, TestClient, event, headers, person

MARKETS = ("de", "in", "cn", "ru", "gb", "us", "br")
"""A market of every region of the catalog (eu, india, mainland_china, russia, uk, others)."""
COMBOS = list(itertools.product([False, True], repeat=3))


@pytest.fixture
def api(charter: Charter) -> Iterator[TestClient]:
    with TestClient(create_app(charter), base_url="https://testserver") as client:
        yield client


def _readable(charter: Charter, subject: str, service: str, purpose: Purpose) -> str:
    try:
        charter.gate.read(subject, service=service, purpose=purpose, actor="test")
    except RefusedError as exc:
        return exc.code
    return "allowed"


@pytest.mark.promise(
    "app_usage_data.event_usage_sequence",
    "app_usage_data.event_app_status",
    "app_usage_data.event_installed_apps_snapshot",
    "app_usage_data.essential_telemetry",
)
def test_every_kind_under_every_switch_in_every_market(charter: Charter, api: TestClient) -> None:
    for market, (uep, ud, pa) in itertools.product(MARKETS, COMBOS):
        subject = person(charter, market, uep=uep, ud=ud, pa=pa)
        where = (market, uep, ud, pa)
        h = headers(charter, subject)
        security = event("essential")
        security["fields"]["purpose"] = "security"
        resp = api.post(
            "/v1/usage/events",
            json={"device": f"phone-{market}", "events": [*(event(k) for k in KINDS), security]},
            headers=h,
        )
        assert resp.status_code == 200, (where, resp.text)
        assert len(resp.json()) == len(KINDS) + 1
        assert resp.json()[-1]["accepted"], where  # essential for security: always
        by_kind = {o["kind"]: o for o in resp.json()}
        for kind in KINDS:
            got = by_kind[kind]
            if kind == "essential":
                assert (got["accepted"], got["reason"]) == (True, "essential"), where
            elif ud:
                assert (got["accepted"], got["reason"]) == (True, "stored"), (where, kind)
            else:
                assert (got["accepted"], got["reason"]) == (False, "system_switch_off"), where
                assert "Usage and Diagnostics" in got["message"]
        analytics = _readable(charter, subject, "app_usage_data", Purpose.ANALYTICS)
        assert analytics == ("allowed" if ud and uep else "system_switch_off"), where
        ads = _readable(charter, subject, "advertisement", Purpose.ADVERTISING)
        assert ads == ("allowed" if pa else "system_switch_off"), where
        stored = [
            r.source
            for r in charter.gate.read(
                subject, service="app_usage_data", purpose=Purpose.ADVERTISING, actor="test"
            )
        ] if ud else []  # fmt: skip
        assert sorted(stored) == (
            sorted(["usage_sequence", "app_status", "installed_apps_snapshot"]) if ud else []
        )
        # Personalized Ads over HTTP: segments built from the usage only when it was kept
        refresh = api.post("/v1/ads/segments/refresh", headers=h)
        if pa:
            assert refresh.status_code == 200, (where, refresh.text)
            # three signals: the sequence, the status and the snapshot (which lists gallery)
            assert refresh.json() == ({"photography": 3} if ud else {}), where
        else:
            assert refresh.status_code == 403, where
            assert refresh.json()["error"]["code"] == "system_switch_off"
        ad_id = api.post("/v1/ads/id", json={"device": "phone"}, headers=h).json()["ad_id"]
        choice = api.post("/v1/ads/decide", json={"ad_id": ad_id, "slot": "home"}, headers=h)
        assert choice.status_code == 200, where
        why = (
            "segment photography"
            if pa and ud
            else "non-personalized: no segment"
            if pa
            else "non-personalized: system_switch_off"
        )
        assert (choice.json()["personalized"], choice.json()["why"]) == (pa and ud, why), where
        budget = api.get("/v1/usage/budget", headers=h)
        assert budget.status_code == 200
        assert [(b["purpose"], b["spent"]) for b in budget.json()] == [("analytics", 0.0)]
    with charter.stores.control().connect() as conn:
        rows = conn.execute(essential.select()).all()
    # essential telemetry: counters only (no subject, no device), two per combination sent
    assert sum(r.count for r in rows) == 2 * len(MARKETS) * len(COMBOS)
    assert not {"subject_id", "device_hash"} & set(essential.c.keys())
    assert {r.purpose: 0 for r in rows} == {"system_updates": 0, "security": 0}
    assert sum(r.count for r in rows if r.purpose == "security") == len(MARKETS) * len(COMBOS)


@pytest.mark.promise("app_usage_data.essential_telemetry")
def test_essential_telemetry_is_declared_with_its_purposes_and_retention(
    charter: Charter, api: TestClient, clock: FakeClock
) -> None:
    subject = person(charter, ud=False, uep=False, pa=False)
    bad = event("essential")
    bad["fields"]["purpose"] = "advertising"
    resp = api.post(
        "/v1/usage/events", json={"device": "p", "events": [bad]}, headers=headers(charter, subject)
    )
    assert resp.status_code == 422
    assert "system_updates, security" in resp.json()["error"]["message"]
    sneaky = event("essential")
    sneaky["fields"]["package_name"] = "com.miui.gallery"  # not an essential field
    resp = api.post(
        "/v1/usage/events",
        json={"device": "p", "events": [sneaky]},
        headers=headers(charter, subject),
    )
    assert resp.status_code == 422 and "package_name" in resp.json()["error"]["message"]
    assert charter.usage.events.essential_counts() == []  # bad input changed nothing
    ok = api.post(
        "/v1/usage/events",
        json={"device": "p", "events": [event("essential")]},
        headers=headers(charter, subject),
    )
    assert ok.json()[0]["accepted"]
    params = charter.usage.params
    assert params.essential_for == ("system_updates", "security")
    assert params.essential_retention_days == 30
    clock.advance(days=29)
    assert charter.usage.events.purge_essential() == 0
    clock.advance(days=2)
    assert charter.usage.events.purge_essential() == 1
    assert charter.usage.events.essential_counts() == []


@pytest.mark.promise("app_usage_data.event_installed_apps_snapshot")
def test_snapshot_keeps_the_latest_per_device_and_refuses_above_its_frequency(
    charter: Charter, api: TestClient, clock: FakeClock
) -> None:
    subject = person(charter)

    def send(device: str, package: str) -> dict[str, object]:
        body = {"device": device, "events": [event("installed_apps_snapshot", package)]}
        h = headers(charter, subject)  # a user token lives a day: a fresh one per call
        out: dict[str, object] = api.post("/v1/usage/events", json=body, headers=h).json()[0]
        return out

    def snapshots() -> list[object]:
        recs = charter.gate.read(
            subject, service="app_usage_data", purpose=Purpose.ADVERTISING, actor="test"
        )
        return sorted(r.value["package_name"][0] for r in recs)

    assert send("phone", "com.miui.video")["accepted"]
    again = send("phone", "com.miui.player")
    assert (again["accepted"], again["reason"]) == (False, "frequency_exceeded")
    assert send("tablet", "com.miui.notes")["accepted"]  # per device
    assert snapshots() == ["com.miui.notes", "com.miui.video"]
    clock.advance(days=1)
    assert send("phone", "com.miui.player")["accepted"]
    assert snapshots() == ["com.miui.notes", "com.miui.player"]  # the latest per device only
    # two in one batch: the second is over the frequency
    clock.advance(days=1)
    body = {
        "device": "phone",
        "events": [event("installed_apps_snapshot", "a.game"), event("installed_apps_snapshot")],
    }
    out = api.post("/v1/usage/events", json=body, headers=headers(charter, subject)).json()
    assert [o["reason"] for o in out] == ["stored", "frequency_exceeded"]


def test_bad_batches_are_refused_whole_with_where_and_how(
    charter: Charter, api: TestClient
) -> None:
    subject = person(charter)
    h = headers(charter, subject)
    bad = {"kind": "usage_sequence", "fields": {"package_name": "x", "imei": "123"}}
    resp = api.post(
        "/v1/usage/events", json={"device": "p", "events": [event("app_status"), bad]}, headers=h
    )
    assert resp.status_code == 422
    body = resp.json()
    assert "events[1]" in body["error"]["message"] and "imei" in body["error"]["message"]
    assert "123" not in resp.text
    assert _readable(charter, subject, "app_usage_data", Purpose.ADVERTISING) == "allowed"
    assert (
        charter.gate.read(subject, service="app_usage_data", purpose=Purpose.ADVERTISING, actor="t")
        == []
    )
    resp = api.post(
        "/v1/usage/events", json={"device": "p", "events": [{"kind": "keystrokes"}]}, headers=h
    )
    assert resp.status_code == 422
    assert api.post("/v1/usage/events", json={"device": "p", "events": []}).status_code == 401
