"""
The switch routes read their caller and subject without FastAPI dependencies
(``deps.direct_subject_access``): every answer must be the one the dependency-based subject
routes give (``/switches/history`` keeps ``SubjectId`` and ``SubjectCaller``), and the
published document must say the same of them.
"""

from __future__ import annotations

from typing import Any

from api_support import Api

ADS = "system.personalized_ads"


def _answer(api: Api, method: str, path: str, headers: dict[str, str]) -> tuple[Any, ...]:
    body = {"changes": {ADS: False}} if method == "PUT" else None
    response = api.client.request(method, path, json=body, headers=headers)
    return response.status_code, response.json(), response.headers.get("www-authenticate")


def test_direct_routes_refuse_exactly_as_the_dependency_routes(api: Api) -> None:
    cloud = api.key("cloud")
    sid = api.subject(cloud)
    other = api.subject(cloud)
    secret = api.token(sid)["Authorization"].removeprefix("Bearer ")
    malformed = "s_not-a-subject"
    cases = [
        (sid, {}),  # no credential
        (sid, {"Authorization": "Basic dXNlcjpwYXNz"}),  # another scheme
        (sid, {"Authorization": "Bearer "}),  # an empty credential
        (sid, {"Authorization": "Bearer ut_bad_token"}),  # an unknown one
        (sid, {"Authorization": "Bearer ck_cloud_wrong"}),  # a bad service key
        (malformed, {"Authorization": "Bearer ut_bad_token"}),  # 401 before the path
        (malformed, {"Authorization": f"Bearer {secret}"}),  # 422
        (other, {"Authorization": f"Bearer {secret}"}),  # another subject's id: 404
    ]
    seen = set()
    for subject, headers in cases:
        expected = _answer(api, "GET", f"/v1/subjects/{subject}/switches/history", headers)
        seen.add(expected[0])
        for method in ("GET", "PUT"):
            got = _answer(api, method, f"/v1/subjects/{subject}/switches", headers)
            assert got == expected, (method, subject, headers)
    assert seen == {401, 404, 422}
    assert _history(api, sid, secret) == []  # no refused change wrote anything


def _history(api: Api, sid: str, secret: str) -> list[Any]:
    response = api.client.get(
        f"/v1/subjects/{sid}/switches/history", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200
    history: list[Any] = response.json()["history"]
    return history


def test_direct_routes_take_the_scheme_in_any_case_and_honour_gpc(api: Api) -> None:
    cloud = api.key("cloud")
    sid = api.subject(cloud)
    secret = api.token(sid)["Authorization"].removeprefix("Bearer ")
    response = api.client.put(
        f"/v1/subjects/{sid}/switches",
        json={"changes": {"cloud.authorization": True}},
        headers={"Authorization": f"bEaReR   {secret}  ", "Sec-GPC": "1"},
    )
    assert response.status_code == 200, response.text
    switches = response.json()["switches"]
    assert switches["cloud.authorization"] is True
    assert switches[ADS] is False  # the GPC signal opted the subject out first
    sources = [(h["key"], h["source"]) for h in _history(api, sid, secret)]
    assert sources == [(ADS, "gpc"), ("cloud.authorization", "user")]


def test_direct_routes_are_documented_as_the_dependency_routes(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    reference = paths["/v1/subjects/{subject_id}/switches/history"]["get"]
    for method in ("get", "put"):
        operation = paths["/v1/subjects/{subject_id}/switches"][method]
        assert operation["parameters"] == reference["parameters"], method
        assert operation["security"] == reference["security"], method
