"""
Local differential privacy on the device: an app-usage histogram privatised before it leaves
the phone, so the server never sees the true value.

The frequency oracle is optimized local hashing (OLH; Wang, Blocki, Li and Jha, "Locally
Differentially Private Protocols for Frequency Estimation", USENIX Security 2017). A device
draws one app from its usage histogram (in proportion to use), hashes it with a hash function
it picks at random from a universal family into ``g = round(e^ε) + 1`` buckets, and reports
the hash function and the bucket, keeping the true bucket with probability
``p = e^ε / (e^ε + g - 1)`` and otherwise answering one of the other buckets uniformly. The
report satisfies ε-local differential privacy whatever the server knows. The server's side
(:func:`charter.services.usage.ldp.estimate`) counts, for every app, the reports whose bucket
matches the app's hash and unbiases the count.

This module imports nothing of the server: the protocol (the hash family and the parameters)
is defined here, once, and the server imports it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from charter.client.http import Transport

PRIME = (1 << 31) - 1
"""The modulus of the universal hash family ``((a·v + b) mod P) mod g``."""

if TYPE_CHECKING:  # numpy is imported where it is used: a server that never estimates
    # usage does not pay its memory at start-up
    import numpy as np
    import numpy.typing as npt

    IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class OLHParams:
    """The oracle's parameters at one ε."""

    epsilon: float
    g: int
    p: float
    q: float

    @classmethod
    def at(cls, epsilon: float) -> OLHParams:
        """The optimal parameters for ``epsilon`` (> 0)."""
        if not (epsilon > 0 and math.isfinite(epsilon)):
            raise ValueError("epsilon must be a positive finite number")
        e = math.exp(epsilon)
        g = max(2, round(e) + 1)
        return cls(epsilon, g, e / (e + g - 1), 1.0 / g)


@dataclass(frozen=True, slots=True)
class Report:
    """One device's privatised report: the hash function (``a``, ``b``) and a bucket."""

    a: int
    b: int
    bucket: int

    def to_json(self) -> dict[str, int]:
        """The report as the API takes it."""
        return {"a": self.a, "b": self.b, "bucket": self.bucket}


def bucket_of(a: IntArray | int, b: IntArray | int, value: IntArray | int, g: int) -> IntArray:
    """The bucket of ``value`` under the hash function (``a``, ``b``): vectorised."""
    import numpy as np  # noqa: PLC0415 - heavy import, paid on first use

    return (
        (np.asarray(a, dtype=np.int64) * np.asarray(value, dtype=np.int64)
         + np.asarray(b, dtype=np.int64)) % PRIME
    ) % g  # fmt: skip


def draw_app(histogram: Mapping[int, int], rng: random.Random) -> int:
    """One app index drawn from a usage histogram in proportion to its use."""
    items = [(k, v) for k, v in sorted(histogram.items()) if v > 0]
    if not items:
        raise ValueError("the histogram is empty: nothing to report")
    total = sum(v for _k, v in items)
    pick = rng.randrange(total)
    for k, v in items:
        if pick < v:
            return k
        pick -= v
    raise AssertionError("unreachable")


def privatise(
    histogram: Mapping[int, int], epsilon: float, rng: random.Random | None = None
) -> Report:
    """
    Privatise a device's app-usage histogram (app index → uses) into one OLH report.

    ``rng`` defaults to the operating system's randomness (:class:`random.SystemRandom`); a
    seeded one is for tests only.
    """
    rng = rng or random.SystemRandom()
    params = OLHParams.at(epsilon)
    value = draw_app(histogram, rng)
    a = rng.randrange(1, PRIME)
    b = rng.randrange(0, PRIME)
    true_bucket = int(bucket_of(a, b, value, params.g))
    if rng.random() < params.p:
        bucket = true_bucket
    else:
        bucket = rng.randrange(params.g - 1)
        bucket += bucket >= true_bucket
    return Report(a, b, bucket)


def privatise_many(
    values: IntArray, epsilon: float, rng: np.random.Generator
) -> tuple[IntArray, IntArray, IntArray]:
    """Many devices' reports at once (for simulation and benchmarks): ``(a, b, bucket)``."""
    import numpy as np  # noqa: PLC0415 - heavy import, paid on first use

    params = OLHParams.at(epsilon)
    n = len(values)
    a = rng.integers(1, PRIME, size=n, dtype=np.int64)
    b = rng.integers(0, PRIME, size=n, dtype=np.int64)
    true_bucket = bucket_of(a, b, values, params.g)
    keep = rng.random(n) < params.p
    other = rng.integers(0, params.g - 1, size=n, dtype=np.int64)
    other += other >= true_bucket
    return a, b, np.where(keep, true_bucket, other)


class UsageClient:
    """A device's usage telemetry over HTTP: events, locally private reports, the budget."""

    def __init__(self, base_url: str, token: str, *, transport: Transport | None = None) -> None:
        self.transport = transport or Transport(base_url, token)

    def close(self) -> None:
        """Close the connection pool."""
        self.transport.close()

    def send_events(self, device: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send a batch of events; each gets the server's outcome and reason."""
        answer = self.transport.request(
            "POST", "/v1/usage/events", json={"device": device, "events": events}
        )
        out: list[dict[str, Any]] = answer.json()
        return out

    def report_histogram(
        self, histogram: Mapping[int, int], epsilon: float, rng: random.Random | None = None
    ) -> Report:
        """Privatise the device's app-usage histogram and send only the report."""
        report = privatise(histogram, epsilon, rng)
        self.transport.request(
            "POST", "/v1/usage/ldp", json={"epsilon": epsilon, "reports": [report.to_json()]}
        )
        return report

    def budget(self) -> list[dict[str, Any]]:
        """The person's privacy budget, per purpose."""
        out: list[dict[str, Any]] = self.transport.request("GET", "/v1/usage/budget").json()
        return out
