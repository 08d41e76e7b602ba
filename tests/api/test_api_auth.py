"""Authentication and subject access: 401s, credential kinds, and cross-subject isolation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from api_support import Api
from fastapi import FastAPI
from fastapi.routing import APIRoute

from charter.testing import FakeClock

SUBJECT_ROUTE = re.compile(r"\{subject_id\}")


def _routes(app: FastAPI) -> list[Any]:
    """Every route of the app, with included routers flattened (FastAPI >= 0.16x nests them)."""
    try:
        from fastapi.routing import iter_route_contexts  # noqa: PLC0415
    except ImportError:  # older FastAPI: app.routes is already flat
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def _subject_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) of the app's API routes that names a subject in its path."""
    found = []
    for route in _routes(app):
        original = getattr(route, "original_route", route)
        if isinstance(original, APIRoute) and route.path and SUBJECT_ROUTE.search(route.path):
            found.extend((method, route.path) for method in sorted(route.methods or ()))
    return found


def _assert_401(response_status: int, headers: dict[str, str], body: dict[str, object]) -> None:
    assert response_status == 401
    assert headers.get("www-authenticate", "").startswith('Bearer realm="charter"')
    assert set(body) == {"error"}


def test_subject_routes_are_discovered(app: FastAPI) -> None:
    paths = {path for _method, path in _subject_routes(app)}
    assert "/v1/subjects/{subject_id}" in paths
    assert "/v1/subjects/{subject_id}/switches" in paths
    assert "/v1/subjects/{subject_id}/records" in paths


def test_user_token_of_one_subject_reaches_nothing_of_another(api: Api, app: FastAPI) -> None:
    cloud = api.key("cloud")
    alice, bob = api.subject(cloud), api.subject(cloud)
    api.switch(bob, {"cloud.authorization": True}, api.token(bob))
    api.collect(
        [
            {
                "subject_id": bob,
                "data_type": "notes",
                "purpose": "app_functionality",
                "value": "bob's note",
            }
        ],
        cloud,
    )
    before = api.client.get(f"/v1/subjects/{bob}/switches/history", headers=cloud).json()
    alice_token = api.token(alice)
    routes = _subject_routes(app)
    assert routes
    for method, path in routes:
        url = path.replace("{subject_id}", bob)
        response = api.client.request(
            method,
            url,
            headers={**alice_token, "Sec-GPC": "1"},
            params={"purpose": "app_functionality"},
            json={"changes": {"cloud.authorization": False}},
        )
        assert response.status_code in (403, 404), (method, path, response.status_code)
        assert bob not in response.text
        assert "bob's note" not in response.text
    after = api.client.get(f"/v1/subjects/{bob}/switches/history", headers=cloud).json()
    assert after == before, "nothing changed for the other subject (no GPC, no switch change)"
    assert api.client.get(f"/v1/subjects/{bob}", headers=cloud).json()["status"] == "active"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer nonsense",
        "Bearer ck_0123456789abcdef_" + "A" * 43,
        "Bearer ut_0123456789abcdef_" + "A" * 43,
        "Bearer ck_0123456789abcdef_short",
    ],
)
def test_missing_or_invalid_credentials_are_401(api: Api, authorization: str | None) -> None:
    sid = api.subject(api.key("cloud"))
    headers = {"Authorization": authorization} if authorization is not None else {}
    for method, url in (
        ("GET", f"/v1/subjects/{sid}"),
        ("POST", "/v1/collect"),
        ("POST", "/v1/subjects"),
    ):
        response = api.client.request(method, url, headers=headers, json={})
        _assert_401(response.status_code, dict(response.headers), response.json())


def test_wrong_secret_is_401(api: Api) -> None:
    good = api.key("cloud")["Authorization"]
    prefix, _, secret = good.rpartition("_")
    bad = prefix + "_" + ("B" if secret[0] != "B" else "C") + secret[1:]
    response = api.client.post(
        "/v1/subjects", json={"kind": "account", "market": "de"}, headers={"Authorization": bad}
    )
    _assert_401(response.status_code, dict(response.headers), response.json())


def test_revoked_service_key_is_401(api: Api) -> None:
    issued = api.credentials.create_api_key("cloud")
    headers = {"Authorization": "Bearer " + issued.secret}
    assert (
        api.client.post(
            "/v1/subjects", json={"kind": "account", "market": "de"}, headers=headers
        ).status_code
        == 201
    )
    api.credentials.revoke_api_key(issued.key.id)
    response = api.client.post(
        "/v1/subjects", json={"kind": "account", "market": "de"}, headers=headers
    )
    _assert_401(response.status_code, dict(response.headers), response.json())
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_revoked_and_expired_user_tokens_are_401(api: Api, clock: FakeClock) -> None:
    sid = api.subject(api.key("cloud"))
    issued = api.credentials.issue_user_token(sid, ttl_seconds=3600)
    headers = {"Authorization": "Bearer " + issued.secret}
    assert api.client.get(f"/v1/subjects/{sid}", headers=headers).status_code == 200
    clock.advance(seconds=3600)
    response = api.client.get(f"/v1/subjects/{sid}", headers=headers)
    _assert_401(response.status_code, dict(response.headers), response.json())
    other = api.credentials.issue_user_token(sid)
    headers = {"Authorization": "Bearer " + other.secret}
    assert api.client.get(f"/v1/subjects/{sid}", headers=headers).status_code == 200
    api.credentials.revoke_user_token(other.token.id)
    response = api.client.get(f"/v1/subjects/{sid}", headers=headers)
    _assert_401(response.status_code, dict(response.headers), response.json())


def test_user_tokens_cannot_call_service_routes(api: Api) -> None:
    sid = api.subject(api.key("cloud"))
    token = api.token(sid)
    response = api.client.post(
        "/v1/subjects", json={"kind": "account", "market": "de"}, headers=token
    )
    assert response.status_code == 403
    response = api.client.post("/v1/collect", json={"events": []}, headers=token)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_own_user_token_reads_own_subject(api: Api) -> None:
    sid = api.subject(api.key("cloud"))
    response = api.client.get(f"/v1/subjects/{sid}", headers=api.token(sid))
    assert response.status_code == 200
    assert response.json() == {
        "id": sid,
        "kind": "account",
        "market": "de",
        "region": "eu",
        "status": "active",
    }
