"""
Private spaces: each a separate encrypted database with a random key of its own. That key
is kept only wrapped (AES-256-GCM) under a key derived from the space's credential with
argon2id, so switching into a space needs its credential; deleting the space destroys the
wrapped key (and the files), after which nothing of it can be read.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from charter.clock import Clock
from charter.device.access import Notify
from charter.device.db import Connection
from charter.device.space import OWNER, Space
from charter.errors import AuthError, InputError, NotFoundError

NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
ARGON = {"time_cost": 2, "memory_cost": 19_456, "parallelism": 1, "hash_len": 32}


def derive(credential: str, salt: bytes) -> bytes:
    """The key-encryption key of a credential (argon2id)."""
    return hash_secret_raw(credential.encode(), salt, type=Type.ID, **ARGON)


class Spaces:
    """The private spaces of a device, recorded in the owner's database."""

    def __init__(self, owner: Connection, folder: Path, clock: Clock) -> None:
        self.owner = owner
        self.folder = folder
        self.clock = clock

    def names(self) -> list[str]:
        """The private spaces."""
        return [r[0] for r in self.owner.execute("select name from spaces order by name")]

    def create(self, name: str, credential: str) -> None:
        """
        Make a private space with its own key, wrapped under its credential.

        Raises:
            InputError: a bad name, a credential under 6 characters, or the name is taken.
        """
        if not NAME.match(name) or name == OWNER:
            raise InputError(
                "a space name is 1-32 lowercase letters, digits, - or _ (not 'owner')",
                field="space",
            )
        if len(credential) < 6:
            raise InputError("a space's credential has at least 6 characters", field="credential")
        if name in self.names():
            raise InputError("a space with this name exists", field="space")
        key, salt, nonce = secrets.token_bytes(32), os.urandom(16), os.urandom(12)
        wrapped = AESGCM(derive(credential, salt)).encrypt(nonce, key, name.encode())
        self.owner.execute(
            "insert into spaces (name, salt, nonce, wrapped, created_at) values (?, ?, ?, ?, ?)",
            (name, salt, nonce, wrapped, self.clock()),
        )

    def path(self, name: str) -> Path:
        """The space's database file."""
        return self.folder / f"{name}.db"

    def unlock(self, name: str, credential: str) -> bytes:
        """
        The space's key.

        Raises:
            NotFoundError: no such space.
            AuthError: the credential is wrong (``wrong_credential``).
        """
        row = self.owner.execute(
            "select salt, nonce, wrapped from spaces where name = ?", (name,)
        ).fetchone()
        if row is None:
            raise NotFoundError("no such space", field="space")
        try:
            return AESGCM(derive(credential, bytes(row[0]))).decrypt(
                bytes(row[1]), bytes(row[2]), name.encode()
            )
        except InvalidTag:
            raise AuthError("wrong credential for this space", code="wrong_credential") from None

    def open(self, name: str, credential: str, notify: Notify | None = None) -> Space:
        """Switch into a space: needs its credential."""
        return Space(name, self.path(name), self.unlock(name, credential), self.clock, notify)

    def delete(self, name: str) -> None:
        """
        Delete a space: its wrapped key first (nothing can be read after), then its files.

        Raises:
            NotFoundError: no such space.
        """
        if self.owner.execute("delete from spaces where name = ?", (name,)).rowcount == 0:
            raise NotFoundError("no such space", field="space")
        base = self.path(name)
        for suffix in ("", "-wal", "-shm"):
            f = base.with_name(base.name + suffix)
            if f.exists():
                f.unlink()
