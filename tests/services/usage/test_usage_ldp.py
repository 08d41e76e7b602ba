"""
Local privacy: a device privatises its app-usage histogram with optimized local hashing; the
server's frequency estimates over 100,000 simulated devices are unbiased (over seeds) and
their error matches the oracle's published variance; each report is ε-LDP.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from charter.client.telemetry import OLHParams, bucket_of, draw_app, privatise, privatise_many
from charter.services.usage import ldp

DEVICES = 100_000
DOMAIN = 40
EPSILON = 2.0


def _population(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(DOMAIN, 0.7))
    return rng.choice(DOMAIN, size=DEVICES, p=weights).astype(np.int64)


def _z(seed: int) -> np.ndarray:
    values = _population(seed)
    true = np.bincount(values, minlength=DOMAIN)
    a, b, y = privatise_many(values, EPSILON, np.random.default_rng(seed + 1))
    est = ldp.estimate(a, b, y, epsilon=EPSILON, domain=DOMAIN)
    return np.asarray((est - true) / np.sqrt(ldp.variance(DEVICES, true, EPSILON)))


@settings(max_examples=6)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_estimates_are_unbiased_over_seeds(seed: int) -> None:
    z = _z(seed)
    # the mean of 40 standardised errors has sd ≈ 0.16: a bias would push it far out
    assert abs(z.mean()) < 0.8
    assert np.abs(z).max() < 5.5


def test_error_matches_the_oracles_published_variance() -> None:
    z = np.concatenate([_z(seed) for seed in range(8)])
    # E[z²] = 1 when the variance formula is right; 320 samples: sd of the mean ≈ 0.08
    assert 0.75 < float((z**2).mean()) < 1.25
    assert abs(float(z.mean())) < 0.25


@given(epsilon=st.floats(min_value=0.05, max_value=8.0))
def test_each_report_is_epsilon_ldp(epsilon: float) -> None:
    params = OLHParams.at(epsilon)
    # the likeliest output given v over the likeliest given v' ≠ v
    ratio = params.p / ((1 - params.p) / (params.g - 1))
    assert ratio <= math.exp(epsilon) * (1 + 1e-9)
    assert params.g == max(2, round(math.exp(epsilon)) + 1)


def test_device_report_keeps_its_bucket_with_probability_p_and_hides_the_value() -> None:
    rng = random.Random(7)
    params = OLHParams.at(EPSILON)
    kept = 0
    n = 20_000
    for _ in range(n):
        report = privatise({3: 5, 9: 0}, EPSILON, rng)
        assert set(report.to_json()) == {"a", "b", "bucket"}  # never the value itself
        kept += int(bucket_of(report.a, report.b, 3, params.g)) == report.bucket
    assert abs(kept / n - params.p) < 4 * math.sqrt(params.p * (1 - params.p) / n)


def test_a_draw_follows_the_histogram_and_bad_input_is_refused() -> None:
    rng = random.Random(1)
    draws = [draw_app({1: 1, 2: 3}, rng) for _ in range(8000)]
    assert abs(draws.count(2) / 8000 - 0.75) < 0.03
    with pytest.raises(ValueError, match="empty"):
        draw_app({1: 0}, rng)
    with pytest.raises(ValueError, match="positive"):
        OLHParams.at(0.0)


@pytest.mark.slow
def test_unbiased_and_published_variance_over_many_seeds() -> None:
    """The larger run (200 populations of 100,000 devices, 8,000 estimates): a bias or a
    variance 5 % off would show. Bounds at about 5 standard deviations."""
    z = np.concatenate([_z(1000 + seed) for seed in range(200)])
    # sd of the mean of 8,000 z ≈ 0.011; of the mean of z² ≈ sqrt(2 / 8000) ≈ 0.016
    assert abs(float(z.mean())) < 0.055
    assert 0.92 < float((z**2).mean()) < 1.08
