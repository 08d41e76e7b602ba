"""
The reference client's usage telemetry over HTTP: events with their outcomes, a locally
private report per device (the server keeps no true value, no device and no person), the
server's estimates from those reports, and the person's budget.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from charter.app import Charter
from charter.asgi import create_app
from charter.client import ApiError
from charter.client.http import Transport
from charter.client.telemetry import OLHParams, UsageClient
from charter.services.usage import ldp
from charter.services.usage.apps import SYSTEM_APPS
from charter.services.usage.tables import ldp_reports
from support.telemetry import TestClient, event, headers, person


@pytest.fixture
def api(charter: Charter) -> Iterator[TestClient]:
    with TestClient(create_app(charter), base_url="https://testserver") as client:
        yield client


def _client(charter: Charter, api: TestClient, subject: str) -> UsageClient:
    token = headers(charter, subject)["Authorization"].removeprefix("Bearer ")
    return UsageClient("https://testserver", token, transport=Transport("", token, client=api))


def test_devices_report_privately_and_the_server_estimates(
    charter: Charter, api: TestClient
) -> None:
    subject = person(charter)
    device = _client(charter, api, subject)
    assert device.send_events("phone", [event("usage_sequence")])[0]["accepted"]
    assert device.budget()[0]["purpose"] == "analytics"
    epsilon = charter.usage.params.local_epsilon
    rng = random.Random(11)
    gallery = SYSTEM_APPS.index("com.miui.gallery")
    notes = SYSTEM_APPS.index("com.miui.notes")
    n = 600
    for i in range(n):  # two thirds use mostly the gallery, a third only notes
        hist = {gallery: 9, notes: 1} if i % 3 else {notes: 4}
        device.report_histogram(hist, epsilon, rng)
    with charter.stores.control().connect() as conn:
        kept = conn.execute(select(ldp_reports)).all()
    assert len(kept) == n
    assert not {"subject_id", "device_hash", "value"} & set(ldp_reports.c.keys())
    est = charter.usage.local.estimates()
    expected = {"com.miui.gallery": n * 2 / 3 * 0.9, "com.miui.notes": n / 3 + n * 2 / 3 * 0.1}
    for app, want in expected.items():
        sd = math.sqrt(float(ldp.variance(n, want, epsilon)))
        assert abs(est[app] - want) < 5 * sd, (app, est[app], want, sd)
    assert abs(sum(est.values()) - n) < 5 * math.sqrt(float(ldp.variance(n, 0, epsilon)) * 40)


def test_reports_outside_the_protocol_are_refused_and_nothing_is_kept(
    charter: Charter, api: TestClient
) -> None:
    device = _client(charter, api, person(charter))
    g = OLHParams.at(charter.usage.params.local_epsilon).g
    for bad in (
        {"epsilon": 8.0, "reports": [{"a": 1, "b": 0, "bucket": 0}]},
        {"epsilon": 1.0, "reports": [{"a": 0, "b": 0, "bucket": 0}]},
        {"epsilon": 1.0, "reports": [{"a": 5, "b": 0, "bucket": g}]},
    ):
        with pytest.raises(ApiError) as refused:
            device.transport.request("POST", "/v1/usage/ldp", json=bad)
        assert refused.value.status == 422
    with charter.stores.control().connect() as conn:
        assert conn.execute(select(ldp_reports)).all() == []
