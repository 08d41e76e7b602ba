"""
Fixtures shared by the gate and rights tests: the deployment fixtures of the
:mod:`charter.testing` plugin come from ``tests/conftest.py``; the helpers here build
settings for a second deployment on the same backend.
"""

from __future__ import annotations

import os
from pathlib import Path

from charter.catalog import load_catalog
from charter.config import Settings
from charter.rights import tables as _rights_tables  # noqa: F401 - truncate the rights tables too
from charter.testing import PG_ENV, settings_for

REGIONS = tuple(load_catalog().regions)
PG_URL = os.environ.get(PG_ENV)


def make_settings(backend: str, data_dir: Path, pg_databases: dict[str, str]) -> Settings:
    """Settings of a deployment on ``backend`` in ``data_dir``."""
    return settings_for(data_dir, pg_databases if backend == "postgres" else None)
