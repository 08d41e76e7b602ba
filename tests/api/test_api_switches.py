"""Switches: who may change what, history, and Global Privacy Control."""

from __future__ import annotations

from api_support import Api

ADS = "system.personalized_ads"


def _history(api: Api, sid: str, headers: dict[str, str]) -> list[dict[str, object]]:
    response = api.client.get(f"/v1/subjects/{sid}/switches/history", headers=headers)
    assert response.status_code == 200
    history: list[dict[str, object]] = response.json()["history"]
    return history


def test_get_switches_lists_values_and_labels(api: Api) -> None:
    cloud = api.key("cloud")
    sid = api.subject(cloud)
    body = api.client.get(f"/v1/subjects/{sid}/switches", headers=cloud).json()
    assert body["switches"]["cloud.authorization"] is False
    assert body["switches"][ADS] is True
    assert set(body["labels"]) == set(body["switches"])
    assert body["labels"][ADS] == "Personalized Ads"


def test_user_changes_any_switch_and_history_records_it(api: Api) -> None:
    sid = api.subject(api.key("cloud"))
    token = api.token(sid)
    body = api.switch(
        sid, {"cloud.authorization": True, "system.user_experience_program": True}, token
    )
    assert body["switches"]["cloud.authorization"] is True
    response = api.client.put(
        f"/v1/subjects/{sid}/switches",
        json={"changes": {ADS: False}, "source": "first_run"},
        headers=token,
    )
    assert response.status_code == 200
    history = _history(api, sid, token)
    assert [(h["key"], h["value"], h["source"], h["actor"]) for h in history] == [
        ("cloud.authorization", True, "user", "subject"),
        ("system.user_experience_program", True, "user", "subject"),
        (ADS, False, "first_run", "subject"),
    ]


def test_service_changes_only_its_own_switches(api: Api) -> None:
    cloud = api.key("cloud")
    sid = api.subject(cloud)
    assert (
        api.switch(sid, {"cloud.authorization": True}, cloud)["switches"]["cloud.authorization"]
        is True
    )
    assert _history(api, sid, cloud)[-1]["source"] == "device"
    assert _history(api, sid, cloud)[-1]["actor"] == "service:cloud"
    for changes in (
        {"themes.authorization": True},
        {ADS: False},
        {"cloud.authorization": False, ADS: False},
    ):
        response = api.client.put(
            f"/v1/subjects/{sid}/switches", json={"changes": changes}, headers=cloud
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"
    assert len(_history(api, sid, cloud)) == 1


def test_unknown_or_malformed_switch_keys_are_422(api: Api) -> None:
    sid = api.subject(api.key("cloud"))
    token = api.token(sid)
    for changes in (
        {"cloud.nope": True},
        {"NOT A KEY": True},
        {},
        {"cloud.authorization": "yes please"},
    ):
        response = api.client.put(
            f"/v1/subjects/{sid}/switches", json={"changes": changes}, headers=token
        )
        assert response.status_code == 422, changes
        assert response.json()["error"]["field"].startswith("changes")


def test_a_switch_value_is_a_json_boolean_and_nothing_else(api: Api) -> None:
    sid = api.subject(api.key("cloud"))
    token = api.token(sid)
    api.switch(sid, {"cloud.authorization": True}, token)
    for value in ("yes", "off", "false", "true", 1, 0, None, 0.0):
        response = api.client.put(
            f"/v1/subjects/{sid}/switches",
            json={"changes": {"cloud.authorization": value}},
            headers=token,
        )
        assert response.status_code == 422, value
        error = response.json()["error"]
        assert error["field"] == "changes", value  # map fields are named, not their keys
        assert error["message"] == "must be true or false", error
    assert [(h["key"], h["value"]) for h in _history(api, sid, token)] == [
        ("cloud.authorization", True)
    ]  # none of them changed anything


def test_gpc_header_opts_out_of_personalized_ads(api: Api) -> None:
    ads = api.key("advertisement")
    sid = api.subject(ads)
    event = {
        "subject_id": sid,
        "data_type": "advertising_data",
        "purpose": "advertising",
        "value": 1,
    }
    assert api.collect([event], ads)["accepted"] == 1
    response = api.client.get(f"/v1/subjects/{sid}", headers={**ads, "Sec-GPC": "1"})
    assert response.status_code == 200
    switches = api.client.get(f"/v1/subjects/{sid}/switches", headers=ads).json()["switches"]
    assert switches[ADS] is False
    last = _history(api, sid, ads)[-1]
    assert (last["key"], last["value"], last["source"], last["actor"]) == (
        ADS,
        False,
        "gpc",
        "service:advertisement",
    )
    assert api.collect([event], ads)["items"][0]["reason"] == "system_switch_off"
    # a second signal changes nothing more
    api.client.get(f"/v1/subjects/{sid}", headers={**ads, "Sec-GPC": "1"})
    assert len(_history(api, sid, ads)) == 1


def test_gpc_with_a_user_token(api: Api) -> None:
    sid = api.subject(api.key("cloud"))
    token = api.token(sid)
    api.client.get(f"/v1/subjects/{sid}/switches", headers={**token, "Sec-GPC": "1"})
    assert [(h["source"], h["actor"]) for h in _history(api, sid, token)] == [("gpc", "subject")]


def test_gpc_values_other_than_exactly_1_do_nothing(api: Api) -> None:
    cloud = api.key("cloud")
    sid = api.subject(cloud)
    for value in ("0", "1 ", " 1", "true", "yes", "11", ""):
        api.client.get(f"/v1/subjects/{sid}", headers={**cloud, "Sec-GPC": value})
    assert _history(api, sid, cloud) == []
    switches = api.client.get(f"/v1/subjects/{sid}/switches", headers=cloud).json()["switches"]
    assert switches[ADS] is True


def test_gpc_on_routes_without_a_subject_does_nothing(api: Api) -> None:
    cloud = api.key("cloud")
    sid = api.subject(cloud)
    api.client.post(
        "/v1/subjects", json={"kind": "account", "market": "de"}, headers={**cloud, "Sec-GPC": "1"}
    )
    assert _history(api, sid, cloud) == []


def test_reset_of_a_pseudonymous_subject(api: Api) -> None:
    ads = api.key("advertisement")
    sid = api.subject(ads, kind="advertising_id")
    response = api.client.post(f"/v1/subjects/{sid}/reset", headers=ads)
    assert response.status_code == 200
    fresh = response.json()
    assert fresh["id"] != sid
    assert fresh["kind"] == "advertising_id"
    assert api.client.get(f"/v1/subjects/{sid}", headers=ads).json()["status"] == "reset"
    account = api.subject(ads)
    response = api.client.post(f"/v1/subjects/{account}/reset", headers=ads)
    assert response.status_code == 422


def test_subject_routes_check_the_credential_then_the_path_then_the_subject(api: Api) -> None:
    cloud = api.key("cloud")
    sid = api.subject(cloud)
    other = api.subject(cloud)
    token = api.token(sid)
    malformed = "s_not-a-subject"
    for path in ("", "/switches", "/switches/history"):
        # no credential, or a bad one: 401, whatever the path holds
        for headers in ({}, {"Authorization": "Bearer ut_bad_token"}):
            for subject in (sid, malformed):
                response = api.client.get(f"/v1/subjects/{subject}{path}", headers=headers)
                assert response.status_code == 401, (path, headers, subject)
        # a good credential and a malformed id: 422, and a GPC signal changes nothing
        response = api.client.get(
            f"/v1/subjects/{malformed}{path}", headers={**token, "Sec-GPC": "1"}
        )
        assert response.status_code == 422, path
        # a user token on another subject: the same 404 as a subject that does not exist
        response = api.client.get(f"/v1/subjects/{other}{path}", headers=token)
        assert response.status_code == 404, path
    assert _history(api, sid, token) == []
    response = api.client.put(
        f"/v1/subjects/{malformed}/switches",
        json={"changes": {"cloud.authorization": True}},
        headers=token,
    )
    assert response.status_code == 422
    assert _history(api, sid, token) == []
