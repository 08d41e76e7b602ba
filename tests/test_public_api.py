"""The public names of the ``charter`` package are pinned: changing them is a decision."""

from __future__ import annotations

import subprocess
import sys

import charter
from charter.app import Charter
from charter.config import Settings
from charter.errors import CharterError
from charter.gate import Event, RecordOut, Subject

PUBLIC = {
    "AuthError", "CatalogError", "Charter", "CharterError", "ConfigError", "Event",
    "InputError", "IntegrityError", "NotFoundError", "Problem", "RecordOut", "RefusedError",
    "Settings", "Subject", "__version__",
}  # fmt: skip


def test_all_is_pinned() -> None:
    assert set(charter.__all__) == PUBLIC


def test_every_public_name_resolves_to_its_home() -> None:
    assert charter.Charter is Charter
    assert charter.Settings is Settings
    assert (charter.Event, charter.Subject, charter.RecordOut) == (Event, Subject, RecordOut)
    for name in PUBLIC - {"__version__", "Problem"}:
        value = getattr(charter, name)
        assert isinstance(value, type), name
    errors = [getattr(charter, n) for n in PUBLIC if n.endswith("Error")]
    assert all(issubclass(e, CharterError) for e in errors)


def test_unknown_names_are_attribute_errors() -> None:
    try:
        _ = charter.NoSuchThing  # type: ignore[attr-defined]
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("charter.NoSuchThing resolved")


def test_the_photo_library_loads_nothing_else() -> None:
    code = (
        "import sys, charter.photos; "
        "loaded = sorted(m for m in sys.modules if m.startswith('charter.') "
        "and not m.startswith('charter.photos')); print(loaded)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
