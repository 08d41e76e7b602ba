"""Gate tests use the shared deployment fixtures (tests/support/deployment.py)."""

from __future__ import annotations

from support.deployment import (  # noqa: F401 - fixtures are found by name
    backend,
    charter,
    clock,
    keyring_only,
    pg_databases,
)
