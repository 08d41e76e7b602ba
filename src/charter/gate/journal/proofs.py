"""
What the log gives an outside auditor: its signed tree head and RFC 6962 proofs against
such heads. See ``docs/audit.md``.

:func:`tree_head` verifies the log and signs its current head, never one over a log that
fails verification. :func:`inclusion_proof` and :func:`consistency_proof` let an auditor
check a single entry, or that the log only grew between two heads, without reading the
whole log; :func:`verify_inclusion_proof` and :func:`verify_consistency_proof` check them.
Proofs stream the hashes they need once, in constant memory; the tree itself is
:mod:`charter.gate.journal.merkle`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from charter.errors import InputError, IntegrityError
from charter.gate.journal import merkle
from charter.gate.journal.chain import (
    CHUNK_SIZE,
    HEX_DIGITS,
    check_chunk_size,
    stream_leaf_hashes,
)
from charter.gate.journal.treehead import SignedTreeHead, head_signature
from charter.gate.journal.verify import verify_chain
from charter.store.schema import audit_log

__all__ = [
    "consistency_proof",
    "inclusion_proof",
    "tree_head",
    "verify_consistency_proof",
    "verify_inclusion_proof",
]


# --------------------------------------------------------------------------- tree heads


def tree_head(
    conn: sa.Connection, key: bytes, at: int, *, chunk_size: int = CHUNK_SIZE
) -> SignedTreeHead:
    """
    Sign the current head of the log: size and Merkle root over all entries' hashes.

    The log is verified in the same pass (one streaming read); a head is never signed over
    a log that fails verification.

    Args:
        conn: a connection; use one transaction for a consistent view of a busy log.
        key: the HMAC key (the keyring's ``hmac_key``).
        at: the time of the head, microseconds since the epoch.

    Raises:
        IntegrityError: the log fails verification (the message lists the first problems).
        InputError: ``key`` is shorter than 16 bytes.
    """
    report = verify_chain(conn, chunk_size=chunk_size, max_problems=5)
    if not report.ok:
        raise IntegrityError(
            "the audit log failed verification; no tree head was signed: "
            + "; ".join(report.problems)
        )
    root = bytes.fromhex(report.root)
    return SignedTreeHead(
        size=report.entries,
        root=report.root,
        at=at,
        signature=head_signature(key, report.entries, root, at),
    )


# --------------------------------------------------------------------------- proofs


def _check_size(conn: sa.Connection, size: int, what: str) -> None:
    if type(size) is not int or size < 0:
        raise InputError(f"{what} must be a non-negative integer", field=what)
    count = conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one()
    if size > count:
        raise InputError(f"{what} {size} is larger than the log ({count} entries)", field=what)


def inclusion_proof(
    conn: sa.Connection, seq: int, size: int, *, chunk_size: int = CHUNK_SIZE
) -> list[str]:
    """
    The inclusion proof (hex) of entry ``seq`` in the tree over the first ``size`` entries.

    Leaf index ``seq - 1``; check it with :func:`verify_inclusion_proof`. Streams the first
    ``size`` hashes once, constant memory.

    Raises:
        InputError: ``seq`` is not in ``1..size`` or the log has fewer than ``size`` entries.
    """
    check_chunk_size(chunk_size)
    _check_size(conn, size, "size")
    if type(seq) is not int or not 1 <= seq <= size:
        raise InputError(f"entry {seq} is not in a tree of {size} entries", field="seq")
    ranges = merkle.inclusion_ranges(seq - 1, size)
    stream = stream_leaf_hashes(conn, size, chunk_size)
    return [h.hex() for h in merkle.subtree_roots(ranges, stream)]


def consistency_proof(
    conn: sa.Connection, old_size: int, new_size: int, *, chunk_size: int = CHUNK_SIZE
) -> list[str]:
    """
    The consistency proof (hex) between the trees over the first ``old_size`` and the first
    ``new_size`` entries; check it with :func:`verify_consistency_proof`.

    Raises:
        InputError: not ``0 <= old_size <= new_size <= entries``.
    """
    check_chunk_size(chunk_size)
    _check_size(conn, new_size, "new_size")
    if type(old_size) is not int or not 0 <= old_size <= new_size:
        raise InputError(
            f"no consistency proof from {old_size} to {new_size} entries", field="old_size"
        )
    ranges = merkle.consistency_ranges(old_size, new_size)
    stream = stream_leaf_hashes(conn, new_size, chunk_size)
    return [h.hex() for h in merkle.subtree_roots(ranges, stream)]


def _from_hex(values: Sequence[str]) -> list[bytes] | None:
    out: list[bytes] = []
    for value in values:
        if not (isinstance(value, str) and len(value) == 64 and set(value.lower()) <= HEX_DIGITS):
            return None
        out.append(bytes.fromhex(value))
    return out


def verify_inclusion_proof(
    hash_hex: str, seq: int, size: int, proof: Sequence[str], root_hex: str
) -> bool:
    """
    Check that the entry with hash ``hash_hex`` is entry ``seq`` of the tree of ``size``
    entries with root ``root_hex`` (e.g. a witnessed head's). ``False`` for anything
    malformed; never raises.
    """
    parts = _from_hex([hash_hex, root_hex])
    path = _from_hex(proof) if not isinstance(proof, str) else None
    if parts is None or path is None or type(seq) is not int:
        return False
    return merkle.verify_inclusion(parts[0], seq - 1, size, path, parts[1])


def verify_consistency_proof(
    old: SignedTreeHead, new: SignedTreeHead, proof: Sequence[str]
) -> bool:
    """
    Check that head ``new`` extends head ``old`` (the log only grew). Signatures are not
    checked here (use :func:`~charter.gate.journal.treehead.verify_tree_head`). ``False``
    for anything malformed.
    """
    roots = _from_hex([old.root, new.root])
    path = _from_hex(proof) if not isinstance(proof, str) else None
    if roots is None or path is None:
        return False
    return merkle.verify_consistency(old.size, new.size, roots[0], roots[1], path)
