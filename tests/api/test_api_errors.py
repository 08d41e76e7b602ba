"""The one error shape, status mapping, and no personal data in error bodies or logs."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from api_support import Api

from charter.api.errors import STATUS_BY_ERROR, status_of
from charter.errors import (
    AuthError,
    CatalogError,
    ConfigError,
    InputError,
    IntegrityError,
    NotFoundError,
    RefusedError,
)

CANARY = "Jane-Canary-Doe-4111111111111111"


def _assert_shape(body: dict[str, Any]) -> None:
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "field"}
    assert isinstance(error["code"], str)
    assert error["code"]
    assert isinstance(error["message"], str)
    assert error["field"] is None or isinstance(error["field"], str)


def test_status_table() -> None:
    assert status_of(InputError("x")) == 422
    assert status_of(RefusedError("x", code="consent_required")) == 403
    assert status_of(NotFoundError("x")) == 404
    assert status_of(AuthError("x")) == 401
    assert status_of(ConfigError("x")) == 500
    assert status_of(IntegrityError("x")) == 500
    assert status_of(CatalogError([])) == 500
    assert set(STATUS_BY_ERROR) >= {
        InputError,
        RefusedError,
        NotFoundError,
        AuthError,
        ConfigError,
        IntegrityError,
    }


def test_every_error_has_the_one_shape(api: Api) -> None:
    cloud = api.key("cloud")
    sid = api.subject(cloud)
    responses = [
        api.client.get(f"/v1/subjects/{sid}"),  # 401
        api.client.get(
            f"/v1/subjects/{sid}/records", params={"purpose": "analytics"}, headers=cloud
        ),  # 403
        api.client.get("/v1/subjects/s_" + "0" * 32, headers=cloud),  # 404 from the gate
        api.client.get("/v1/nothing-here"),  # 404 from routing
        api.client.delete("/v1/collect", headers=cloud),  # 405
        api.client.post(
            "/v1/subjects", json={"kind": "robot", "market": "de"}, headers=cloud
        ),  # 422
        api.client.post(
            "/v1/subjects", json={"kind": "account", "market": "zz"}, headers=cloud
        ),  # 422 from the gate
    ]
    assert [r.status_code for r in responses] == [401, 403, 404, 404, 405, 422, 422]
    for response in responses:
        _assert_shape(response.json())
    assert responses[0].json()["error"]["code"] == "unauthorized"
    assert responses[5].json()["error"]["field"] == "kind"
    assert responses[6].json()["error"] == {
        "code": "invalid_input",
        "message": (
            "unknown market; use an ISO 3166-1 alpha-2 code listed in the catalog's regions.yaml"
        ),
        "field": "market",
    }


def test_unexpected_errors_are_generic_500s_without_details(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cloud = api.key("cloud")
    sid = api.subject(cloud)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(f"database exploded near {CANARY}")

    monkeypatch.setattr(api.charter.gate, "switches", broken)
    with caplog.at_level(logging.DEBUG):
        response = api.client.get(f"/v1/subjects/{sid}/switches", headers=cloud)
    assert response.status_code == 500
    _assert_shape(response.json())
    assert response.json()["error"]["code"] == "internal_error"
    assert CANARY not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" in caplog.text, "the operator still learns what failed"
    assert CANARY not in caplog.text


def test_no_personal_canary_in_error_bodies_or_logs(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    cloud = api.key("cloud")
    sid = api.subject(cloud)
    token = api.token(sid)
    ok_event = {"subject_id": sid, "data_type": "notes", "purpose": "app_functionality"}
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/v1/subjects", {"json": {"kind": "account", "market": CANARY}}),
        ("POST", "/v1/subjects", {"json": {"kind": CANARY, "market": "de"}}),
        ("POST", "/v1/subjects", {"json": {"kind": "account", "market": "de", "name": CANARY}}),
        ("GET", f"/v1/subjects/{CANARY}", {}),
        ("PUT", f"/v1/subjects/{sid}/switches", {"json": {"changes": {CANARY: True}}}),
        (
            "PUT",
            f"/v1/subjects/{sid}/switches",
            {"json": {"changes": {"cloud.authorization": CANARY}}},
        ),
        (
            "PUT",
            f"/v1/subjects/{sid}/switches",
            {"json": {"changes": {"cloud.authorization": True}, "source": CANARY}},
        ),
        ("GET", f"/v1/subjects/{sid}/records", {"params": {"purpose": CANARY}}),
        (
            "GET",
            f"/v1/subjects/{sid}/records",
            {"params": {"purpose": "advertising", "data_type": CANARY}},
        ),
        (
            "GET",
            f"/v1/subjects/{sid}/records",
            {"params": {"purpose": "advertising", "service": CANARY}},
        ),
        (
            "POST",
            "/v1/collect",
            {"json": {"events": [{**ok_event, "value": CANARY, "purpose": "nope"}]}},
        ),
        (
            "POST",
            "/v1/collect",
            {"json": {"events": [{**ok_event, "value": CANARY, "blob_b64": CANARY + "!"}]}},
        ),
        (
            "POST",
            "/v1/collect",
            {"json": {"events": [{**ok_event, "value": CANARY, "source": CANARY + " street"}]}},
        ),
        (
            "POST",
            "/v1/collect",
            {"json": {"events": [{**ok_event, "value": CANARY, "data_type": CANARY}]}},
        ),
        ("POST", "/v1/collect", {"json": {"events": [{**ok_event, "subject_id": CANARY}]}}),
        (
            "POST",
            "/v1/collect",
            {"json": {"events": [{**ok_event, "value": {"deep": [CANARY * 5000] * 2}}]}},
        ),
        (
            "POST",
            "/v1/collect",
            {
                "content": b'{"events": [' + CANARY.encode(),
                "headers": {"Content-Type": "application/json"},
            },
        ),
        (
            "POST",
            "/v1/collect",
            {"json": {"events": [{**ok_event, "value": CANARY}]}},
        ),  # refused: no consent
    ]
    with caplog.at_level(logging.DEBUG):
        for method, url, kwargs in attempts:
            headers = {**cloud, **kwargs.pop("headers", {})}
            response = api.client.request(method, url, headers=headers, **kwargs)
            assert CANARY not in response.text, (method, url, response.text)
            if response.status_code >= 400:
                _assert_shape(response.json())
        for bad in (f"Bearer {CANARY}", f"Bearer ck_{CANARY}", CANARY):
            response = api.client.get(f"/v1/subjects/{sid}", headers={"Authorization": bad})
            assert response.status_code == 401
            assert CANARY not in response.text
        response = api.client.get(f"/v1/subjects/{sid}", headers={**token, "Sec-GPC": CANARY})
        assert response.status_code == 200
    # the server's records (the test client's own ``httpx`` log shows the URLs it was told to call)
    for record in caplog.records:
        if record.name.startswith("httpx"):
            continue
        assert CANARY not in record.getMessage()
        assert CANARY not in str(record.exc_text or "")


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("/v1/account/login/verify", {"code": "123456"}),
        ("/v1/account/register/confirm", {"code": "123456"}),
    ],
)
@pytest.mark.parametrize("challenge_id", ["ch_\x00", "ch_a\x00b", "../ch_x", "ch_" + "a" * 40])
def test_a_challenge_id_the_server_never_issued_is_a_422(
    api: Api, path: str, extra: dict[str, str], challenge_id: str
) -> None:
    # A NUL reached PostgreSQL and came back a 500 (schemathesis found it): refused first.
    response = api.client.post(path, json={"challenge_id": challenge_id, **extra})
    assert response.status_code == 422, response.text
    _assert_shape(response.json())
    assert response.json()["error"]["field"] is not None
    assert "\x00" not in response.text
