"""
T15: property-based API testing with Schemathesis against the app's own /openapi.json,
in process, with a service credential: no 5xx on any generated input, and every response
conforms to the documented schema, status codes, content types and headers.

Bounded (15 examples per operation, derandomized) so the whole run stays well under 90 s.
Schemathesis' lazy ``from_fixture`` loader does not run on the installed pytest, so the
test drives each operation's Hypothesis strategy itself.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from charter.services.credentials import Credentials

EXAMPLES = 15

SEMANTIC_PREFIXES = ("/v1/photos/strip", "/v1/account/", "/oauth/")
"""Operations whose schema-valid inputs may still be rejected for their content: random bytes
are a valid ``format: binary`` file but not a photo; a random string is a schema-valid
identifier, password or one-time code but not a real email, a policy-compliant password or
the code that was sent. They keep every other check (no 5xx, documented statuses and
shapes), but not positive acceptance."""


def _make_check(operation: Any, headers: dict[str, str], excluded: list[Any]) -> Any:
    """A bounded, derandomized Hypothesis test of one operation."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    return check


def test_api_conforms_to_its_openapi(app: FastAPI) -> None:
    credentials: Credentials = app.state.charter.credentials
    headers = {"Authorization": "Bearer " + credentials.create_api_key("cloud").secret}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    failures: list[str] = []
    for operation in operations:
        semantic = operation.path.startswith(SEMANTIC_PREFIXES)
        excluded = [positive_data_acceptance] if semantic else []
        check = _make_check(operation, headers, excluded)
        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
