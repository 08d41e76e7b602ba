"""Cloud tests share the served app and a person's devices (tests/support/cloud_fixtures.py)."""

from support.cloud_fixtures import api, person_phone  # noqa: F401 - fixtures are found by name
