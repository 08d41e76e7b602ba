"""
Region routing: one database (and one blob folder) per region, plus the control database.

Engines are opened on first use and migrated to the newest schema, so a region nobody
lives in costs nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from charter.config import Settings
from charter.store import migrate
from charter.store.engines import make_engine
from charter.store.files import register_file_writer

CONTROL = "_control"


class RegionStores:
    """The databases of a deployment, by region id."""

    def __init__(self, settings: Settings, regions: tuple[str, ...]) -> None:
        self.settings = settings
        self.regions = regions
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def _open(self, key: str, url_of: Callable[[], str]) -> Engine:
        engine = self._engines.get(key)  # opened before: no lock, no URL to build
        if engine is not None:
            return engine
        url = url_of()
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                if url.startswith("sqlite"):
                    _private_file(Path(url.split(":///", 1)[1]))
                engine = make_engine(url)
                try:
                    migrate.upgrade(engine)
                except BaseException:
                    engine.dispose()  # refused (e.g. unsafe settings): leave no connection open
                    raise
                self._engines[key] = engine
            return engine

    def control(self) -> Engine:
        """The control database (API keys, tokens, subject directory)."""
        return self._open(CONTROL, self.settings.control_database_url)

    def region(self, region: str) -> Engine:
        """The database of one region."""
        if region not in self.regions:
            raise KeyError(region)
        return self._open(region, lambda: self.settings.region_url(region))

    def opened(self) -> dict[str, Engine]:
        """Every engine opened so far, by region (the control database as ``_control``)."""
        return dict(self._engines)

    def blob_dir(self, region: str) -> Path:
        """The blob folder of a region (created 0700 on first use)."""
        path = self.settings.blob_dir(region)
        if not path.is_dir():
            for folder in (path.parent, path):
                folder.mkdir(parents=True, exist_ok=True)
                folder.chmod(0o700)
        return path

    def dispose(self) -> None:
        """Close every connection pool."""
        with self._lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()


def _private_file(path: Path) -> None:
    """Create a database file readable by its owner only; SQLite gives its -wal and -shm
    files the same permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


register_file_writer(
    "databases",
    (
        "control.db",
        "control.db-*",
        "regions/*.db",
        "regions/*.db-*",
    ),
    holds="every registered table's rows: encrypted records, subject ids, switch history",
    erasure="the subject's rows go as the table registry says; the write-ahead log is "
    "checkpointed and truncated so no old page keeps them",
    fast_check="rows",
)
register_file_writer(
    "blobs",
    ("blobs/**",),
    holds="encrypted large values (photos, files) named by record id",
    erasure="deleted with their records (the data key is shredded first)",
    fast_check="records",
)
