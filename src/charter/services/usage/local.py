"""
:class:`LocalReports`: the server's store of locally privatised app-usage reports
(:mod:`charter.client.telemetry`) and its frequency estimates. A report names no one: it
is kept without a subject or device, and only at the ε the catalog declares.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select

from charter.client.telemetry import PRIME, OLHParams
from charter.errors import InputError
from charter.gate import Gate
from charter.policy import MICROS_PER_DAY
from charter.services.usage.apps import SYSTEM_APPS
from charter.services.usage.params import UsageParams
from charter.services.usage.tables import ldp_reports

MAX_REPORTS = 10_000


class LocalReports:
    """Locally private reports and the estimates made from them."""

    def __init__(self, gate: Gate, params: UsageParams) -> None:
        self.gate = gate
        self.epsilon = params.local_epsilon
        self.params = OLHParams.at(self.epsilon)

    def add(self, epsilon: float, reports: Sequence[Mapping[str, Any]]) -> int:
        """
        Keep a batch of reports; returns how many.

        Raises:
            InputError: another ε than the declared one, or a report outside the protocol
                (with its index); nothing is kept then.
        """
        if abs(epsilon - self.epsilon) > 1e-9:
            raise InputError(
                f"reports are taken only at the declared ε = {self.epsilon}", field="epsilon"
            )
        if not 1 <= len(reports) <= MAX_REPORTS:
            raise InputError(f"send 1 to {MAX_REPORTS} reports", field="reports")
        rows = []
        day = self.gate.clock() // MICROS_PER_DAY
        for i, r in enumerate(reports):
            a, b, bucket = r.get("a"), r.get("b"), r.get("bucket")
            if not (
                isinstance(a, int)
                and isinstance(b, int)
                and isinstance(bucket, int)
                and 1 <= a < PRIME
                and 0 <= b < PRIME
                and 0 <= bucket < self.params.g
            ):
                raise InputError(
                    f"reports[{i}]: a in [1, 2^31-1), b in [0, 2^31-1), "
                    f"bucket in [0, {self.params.g})",
                    field=f"reports[{i}]",
                )
            rows.append(
                {
                    "report_id": "lr_" + secrets.token_hex(16),
                    "day": day,
                    "epsilon_micro": round(self.epsilon * 1_000_000),
                    "a": a,
                    "b": b,
                    "bucket": bucket,
                }
            )
        with self.gate.stores.control().begin() as conn:
            conn.execute(insert(ldp_reports), rows)
        return len(rows)

    def estimates(self) -> dict[str, float]:
        """Estimated number of reports per system app (unbiased; noisy by design)."""
        r = ldp_reports
        with self.gate.stores.control().connect() as conn:
            rows = conn.execute(
                select(r.c.a, r.c.b, r.c.bucket).where(
                    r.c.epsilon_micro == round(self.epsilon * 1_000_000)
                )
            ).all()
        if not rows:
            return dict.fromkeys(SYSTEM_APPS, 0.0)
        import numpy as np  # noqa: PLC0415 - heavy imports, paid on first use

        from charter.services.usage import ldp  # noqa: PLC0415

        arr = np.asarray(rows, dtype=np.int64)
        est = ldp.estimate(
            arr[:, 0], arr[:, 1], arr[:, 2], epsilon=self.epsilon, domain=len(SYSTEM_APPS)
        )
        return {app: float(v) for app, v in zip(SYSTEM_APPS, est, strict=True)}
