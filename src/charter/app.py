"""
The ``Charter`` object: one place that wires settings, catalog, keys, databases and the gate.

The HTTP API, the CLI and the tests all build it the same way::

    charter = Charter.open(Settings.from_env())
    charter.gate.collect([...], actor="service:cloud")
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from charter.catalog import Catalog, load_catalog
from charter.config import Settings
from charter.crypto import Keyring
from charter.errors import ConfigError
from charter.gate.core import Clock, Gate
from charter.policy import CompiledCatalog, compile_catalog
from charter.store.regions import RegionStores


def system_clock() -> int:
    """Now, in microseconds since the Unix epoch."""
    return time.time_ns() // 1000


@dataclass
class Charter:
    """A running Charter deployment."""

    settings: Settings
    catalog: Catalog
    compiled: CompiledCatalog
    keyring: Keyring
    stores: RegionStores
    gate: Gate
    clock: Clock
    erasure_hooks: list[Callable[[Charter, str], int]] = field(default_factory=list)
    """Run first when an account is deleted: services erase the state they keep outside
    the gate (account sessions, staff roles, ...). Each returns the rows it removed."""

    @classmethod
    def open(
        cls, settings: Settings, *, clock: Clock = system_clock, keyring: Keyring | None = None
    ) -> Charter:
        """
        Open a deployment: load and compile the catalog, load the keyring, route regions.

        Raises:
            CatalogError: the catalog is invalid.
            ConfigError: no keyring (run ``charter init``) or unsafe database settings.
        """
        catalog = load_catalog(settings.catalog_path)
        compiled = compile_catalog(catalog)
        if keyring is None:
            keyring = Keyring.load_default(settings.data_dir)
        stores = RegionStores(settings, tuple(catalog.regions))
        gate = Gate(catalog, compiled, keyring, stores, clock)
        charter = cls(settings, catalog, compiled, keyring, stores, gate, clock)
        from charter.rights.consent import ConsentBook  # noqa: PLC0415 - rights builds on Charter

        gate.collect_guard = ConsentBook(charter).reconsent_guard
        charter.erasure_hooks += [_forget_account_rows, _forget_web_rows]
        return charter

    @staticmethod
    def init(data_dir: Path) -> Path:
        """
        Create the data directory (0700) and a new keyring in it (0600).

        Returns:
            The keyring path.

        Raises:
            ConfigError: a keyring already exists there.
        """
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = data_dir / "keyring.json"
        if path.exists():
            raise ConfigError(f"{path} already exists; Charter never overwrites a keyring")
        Keyring.create(path)
        return path

    def close(self) -> None:
        """Close every database connection."""
        self.stores.dispose()


def _forget_account_rows(charter: Charter, subject_id: str) -> int:
    from charter.services.account.erasure import forget_account_rows  # noqa: PLC0415 - lazy

    return forget_account_rows(charter, subject_id)


def _forget_web_rows(charter: Charter, subject_id: str) -> int:
    from charter.web.tables import forget_subject  # noqa: PLC0415 - lazy

    return forget_subject(charter, subject_id)
