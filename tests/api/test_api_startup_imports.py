"""A server that has only started has not imported the heavy libraries it may never use:
numpy and OpenDP (usage analytics) load on the first release or estimate (bench/gate.py's
``server_rss_mb`` < 150 depends on it); Alembic loads only when a database needs a migration
(an up-to-date one is checked by a plain read of ``alembic_version``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from charter.app import Charter
from charter.config import Settings

HEAVY = ("numpy", "opendp")

PROBE = """
import sys
from pathlib import Path
from charter.app import Charter
from charter.config import Settings
from charter.asgi import create_app
from charter.config import Settings
create_app(Charter.open(Settings.from_env(data_dir=Path(sys.argv[1]))))
print(",".join(name for name in sys.argv[2:] if name in sys.modules))
"""


def _loaded_after_start(data_dir: Path, *names: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(data_dir), *names],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [name for name in done.stdout.strip().split(",") if name]


def test_start_up_leaves_numpy_and_opendp_unloaded(tmp_path: Path) -> None:
    Charter.init(tmp_path)
    assert _loaded_after_start(tmp_path, *HEAVY) == []
    # the probe can see a module that is loaded: the app does import SQLAlchemy
    assert _loaded_after_start(tmp_path, "sqlalchemy", *HEAVY) == ["sqlalchemy"]


def test_start_up_on_an_up_to_date_deployment_leaves_alembic_unloaded(tmp_path: Path) -> None:
    Charter.init(tmp_path)
    charter = Charter.open(Settings(data_dir=tmp_path))
    try:  # `charter init`: every database migrated to the head
        charter.stores.control()
        for region in charter.catalog.regions:
            charter.stores.region(region)
    finally:
        charter.close()
    assert _loaded_after_start(tmp_path, "alembic") == []


def test_start_up_on_a_new_deployment_migrates_with_alembic(tmp_path: Path) -> None:
    Charter.init(tmp_path)  # a keyring, no database yet: opening creates the schema
    assert _loaded_after_start(tmp_path, "alembic") == ["alembic"]
