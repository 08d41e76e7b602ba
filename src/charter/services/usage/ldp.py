"""
The server's side of local differential privacy: frequency estimates from optimized local
hashing reports (:mod:`charter.client.telemetry`), never the devices' true values. Pure.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from charter.client.telemetry import OLHParams, bucket_of

FloatArray = npt.NDArray[np.float64]


def estimate(
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    buckets: npt.NDArray[np.int64],
    *,
    epsilon: float,
    domain: int,
    chunk: int = 65_536,
) -> FloatArray:
    """
    Unbiased estimates of how many devices hold each value in ``range(domain)``.

    For each value v: C(v) counts the reports whose bucket equals v's hash under the report's
    hash function; the estimate is ``(C(v) - n·q) / (p - q)``.
    """
    params = OLHParams.at(epsilon)
    n = len(buckets)
    support = np.zeros(domain, dtype=np.int64)
    values = np.arange(domain, dtype=np.int64)
    for start in range(0, n, chunk):
        sa = a[start : start + chunk, None]
        sb = b[start : start + chunk, None]
        sy = buckets[start : start + chunk, None]
        support += (bucket_of(sa, sb, values[None, :], params.g) == sy).sum(axis=0)
    out: FloatArray = np.asarray((support - n * params.q) / (params.p - params.q), dtype=np.float64)
    return out


def variance(n: int, holders: FloatArray | float, epsilon: float) -> FloatArray:
    """
    The oracle's published variance of each estimate, for ``n`` reports of which ``holders``
    hold the value: ``(f·p(1-p) + (n-f)·q(1-q)) / (p-q)²``; with f small it is the familiar
    ``n·4e^ε/(e^ε-1)²`` of OLH.
    """
    params = OLHParams.at(epsilon)
    p, q = params.p, params.q
    f = np.asarray(holders, dtype=np.float64)
    return (f * p * (1 - p) + (n - f) * q * (1 - q)) / (p - q) ** 2
