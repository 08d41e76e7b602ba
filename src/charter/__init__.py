"""
Charter: a privacy-by-design personal-data platform.

Services declare what they collect, why, how it is protected and how long it is kept (the
catalog); one gate enforces it on every write and read. The public names::

    from charter import Charter, Settings, Event

    charter = Charter.open(Settings.from_env())
    charter.gate.collect([Event(subject_id, "cloud", "notes", Purpose.APP_FUNCTIONALITY, "...")],
                         actor="service:cloud")

Names are imported on first use, so ``import charter.photos`` (a library of its own) does
not load the rest.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from charter.app import Charter
    from charter.config import Settings
    from charter.errors import (
        AuthError,
        CatalogError,
        CharterError,
        ConfigError,
        InputError,
        IntegrityError,
        NotFoundError,
        Problem,
        RefusedError,
    )
    from charter.gate import Event, RecordOut, Subject

__version__ = "0.1.0"

_WHERE = {
    "Charter": "charter.app",
    "Settings": "charter.config",
    "Event": "charter.gate",
    "Subject": "charter.gate",
    "RecordOut": "charter.gate",
    "CharterError": "charter.errors",
    "CatalogError": "charter.errors",
    "ConfigError": "charter.errors",
    "InputError": "charter.errors",
    "RefusedError": "charter.errors",
    "NotFoundError": "charter.errors",
    "AuthError": "charter.errors",
    "IntegrityError": "charter.errors",
    "Problem": "charter.errors",
}

__all__ = [
    "AuthError",
    "CatalogError",
    "Charter",
    "CharterError",
    "ConfigError",
    "Event",
    "InputError",
    "IntegrityError",
    "NotFoundError",
    "Problem",
    "RecordOut",
    "RefusedError",
    "Settings",
    "Subject",
    "__version__",
]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'charter' has no attribute {name!r}")
    value = getattr(import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
