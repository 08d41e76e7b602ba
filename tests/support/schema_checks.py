"""One bounded, derandomized Schemathesis check per OpenAPI operation (in process or live)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings


def operation_check(
    operation: Any, headers: dict[str, str], excluded: list[Any], examples: int
) -> Callable[[], None]:
    """A Hypothesis test of one operation: ``examples`` generated calls, each validated
    against the document (``excluded`` checks skipped)."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    return check
