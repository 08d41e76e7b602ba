"""
Where a device keeps the key of its encrypted store: the OS keyring when there is one (the
``keyring`` package with a real backend), else a key file readable by its owner only (0600)
under the device's data directory. Keys are 32 random bytes; nothing else is kept here.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Protocol

from charter.errors import ConfigError

KEY_BYTES = 32
KEYRING_SERVICE = "charter-device"


class KeyStore(Protocol):
    """Named keys of one device."""

    where: str

    def get(self, name: str) -> bytes | None:
        """The key, or None when there is none."""
        ...

    def put(self, name: str, key: bytes) -> None:
        """Keep a key."""
        ...

    def delete(self, name: str) -> None:
        """Forget a key (nothing encrypted with it can be read again)."""
        ...


class FileKeys:
    """Key files (mode 0600) in ``<data_dir>/keys``."""

    where = "file"

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / "keys"

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.key"

    def get(self, name: str) -> bytes | None:
        path = self._path(name)
        if not path.exists():
            return None
        if path.stat().st_mode & 0o077:
            raise ConfigError(
                f"the key file {path.name} can be read by others; run chmod 600 on it",
                field="keys",
            )
        key = bytes.fromhex(path.read_text().strip())
        if len(key) != KEY_BYTES:
            raise ConfigError(f"the key file {path.name} is damaged", field="keys")
        return key

    def put(self, name: str, key: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._path(name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key.hex())
            f.flush()
            os.fsync(f.fileno())

    def delete(self, name: str) -> None:
        path = self._path(name)
        if path.exists():
            size = path.stat().st_size
            with path.open("r+b") as f:  # overwrite before unlinking
                f.write(b"\0" * size)
                f.flush()
                os.fsync(f.fileno())
            path.unlink()


class KeyringKeys:
    """Keys in the OS keyring, one entry per device data directory and name."""

    where = "keyring"

    def __init__(self, data_dir: Path, backend: object) -> None:
        self.backend = backend
        self.prefix = f"{data_dir.resolve()}:"

    def get(self, name: str) -> bytes | None:
        value = self.backend.get_password(KEYRING_SERVICE, self.prefix + name)  # type: ignore[attr-defined]
        return bytes.fromhex(value) if value else None

    def put(self, name: str, key: bytes) -> None:
        self.backend.set_password(KEYRING_SERVICE, self.prefix + name, key.hex())  # type: ignore[attr-defined]

    def delete(self, name: str) -> None:
        if self.get(name) is not None:
            self.backend.delete_password(KEYRING_SERVICE, self.prefix + name)  # type: ignore[attr-defined]


def keys_for(data_dir: Path, *, use_keyring: bool = True) -> KeyStore:
    """The OS keyring when it has a usable backend (and ``use_keyring``), else key files."""
    if use_keyring:
        try:
            import keyring  # noqa: PLC0415 - optional: only where an OS keyring exists
        except ImportError:  # pragma: no cover - keyring is a dependency
            return FileKeys(data_dir)
        backend = keyring.get_keyring()
        if getattr(backend, "priority", 0) > 0 and "fail" not in type(backend).__module__:
            return KeyringKeys(data_dir, backend)
    return FileKeys(data_dir)


def key_of(keys: KeyStore, name: str) -> bytes:
    """The named key, made (random) the first time."""
    key = keys.get(name)
    if key is None:
        key = secrets.token_bytes(KEY_BYTES)
        keys.put(name, key)
    return key
