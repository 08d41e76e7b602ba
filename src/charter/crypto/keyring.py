"""
The keyring: versioned key-encryption keys (KEKs) and the server secrets.

A keyring holds

* KEKs, 32 random bytes each, numbered 1, 2, 3, ...; the highest live one is *current* and
  wraps every new data key (see :mod:`charter.crypto.envelope`). Older ones stay to unwrap
  data keys that have not been rewrapped yet, until :meth:`Keyring.retire` destroys them.
* ``hmac_key``: the key of :func:`charter.crypto.hashing.keyed_hash`.
* ``pepper``: a server-side secret mixed into password hashes (kept for the password layer).

It lives in a JSON file (``charter init`` makes ``<data_dir>/keyring.json``) or, for
deployments that inject secrets, in the environment variable ``CHARTER_KEYRING`` holding the
same JSON, base64url-encoded. The file format::

    {"charter_keyring": 1, "current": 2,
     "keks": {"1": null, "2": "<base64url, 32 bytes>"},
     "hmac_key": "<base64url, 32 bytes>", "pepper": "<base64url, 32 bytes>"}

A ``null`` KEK has been retired (destroyed); its number is never reused.

Files are created ``0600`` (never through a window where they are readable by others),
changed only by writing a temporary file, fsyncing it and renaming it over the old one, and
refused on load when group or others may read them. Error messages name the file and the
problem, never key material. ``repr`` shows versions only, and a keyring cannot be pickled.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import secrets
import stat
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import NoReturn, SupportsIndex

from charter.errors import ConfigError, InputError, IntegrityError

__all__ = [
    "DEFAULT_FILENAME",
    "ENV_VAR",
    "KEY_BYTES",
    "MAX_VERSION",
    "Keyring",
]

KEY_BYTES = 32
"""Length of every KEK, of the HMAC key and of the pepper."""

ENV_VAR = "CHARTER_KEYRING"
"""Environment variable that, when set and non-empty, holds the keyring (base64url JSON)."""

DEFAULT_FILENAME = "keyring.json"
"""Name of the keyring file inside the data directory."""

MAX_VERSION = 0xFFFF_FFFF
"""Highest KEK version; wrapped data keys carry the version in 4 bytes."""

_FORMAT = 1
_MAX_FILE_BYTES = 1 << 20
_UNSAFE_MODE_BITS = stat.S_IRWXG | stat.S_IRWXO


@dataclass(frozen=True, slots=True)
class _State:
    """One immutable snapshot of a keyring; replaced whole, never changed in place."""

    keks: Mapping[int, bytes | None]
    current: int
    hmac_key: bytes
    pepper: bytes

    def document(self) -> dict[str, object]:
        return {
            "charter_keyring": _FORMAT,
            "current": self.current,
            "keks": {
                str(v): (None if k is None else _b64encode(k)) for v, k in sorted(self.keks.items())
            },
            "hmac_key": _b64encode(self.hmac_key),
            "pepper": _b64encode(self.pepper),
        }

    def serialize(self) -> bytes:
        return (json.dumps(self.document(), indent=2) + "\n").encode("ascii")


def _fresh_state() -> _State:
    return _State(
        keks=MappingProxyType({1: secrets.token_bytes(KEY_BYTES)}),
        current=1,
        hmac_key=secrets.token_bytes(KEY_BYTES),
        pepper=secrets.token_bytes(KEY_BYTES),
    )


class Keyring:
    """Versioned key-encryption keys (KEKs, 32 random bytes each) plus the server secrets
    (HMAC key for keyed hashes, and a spare 'pepper' for passwords later).

    Build one with :meth:`create`, :meth:`load`, :meth:`from_env`, :meth:`load_default` or,
    for tests and throw-away use, :meth:`generate` (memory only). Safe to share between
    threads: readers see one consistent snapshot, and :meth:`rotate` / :meth:`retire` are
    serialised, in-process by a lock and across processes by ``flock`` on a ``.lock`` file
    next to the keyring, and refuse to write if the file changed since it was loaded.
    """

    __slots__ = ("__weakref__", "_lock", "_path", "_source", "_state")

    def __init__(self, state: _State, *, path: Path | None, source: str) -> None:
        self._state = state
        self._path = path
        self._source = source
        self._lock = threading.RLock()

    # --- construction ---------------------------------------------------------------

    @classmethod
    def create(cls, path: Path) -> Keyring:
        """Create a new keyring file at ``path``: KEK version 1, an HMAC key and a pepper.

        The file is written with mode ``0600`` under a temporary name and linked into place,
        so it never exists half-written and an existing keyring is never overwritten
        (:class:`ConfigError`). A missing parent directory is created ``0700``.
        """
        path = Path(path)
        if path.exists() or path.is_symlink():
            raise ConfigError(f"refusing to overwrite the existing keyring {path}")
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True)
        state = _fresh_state()
        _write_new_file(path, state.serialize())
        return cls(state, path=path, source=f"file:{path}")

    @classmethod
    def load(cls, path: Path) -> Keyring:
        """Load the keyring file at ``path``.

        Refuses (:class:`ConfigError`) a missing or non-regular file, a file that group or
        others may access (the message says to ``chmod 600`` it), and malformed content.
        """
        path = Path(path)
        state = _parse(_read_private_file(path), where=f"keyring {path}")
        return cls(state, path=path, source=f"file:{path}")

    @classmethod
    def from_env(cls, value: str) -> Keyring:
        """Load a keyring from the value of ``CHARTER_KEYRING``: the file's JSON, base64url.

        Padding and surrounding whitespace are optional. Such a keyring cannot be rotated or
        retired in place (there is no file to persist to): rotate a file keyring and
        re-export it with :meth:`export_env_value`.
        """
        where = f"the {ENV_VAR} environment variable"
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            raise ConfigError(f"{where} is empty")
        try:
            raw = _b64decode(text)
        except ValueError:
            raise ConfigError(f"{where} is not base64url-encoded keyring JSON") from None
        return cls(_parse(raw, where=where), path=None, source=f"env:{ENV_VAR}")

    @classmethod
    def load_default(cls, data_dir: Path, *, environ: Mapping[str, str] | None = None) -> Keyring:
        """``CHARTER_KEYRING`` if set and non-empty, else ``data_dir / "keyring.json"``.

        ``environ`` defaults to :data:`os.environ` (pass a mapping in tests).
        """
        env = os.environ if environ is None else environ
        value = env.get(ENV_VAR, "")
        if value.strip():
            return cls.from_env(value)
        return cls.load(Path(data_dir) / DEFAULT_FILENAME)

    @classmethod
    def generate(cls) -> Keyring:
        """A new keyring held in memory only (tests, throw-away tools). Never persisted."""
        return cls(_fresh_state(), path=None, source="memory")

    # --- reading ----------------------------------------------------------------------

    @property
    def current_version(self) -> int:
        """The KEK version that wraps new data keys."""
        return self._state.current

    @property
    def versions(self) -> tuple[int, ...]:
        """Live (not retired) KEK versions, ascending."""
        return tuple(sorted(v for v, k in self._state.keks.items() if k is not None))

    @property
    def retired_versions(self) -> tuple[int, ...]:
        """Retired (destroyed) KEK versions, ascending."""
        return tuple(sorted(v for v, k in self._state.keks.items() if k is None))

    @property
    def path(self) -> Path | None:
        """The keyring file, or ``None`` for an environment or in-memory keyring."""
        return self._path

    def kek(self, version: int) -> bytes:
        """The KEK of ``version``; :class:`IntegrityError` if unknown or retired.

        Codes: ``kek_unknown``, ``kek_destroyed``.
        """
        return _kek_of(self._state, version)

    def current_kek(self) -> tuple[int, bytes]:
        """``(version, kek)`` of the current KEK, read from one consistent snapshot."""
        state = self._state
        return state.current, _kek_of(state, state.current)

    @property
    def hmac_key(self) -> bytes:
        """Key for :func:`charter.crypto.hashing.keyed_hash` (32 bytes)."""
        return self._state.hmac_key

    @property
    def pepper(self) -> bytes:
        """Server-side secret for password hashing (32 bytes)."""
        return self._state.pepper

    # --- changing ---------------------------------------------------------------------

    def rotate(self) -> int:
        """Add KEK version n+1, make it current, persist; return the new version.

        Older KEKs stay live (old data keys remain readable) until rewrapped and retired.
        Version numbers are never reused, even after retirement.
        """
        with self._lock, self._file_lock():
            state = self._state
            new_version = max(state.keks) + 1
            if new_version > MAX_VERSION:
                raise ConfigError("the keyring has run out of KEK version numbers")
            keks = dict(state.keks)
            keks[new_version] = secrets.token_bytes(KEY_BYTES)
            self._commit(_State(MappingProxyType(keks), new_version, state.hmac_key, state.pepper))
            return new_version

    def retire(self, version: int) -> None:
        """Destroy the KEK of an old ``version`` and persist.

        Refuses the current version and unknown versions (:class:`InputError`); retiring an
        already retired version does nothing. Rewrap every data key off ``version`` first
        (count them with :func:`charter.crypto.envelope.wrapped_version`): afterwards the
        data keys still wrapped under it, and the data they protect, are unrecoverable.
        """
        with self._lock, self._file_lock():
            state = self._state
            if isinstance(version, bool) or not isinstance(version, int):
                raise InputError("the KEK version must be an integer", field="version")
            if version not in state.keks:
                raise InputError(
                    f"KEK version {version} is not in the keyring",
                    code="kek_unknown",
                    field="version",
                )
            if version == state.current:
                raise InputError(
                    f"KEK version {version} is current; rotate before retiring it",
                    code="kek_current",
                    field="version",
                )
            if state.keks[version] is None:
                return
            keks = dict(state.keks)
            keks[version] = None
            self._commit(
                _State(MappingProxyType(keks), state.current, state.hmac_key, state.pepper)
            )

    def reload(self) -> None:
        """Re-read the keyring file (after another process rotated or retired)."""
        if self._path is None:
            raise ConfigError(f"a keyring from {self._source} has no file to reload")
        with self._lock:
            self._state = _parse(_read_private_file(self._path), where=f"keyring {self._path}")

    def export_env_value(self) -> str:
        """The value to put in ``CHARTER_KEYRING`` for this keyring.

        It *is* the key material: send it only to a secret store, never to logs.
        """
        return base64.urlsafe_b64encode(self._state.serialize()).decode("ascii").rstrip("=")

    # --- persistence ------------------------------------------------------------------

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        if self._path is None:
            if self._source != "memory":
                raise ConfigError(
                    f"a keyring from {self._source} cannot be changed in place: rotate or "
                    f"retire in the keyring file, then export it with `export_env_value`"
                )
            yield
            return
        lock_path = self._path.with_name(self._path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def _commit(self, new: _State) -> None:
        """Persist ``new`` (compare-and-swap against the file) then make it the state."""
        if self._path is not None:
            where = f"keyring {self._path}"
            on_disk = _parse(_read_private_file(self._path), where=where)
            if on_disk != self._state:
                raise ConfigError(
                    f"{where} changed since it was loaded (another process rotated or "
                    f"retired a key); reload it and try again"
                )
            _replace_file(self._path, new.serialize())
        self._state = new

    # --- safety -----------------------------------------------------------------------

    def __repr__(self) -> str:
        return (
            f"Keyring(source={self._source!r}, current_version={self.current_version}, "
            f"versions={self.versions}, retired={self.retired_versions})"
        )

    __str__ = __repr__

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        raise TypeError("a Keyring holds key material and cannot be pickled or copied")


# --- helpers ------------------------------------------------------------------------------


def _kek_of(state: _State, version: int) -> bytes:
    if version not in state.keks:
        raise IntegrityError(f"KEK version {version} is not in the keyring", code="kek_unknown")
    kek = state.keks[version]
    if kek is None:
        raise IntegrityError(f"KEK version {version} has been destroyed", code="kek_destroyed")
    return kek


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    """Strict base64url (padding optional); ``ValueError`` on anything else."""
    if not text.isascii():
        raise ValueError("not ASCII")
    cleaned = text.rstrip("=")
    if "+" in cleaned or "/" in cleaned:
        raise ValueError("not base64url")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), altchars=b"-_", validate=True)
    except binascii.Error:
        raise ValueError("not base64url") from None


def _parse(raw: bytes, *, where: str) -> _State:
    """Parse and validate keyring JSON; every error names ``where``, never a value."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{where} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{where} is not valid JSON (line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{where} must hold a JSON object")
    if doc.get("charter_keyring") != _FORMAT:
        raise ConfigError(f"{where}: 'charter_keyring' must be {_FORMAT} (format version)")
    unknown = set(doc) - {"charter_keyring", "current", "keks", "hmac_key", "pepper"}
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {sorted(unknown)}")

    def key(value: object, name: str) -> bytes:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {name} must be a base64url string")
        try:
            data = _b64decode(value)
        except ValueError:
            raise ConfigError(f"{where}: {name} is not valid base64url") from None
        if len(data) != KEY_BYTES:
            raise ConfigError(f"{where}: {name} must be {KEY_BYTES} bytes")
        return data

    raw_keks = doc.get("keks")
    if not isinstance(raw_keks, dict) or not raw_keks:
        raise ConfigError(f"{where}: 'keks' must be a non-empty object")
    keks: dict[int, bytes | None] = {}
    for name, value in raw_keks.items():
        if not (name.isascii() and name.isdigit()) or name != str(int(name)):
            raise ConfigError(f"{where}: KEK version {name!r} is not a positive integer")
        version = int(name)
        if not 1 <= version <= MAX_VERSION:
            raise ConfigError(f"{where}: KEK version {version} is out of range")
        keks[version] = None if value is None else key(value, f"KEK {version}")
    current = doc.get("current")
    if isinstance(current, bool) or not isinstance(current, int):
        raise ConfigError(f"{where}: 'current' must be an integer")
    if keks.get(current) is None:
        raise ConfigError(f"{where}: current KEK version {current} is missing or retired")
    if current != max(keks):
        raise ConfigError(f"{where}: current KEK version {current} is not the newest")
    return _State(
        keks=MappingProxyType(keks),
        current=current,
        hmac_key=key(doc.get("hmac_key"), "'hmac_key'"),
        pepper=key(doc.get("pepper"), "'pepper'"),
    )


def _read_private_file(path: Path) -> bytes:
    """Read ``path`` after checking, on the open descriptor, that only its owner can."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ConfigError(
            f"no keyring at {path}; create one with `charter init` or set {ENV_VAR}"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot open keyring {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"keyring {path} is not a regular file")
        if info.st_mode & _UNSAFE_MODE_BITS:
            mode = stat.S_IMODE(info.st_mode)
            raise ConfigError(
                f"keyring {path} is accessible by group or others (mode {mode:04o}); "
                f"run: chmod 600 {path}"
            )
        if info.st_size > _MAX_FILE_BYTES:
            raise ConfigError(f"keyring {path} is implausibly large")
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(directory: Path, stem: str, data: bytes) -> Path:
    """Write ``data`` to a new ``0600`` temporary file in ``directory``, fsynced."""
    tmp = directory / f".{stem}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return tmp


def _write_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` atomically with ``data``; :class:`ConfigError` if it exists."""
    tmp = _write_temp(path.parent, path.name, data)
    try:
        os.link(tmp, path)  # atomic, and fails if path exists
    except FileExistsError:
        raise ConfigError(f"refusing to overwrite the existing keyring {path}") from None
    except OSError:
        # Filesystem without hard links: fall back to O_EXCL on the final name.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            raise ConfigError(f"refusing to overwrite the existing keyring {path}") from None
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _replace_file(path: Path, data: bytes) -> None:
    """Atomically replace ``path`` with ``data`` (temp file, fsync, rename, fsync dir)."""
    tmp = _write_temp(path.parent, path.name, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
