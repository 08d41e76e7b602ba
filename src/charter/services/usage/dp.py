"""
Central differential privacy with OpenDP: a histogram of bounded contributions released
with discrete Laplace noise, counts below k suppressed. Pure (no I/O).

OpenDP's constructors used here are in its ``contrib`` set (not yet vetted by its own
review process), so this module enables exactly that feature and no other: not
``floating-point`` (counts are integers, the noise is the integer discrete Laplace) and not
``honest-but-curious`` (no user-supplied functions run inside a measurement).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import opendp.prelude as dp

dp.enable_features("contrib")

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Release:
    """A released histogram: noisy counts (``None`` where suppressed) and what it cost."""

    counts: list[int | None]
    epsilon: float
    scale: float
    k: int
    alpha: float
    accuracy: float
    """With probability 1 - alpha, each released count is within this of the true one."""


def histogram(indices: IntArray, domain: int) -> IntArray:
    """Counts of each value in ``range(domain)`` (values outside are dropped)."""
    inside = indices[(indices >= 0) & (indices < domain)]
    return np.bincount(inside, minlength=domain).astype(np.int64)


def measurement(epsilon: float, sensitivity: int, domain: int) -> dp.Measurement:
    """The OpenDP measurement: discrete Laplace on an integer vector, scale ``sensitivity/ε``."""
    if not epsilon > 0:
        raise ValueError("epsilon must be positive")
    space = (dp.vector_domain(dp.atom_domain(T=int), size=domain), dp.l1_distance(T=int))
    meas = dp.m.make_laplace(*space, scale=sensitivity / epsilon)
    if _privacy(meas, sensitivity) > epsilon + 1e-12:
        raise ValueError("OpenDP's accountant rejects this epsilon for the sensitivity")
    return meas


def _privacy(meas: dp.Measurement, d_in: int) -> float:
    """ε as OpenDP's accountant maps it for a contribution bound of ``d_in``."""
    return float(meas.map(d_in))  # type: ignore[no-untyped-call]


def accuracy(scale: float, alpha: float) -> float:
    """OpenDP's predicted error bound of one count at confidence ``1 - alpha``."""
    return float(dp.discrete_laplacian_scale_to_accuracy(scale, alpha))


def release(
    counts: IntArray, *, epsilon: float, sensitivity: int, k: int, alpha: float = 0.05
) -> Release:
    """
    Release ``counts`` (each person's contribution bounded by ``sensitivity`` in L1) with
    ε-differential privacy; noisy counts below ``k`` are suppressed (post-processing).
    """
    domain = len(counts)
    meas = measurement(epsilon, sensitivity, domain)
    noisy = meas([int(c) for c in counts])
    scale = sensitivity / epsilon
    return Release(
        counts=[int(c) if c >= k else None for c in noisy],
        epsilon=_privacy(meas, sensitivity),
        scale=scale,
        k=k,
        alpha=alpha,
        accuracy=accuracy(scale, alpha),
    )
