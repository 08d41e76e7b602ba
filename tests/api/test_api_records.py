"""GET /v1/subjects/{id}/records: purpose limitation and service scoping."""

from __future__ import annotations

import pytest
from api_support import Api

from charter.testing import FakeClock

POLICY_REASONS = {
    "purpose_not_declared",
    "consent_required",
    "personalization_off",
    "ads_off",
    "system_switch_off",
    "source_refused",  # a catalog promise: ads never read cloud or pay data
}


def test_purpose_not_declared_is_403_with_the_reason(api: Api) -> None:
    cloud = api.key("cloud")
    sid = api.subject(cloud)
    api.switch(sid, {"cloud.authorization": True}, api.token(sid))
    api.collect(
        [{"subject_id": sid, "data_type": "notes", "purpose": "app_functionality", "value": "n"}],
        cloud,
    )
    response = api.client.get(
        f"/v1/subjects/{sid}/records", params={"purpose": "analytics"}, headers=cloud
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "purpose_not_declared"
    assert error["field"] == "purpose"
    assert "records" not in response.json()


def test_purpose_is_required(api: Api) -> None:
    cloud = api.key("cloud")
    sid = api.subject(cloud)
    response = api.client.get(f"/v1/subjects/{sid}/records", headers=cloud)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "purpose"


@pytest.mark.promise("advertisement.excluded_sources", "advertisement.no_user_content_for_ads")
def test_advertising_never_reads_cloud_or_pay_data(api: Api) -> None:
    ads = api.key("advertisement")
    for service, market, data_type in (("cloud", "de", "notes"), ("pay", "in", "card_number")):
        key = api.key(service)
        sid = api.subject(key, market=market)
        api.switch(sid, {f"{service}.authorization": True}, api.token(sid))
        stored = api.collect(
            [
                {
                    "subject_id": sid,
                    "data_type": data_type,
                    "purpose": "app_functionality",
                    "value": "secret",
                }
            ],
            key,
        )
        assert stored["accepted"] == 1
        # the service itself may not read its data for advertising
        own = api.client.get(
            f"/v1/subjects/{sid}/records", params={"purpose": "advertising"}, headers=key
        )
        assert own.status_code == 403
        assert own.json()["error"]["code"] in POLICY_REASONS
        # nor may the advertising service read it, for any purpose
        for purpose in ("advertising", "app_functionality", "personalization", "analytics"):
            other = api.client.get(
                f"/v1/subjects/{sid}/records",
                params={"purpose": purpose, "service": service},
                headers=ads,
            )
            assert other.status_code == 403
            assert other.json()["error"]["code"] == "wrong_service"
            assert "secret" not in other.text


def test_records_need_a_service_credential(api: Api) -> None:
    cloud = api.key("cloud")
    sid = api.subject(cloud)
    response = api.client.get(
        f"/v1/subjects/{sid}/records",
        params={"purpose": "app_functionality"},
        headers=api.token(sid),
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_expired_records_are_not_returned(api: Api, clock: FakeClock) -> None:
    ads = api.key("advertisement")
    sid = api.subject(ads)
    body = api.collect(
        [
            {
                "subject_id": sid,
                "data_type": "advertising_data",
                "purpose": "advertising",
                "value": 1,
            }
        ],
        ads,
    )
    assert (
        body["items"][0]["expires_at"] == "2026-06-30T00:00:00.000000Z"
    )  # 180 days after the fake clock's start
    params = {"purpose": "advertising"}
    assert (
        len(
            api.client.get(f"/v1/subjects/{sid}/records", params=params, headers=ads).json()[
                "records"
            ]
        )
        == 1
    )
    clock.advance(seconds=181 * 86_400)
    assert (
        api.client.get(f"/v1/subjects/{sid}/records", params=params, headers=ads).json()["records"]
        == []
    )
