"""
Region routing: one database (and one blob folder) per region, plus the control database.

Engines are opened on first use and migrated to the newest schema, so a region nobody
lives in costs nothing.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import Engine

from charter.config import Settings
from charter.store import migrate
from charter.store.engines import make_engine

CONTROL = "_control"


class RegionStores:
    """The databases of a deployment, by region id."""

    def __init__(self, settings: Settings, regions: tuple[str, ...]) -> None:
        self.settings = settings
        self.regions = regions
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def _open(self, key: str, url: str) -> Engine:
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                if url.startswith("sqlite"):
                    path = url.split(":///", 1)[1]
                    Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                engine = make_engine(url)
                migrate.upgrade(engine)
                self._engines[key] = engine
            return engine

    def control(self) -> Engine:
        """The control database (API keys, tokens, subject directory)."""
        return self._open(CONTROL, self.settings.control_database_url())

    def region(self, region: str) -> Engine:
        """The database of one region."""
        if region not in self.regions:
            raise KeyError(region)
        return self._open(region, self.settings.region_url(region))

    def opened(self) -> dict[str, Engine]:
        """Every engine opened so far, by region (the control database as ``_control``)."""
        return dict(self._engines)

    def blob_dir(self, region: str) -> Path:
        """The blob folder of a region (created 0700 on first use)."""
        path = self.settings.blob_dir(region)
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def dispose(self) -> None:
        """Close every connection pool."""
        with self._lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
