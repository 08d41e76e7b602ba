"""
Signed tree heads and the witness file. See ``docs/audit.md``.

A :class:`SignedTreeHead` is the RFC 6962 Merkle root over the first ``size`` entries'
hashes, signed with the server's HMAC key (:func:`head_signature`). Kept outside the
database (:func:`write_witness`, :func:`read_witness`), it lets
:func:`~charter.gate.journal.verify.verify_chain` detect what the hash chain alone cannot:
a log whose tail was cut off, or one rewritten by someone able to recompute every hash.
:func:`verify_tree_head` checks a head's signature and form. Heads are made from the log
by :func:`~charter.gate.journal.proofs.tree_head`.
"""

from __future__ import annotations

import hmac
import json
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

from charter.crypto.hashing import encode_parts, keyed_hash
from charter.errors import IntegrityError
from charter.gate.journal.chain import HEX_DIGITS

__all__ = ["SignedTreeHead", "read_witness", "verify_tree_head", "write_witness"]

STH_CONTEXT = "audit.sth"
"""The :func:`~charter.crypto.keyed_hash` context of tree head signatures."""

_STH_DOMAIN = b"charter.audit.sth.v1"
_WITNESS_VERSION = 1
_U64 = struct.Struct(">Q")
_I64 = struct.Struct(">q")


@dataclass(frozen=True)
class SignedTreeHead:
    """
    A Merkle root over the first ``size`` entries' hashes, signed with the HMAC key.

    Attributes:
        size: number of entries covered.
        root: hex Merkle root (RFC 6962) whose leaves are the entries' hashes as bytes.
        at: when the head was made, microseconds since the epoch.
        signature: hex HMAC-SHA-256 over the canonical encoding of the three fields above.
    """

    size: int
    root: str
    at: int
    signature: str


# --------------------------------------------------------------------------- signatures


def _sth_message(size: int, root: bytes, at: int) -> bytes:
    return encode_parts(_STH_DOMAIN, _U64.pack(size), root, _I64.pack(at))


def head_signature(key: bytes, size: int, root: bytes, at: int) -> str:
    """The hex signature of a head of ``size`` entries with Merkle ``root`` made at ``at``.

    Raises:
        InputError: ``key`` is shorter than 16 bytes.
    """
    return keyed_hash(key, _sth_message(size, root, at), context=STH_CONTEXT).hex()


def _is_hex64(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= HEX_DIGITS


def is_well_formed(sth: object) -> bool:
    """A head with fields of the right types and ranges (lower-case hex root and signature)."""
    if not isinstance(sth, SignedTreeHead):
        return False
    size, at = sth.size, sth.at
    return (
        type(size) is int
        and 0 <= size < 2**64
        and type(at) is int
        and -(2**63) <= at < 2**63
        and _is_hex64(sth.root)
        and _is_hex64(sth.signature)
    )


def verify_tree_head(sth: SignedTreeHead, key: bytes) -> bool:
    """
    Check a signed tree head's signature and form; ``False`` for anything malformed.

    Raises:
        InputError: ``key`` is shorter than 16 bytes (a configuration error, not tampering).
    """
    if not is_well_formed(sth):
        return False
    expected = head_signature(key, sth.size, bytes.fromhex(sth.root), sth.at)
    return hmac.compare_digest(expected, sth.signature)


# --------------------------------------------------------------------------- witness file


def write_witness(path: Path, sth: SignedTreeHead) -> None:
    """
    Save ``sth`` as a small JSON file, atomically and private (mode ``0600``).

    Written to a temporary file in the same directory, fsynced, then renamed over ``path``
    with :func:`os.replace`, and the directory fsynced, so a crash leaves either the old or
    the new head, never half of one. The file should live outside the database's reach (or
    be copied off the machine): it is what truncation is checked against.
    """
    path = Path(path)
    document = {
        "version": _WITNESS_VERSION,
        "size": sth.size,
        "root": sth.root,
        "at": sth.at,
        "signature": sth.signature,
    }
    data = (json.dumps(document, sort_keys=True, indent=2) + "\n").encode("ascii")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_witness(path: Path) -> SignedTreeHead | None:
    """
    Load the witnessed head saved by :func:`write_witness`; ``None`` if there is no file.

    The signature is not checked here; :func:`~charter.gate.journal.verify.verify_chain`
    checks it when given the key.

    Raises:
        IntegrityError: the file exists but is not a well-formed witness.
    """
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise IntegrityError(f"the witness file {path} is not valid JSON") from None
    if not isinstance(document, dict) or set(document) != {
        "version",
        "size",
        "root",
        "at",
        "signature",
    }:
        raise IntegrityError(f"the witness file {path} does not have the expected fields")
    size, root, at, signature = (
        document["size"],
        document["root"],
        document["at"],
        document["signature"],
    )
    sth = SignedTreeHead(size=size, root=root, at=at, signature=signature)
    if document["version"] != _WITNESS_VERSION or not is_well_formed(sth):
        raise IntegrityError(f"the witness file {path} is malformed")
    return sth
