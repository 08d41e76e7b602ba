"""
JSON bodies must say they are JSON (issue 11: ``POST /v1/collect`` stored a ``text/plain``
body that parsed as JSON). Every route that takes a JSON body answers 415 to any other
media type, before it runs; the routes are found from the app itself, so a new one is
covered without being listed here.
"""

from __future__ import annotations

import json
import re

from api_support import Api
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from charter.api.media import JsonRouteIndex, is_json, json_body_routes
from charter.app import Charter
from charter.store import schema as t

PARAM = re.compile(r"\{[^}]+\}")
NOTE = {"data_type": "notes", "purpose": "app_functionality", "value": "plain text"}


def _requests(app: FastAPI) -> list[tuple[str, str]]:
    return [
        (method, PARAM.sub("x1", route.path))
        for route in json_body_routes(app.routes)
        for method in sorted(route.methods)
    ]


def test_the_json_routes_are_found(app: FastAPI) -> None:
    found = {(m, r.path) for r in json_body_routes(app.routes) for m in r.methods}
    assert ("POST", "/v1/collect") in found
    assert ("PUT", "/v1/subjects/{subject_id}/switches") in found
    assert ("POST", "/v1/subjects") in found
    assert ("POST", "/v1/me/records/{record_id}/correction") in found
    assert all(not path.startswith(("/admin", "/signin")) for _m, path in found)  # forms


_SEGMENT = st.sampled_from(["x1", "s_" + "a" * 32, "a/b", "", "notes", "%20", "{id}", "/"])


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_index_answers_as_every_json_route_in_turn(app: FastAPI, data: st.DataObject) -> None:
    # the index is one pattern per method; each route on its own is the reference
    routes = json_body_routes(app.routes)
    index = JsonRouteIndex(routes)
    templates = sorted({*app.openapi()["paths"], *(route.path for route in routes)})
    template = data.draw(st.sampled_from(templates))
    path = PARAM.sub(lambda _m: data.draw(_SEGMENT), template) + data.draw(
        st.sampled_from(["", "/", "x", "/extra"])
    )
    method = data.draw(st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]))
    expected = any(route.matches(method, path) for route in routes)
    assert index.matches(method, path) is expected, (method, path)


def test_every_json_route_refuses_other_media_types(client: TestClient, app: FastAPI) -> None:
    body = json.dumps({"changes": {}, "events": []}).encode()
    for method, path in _requests(app):
        for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
            headers = {"Content-Type": content_type} if content_type else {}
            response = client.request(method, path, content=body, headers=headers)
            assert response.status_code == 415, (method, path, content_type, response.text)
            assert response.json()["error"]["code"] == "unsupported_media_type"
        ok = client.request(
            method, path, content=body, headers={"Content-Type": "application/json; charset=utf-8"}
        )
        assert ok.status_code != 415, (method, path)


def test_the_openapi_document_lists_the_415(app: FastAPI) -> None:
    spec = app.openapi()
    for route in json_body_routes(app.routes):
        for method in route.methods:
            operation = spec["paths"][route.path][method.lower()]
            assert "415" in operation["responses"], (method, route.path)


def test_collect_as_text_plain_stores_nothing(api: Api, charter: Charter) -> None:
    cloud = api.key("cloud")
    sid = api.subject(cloud)
    api.switch(sid, {"cloud.authorization": True}, api.token(sid))
    response = api.client.post(
        "/v1/collect",
        content=json.dumps({"events": [{"subject_id": sid, **NOTE}]}),
        headers={**cloud, "Content-Type": "text/plain"},
    )
    assert response.status_code == 415
    region = charter.gate.subject(sid).region
    with charter.stores.region(region).connect() as conn:
        stored = conn.execute(
            select(func.count()).select_from(t.records).where(t.records.c.subject_id == sid)
        ).scalar_one()
    assert stored == 0
    accepted = api.collect([{"subject_id": sid, **NOTE}], cloud)  # as JSON it is stored
    assert accepted["accepted"] == 1


def test_media_type_parsing() -> None:
    assert is_json("application/json")
    assert is_json("Application/JSON ; charset=utf-8")
    assert not is_json("application/jsonp")
    assert not is_json("text/plain")
    assert not is_json(None)
    assert not is_json("")
