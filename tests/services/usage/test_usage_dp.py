"""
Aggregates with a privacy budget: OpenDP's discrete Laplace release over a million simulated
devices stays within the error OpenDP itself predicts; the lifetime ledger leaves out the
contribution that would pass the cap; counts below k are never released; a person's spent
budget is in their export; the third-party interface carries no identifier.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Iterator

import numpy as np
import pytest

from charter.app import Charter
from charter.asgi import create_app
from charter.services.usage import dp
from charter.services.usage.analytics import THIRD_PARTY_COLUMNS
from charter.services.usage.apps import INDEX, SYSTEM_APPS
from charter.services.usage.tables import budget, releases
from charter.store.registry import registered
from support.telemetry import TestClient, event, headers, person

DEVICES = 1_000_000


@pytest.fixture
def api(charter: Charter) -> Iterator[TestClient]:
    with TestClient(create_app(charter), base_url="https://testserver") as client:
        yield client


def _million(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.ones(len(SYSTEM_APPS)))
    weights[-5:] = 0.0  # five apps nobody uses: their counts must be suppressed
    weights /= weights.sum()
    apps = rng.choice(len(SYSTEM_APPS), size=DEVICES, p=weights)  # one app per device
    return dp.histogram(apps, len(SYSTEM_APPS))


RELEASES = 50
FAIL = 1e-6
"""Each statistical assertion below fails by chance with probability at most this."""


def test_release_over_a_million_devices_is_within_opendps_predicted_error() -> None:
    """
    The devices are simulated from a fixed seed; OpenDP's noise cannot be seeded (it draws
    from the operating system's CSPRNG, as a DP library must), so the assertions are about
    the noise's distribution, each at a stated confidence that makes a chance failure at most
    1e-6: (1) every error of 50 releases is within the accuracy OpenDP predicts at a joint
    confidence of 1 - 1e-6 (union bound over 50 x 40 counts); (2) at most 5 % (+ a Hoeffding
    margin) of errors pass OpenDP's 95 % accuracy; (3) the errors' variance is the discrete
    Laplace variance of the scale OpenDP's accountant gives for ε (so a wrong scale, or no
    noise, fails); (4) counts under k are suppressed.
    """
    true = _million(20261204)
    assert int(true.sum()) == DEVICES
    epsilon, domain = 0.5, len(SYSTEM_APPS)
    # the release's own OpenDP measurement, before suppression (which would hide the errors
    # of small counts)
    meas = dp.measurement(epsilon, 1, domain)
    assert meas.map(1) == pytest.approx(epsilon)  # the accountant: ε = d_in / scale
    scale = 1 / epsilon
    counts = [int(c) for c in true]
    errors = np.array([np.array(meas(counts)) - true for _ in range(RELEASES)]).ravel()
    n = errors.size
    assert np.abs(errors).max() <= dp.accuracy(scale, FAIL / n)  # (1)
    beyond = float((np.abs(errors) > dp.accuracy(scale, 0.05)).mean())
    assert beyond <= 0.05 + math.sqrt(math.log(1 / FAIL) / (2 * n))  # (2) Hoeffding
    q = math.exp(-1 / scale)
    predicted = 2 * q / (1 - q) ** 2  # the variance of the discrete Laplace at this scale
    ratio = float((errors**2).mean()) / predicted
    # sd of the ratio ≈ sqrt((kurtosis - 1) / n) = sqrt(5 / 2000) = 0.05: ±0.3 is 6 sd
    assert 0.7 < ratio < 1.3, ratio  # (3)
    k = 20
    suppressed = dp.release(true, epsilon=epsilon, sensitivity=1, k=k)
    noisy = np.array([c if c is not None else -1 for c in suppressed.counts])
    released = noisy >= 0
    assert (released[true >= k + dp.accuracy(scale, FAIL / domain)]).all()  # (4)
    assert all(c is None or c >= k for c in suppressed.counts)
    # a zero count crosses k = 20 with p = e^(-k/s) / (1 + e^(-1/s)) ≈ 2.8e-5: two of five
    # doing so has probability ≈ 10 p² < 1e-8
    assert int(released[-5:].sum()) <= 1


def test_measurement_refuses_a_budget_the_accountant_does_not_grant() -> None:
    with pytest.raises(ValueError, match="positive"):
        dp.measurement(0.0, 1, 3)
    meas = dp.measurement(1.0, 3, 4)
    assert meas.map(3) == pytest.approx(1.0)
    assert meas.map(6) == pytest.approx(2.0)  # twice the contribution, twice the ε


def _people(charter: Charter, n: int, *, uep: bool = True) -> list[str]:
    out = []
    for i in range(n):
        s = person(charter, uep=uep)
        charter.usage.events.submit(
            s,
            f"phone-{i}",
            [event("usage_sequence", "com.miui.gallery"), event("app_status", "com.miui.notes")],
            actor="test",
        )
        out.append(s)
    return out


@pytest.mark.promise("app_usage_data.aggregated_analysis")
def test_ledger_leaves_out_the_contribution_that_would_pass_the_lifetime_cap(
    charter: Charter,
) -> None:
    params = charter.usage.params
    assert (params.epsilon_per_query, params.lifetime_epsilon) == (0.5, 4.0)
    people = _people(charter, 3)
    outsider = _people(charter, 1, uep=False)[0]  # User Experience Program off
    analytics = charter.usage.analytics
    allowed = int(params.lifetime_epsilon / params.epsilon_per_query)
    for n in range(allowed):
        out = analytics.release_app_usage(actor="staff:test")
        assert (out.used, out.over_budget, out.refused) == (3, 0, 1), n
    for s in people:
        (spent,) = analytics.spent(s)
        assert (spent.spent, spent.left, spent.releases) == (4.0, 0.0, allowed)
    past = analytics.release_app_usage(actor="staff:test")
    assert (past.used, past.over_budget) == (0, 3)  # the cap is lifetime: never renewed
    assert analytics.spent(people[0])[0].spent == 4.0
    assert analytics.spent(outsider)[0].spent == 0.0  # refused by the gate, never charged
    with charter.stores.control().connect() as conn:
        assert {r.subject_id for r in conn.execute(budget.select())} == set(people)


@pytest.mark.promise("app_usage_data.aggregated_analysis")
def test_counts_below_k_are_never_released_and_big_ones_are(charter: Charter) -> None:
    k = charter.usage.params.k_threshold
    _people(charter, 120)
    out = charter.usage.analytics.release_app_usage(actor="staff:test")
    counts = dict(zip(SYSTEM_APPS, out.release.counts, strict=True))
    assert counts["com.miui.gallery"] is not None
    assert all(c is None or c >= k for c in counts.values())
    with charter.stores.control().connect() as conn:
        kept = conn.execute(releases.select()).all()
    assert kept and all(r.count >= k for r in kept)
    assert {r.category for r in kept} <= set(INDEX)


@pytest.mark.promise("app_usage_data.aggregated_analysis", "app_usage_data.no_raw_event_sharing")
def test_third_party_interface_has_no_identifier_column(charter: Charter, api: TestClient) -> None:
    people = _people(charter, 40)
    charter.usage.analytics.release_app_usage(actor="staff:test")
    resp = api.get("/v1/usage/aggregates", headers=headers(charter, people[0]))
    assert resp.status_code == 200
    rows = resp.json()
    assert rows and all(tuple(r) == THIRD_PARTY_COLUMNS for r in rows)
    assert not any(p in resp.text for p in people)
    entry = next(r for r in registered() if r.table is releases)
    assert entry.subject_column is None and not entry.reference and not entry.personal
    assert not {"subject_id", "device_hash", "ad_id", "record_id"} & set(releases.c.keys())


def test_spent_budget_is_in_the_export_and_the_budget_api(
    charter: Charter, api: TestClient
) -> None:
    (me,) = _people(charter, 1)
    charter.usage.analytics.release_app_usage(actor="staff:test")
    got = api.get("/v1/usage/budget", headers=headers(charter, me)).json()
    assert got == [{"purpose": "analytics", "spent": 0.5, "cap": 4.0, "left": 3.5, "releases": 1}]
    _rid, ticket = charter.rights.export(me)
    zf = zipfile.ZipFile(io.BytesIO(b"".join(charter.rights.download(ticket.token))))
    manifest = json.loads(zf.read("export.json"))
    assert "parts/privacy_budget.json" in manifest["files"]
    part = json.loads(zf.read("parts/privacy_budget.json"))
    assert part["part"] == [
        {
            "subject_id": me,
            "data": [
                {"purpose": "analytics", "spent": 0.5, "cap": 4.0, "left": 3.5, "releases": 1}
            ],
        }
    ]
