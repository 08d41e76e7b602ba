"""The staff routes of usage analytics and AI over HTTP: a DP release, its third-party view,
the training-data export from declared non-personal sources only; none for a person."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from charter.app import Charter
from charter.asgi import create_app
from support.telemetry import TestClient, event, headers, person


@pytest.fixture
def api(charter: Charter) -> Iterator[TestClient]:
    with TestClient(create_app(charter), base_url="https://testserver") as client:
        yield client


@pytest.mark.promise("ai_technology.no_training_on_user_data")
def test_staff_release_and_training_export_over_http(charter: Charter, api: TestClient) -> None:
    key = charter.credentials.create_api_key("privacy_center").secret
    staff = {"Authorization": f"Bearer {key}", "X-Staff-Member": "ana"}
    people = [person(charter) for _ in range(25)]
    for p in people:
        charter.usage.events.submit(p, "phone", [event("usage_sequence")], actor="test")
    me = headers(charter, people[0])
    assert api.post("/v1/usage/releases", headers=me).status_code in (401, 403)
    released = api.post("/v1/usage/releases", headers=staff)
    assert released.status_code == 200, released.text
    body = released.json()
    assert body["epsilon"] == 0.5 and body["k"] == 20
    assert set(api.get("/v1/ai/training-sources", headers=staff).json()) >= {"synthetic"}
    rows = api.get("/v1/ai/training-data/released_aggregates", headers=staff).json()
    assert rows == api.get("/v1/usage/aggregates", headers=me).json()
    assert not any(p in str(rows) for p in people)
    refused = api.get("/v1/ai/training-data/app_usage_data", headers=staff)
    assert refused.status_code == 422
    assert "non-personal" in refused.json()["error"]["message"]
    assert len(api.get("/v1/ai/training-data/synthetic", headers=staff).json()) == 100
    assert api.get("/v1/ai/training-data/synthetic", headers=me).status_code in (401, 403)
