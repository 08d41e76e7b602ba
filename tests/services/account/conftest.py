"""Account tests use the shared account fixtures (tests/support/account_fixtures.py)."""

from __future__ import annotations

from support.account_fixtures import (  # noqa: F401 - fixtures are found by name
    accounts,
    alice,
    app,
    bob,
    client,
    provider,
    sender,
    signing_keys,
)
