"""
The gate's tamper-evident audit log: the hash chain in the ``audit_log`` table, and the
reading of it that the other journal modules share. See ``docs/audit.md``.

Each entry's ``hash`` is ``SHA-256(prev_hash + canonical JSON of the entry)``, where
``prev_hash`` is the previous entry's hash (:data:`GENESIS` for the first), so changing,
removing or reordering any entry breaks the chain from there on. Appending happens inside
the caller's transaction, so an entry exists exactly when the change it records commits;
if the audit log cannot be written, the caller's transaction fails (fail-closed).

Rows are read back as :class:`StoredRow` (every column as stored, whatever its type), hashed
byte for byte by :func:`row_hash` and streamed in seq order with keyset pagination
(:func:`stream_rows`, :func:`stream_leaf_hashes`). Checking the chain is
:mod:`charter.gate.journal.verify`; signed tree heads and the witness file are
:mod:`charter.gate.journal.treehead`; inclusion and consistency proofs are
:mod:`charter.gate.journal.proofs`.

Entries must not contain personal data: ``subject_ref`` is a keyed hash the caller
computes and ``detail`` holds codes and counts only. This module cannot tell a personal
value from any other string and does not try; keeping them out is the callers' duty.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from typing import NamedTuple

import sqlalchemy as sa

from charter import crashpoints
from charter.errors import InputError
from charter.gate.journal import merkle
from charter.store.driver_sql import execute, executemany, in_paramstyle
from charter.store.schema import audit_log

__all__ = ["ADVISORY_LOCK_KEY", "GENESIS", "AuditEntry", "append_entries", "entry_hash"]

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""

ADVISORY_LOCK_KEY = 0x6368_6172_6175_6474
"""PostgreSQL advisory lock (``b"charaudt"``) that serialises appenders until commit."""

CHUNK_SIZE = 1000
"""Rows read per query when streaming the log."""

HEX_DIGITS = frozenset("0123456789abcdef")
"""The characters of a stored hash (lower-case hex)."""

_MAX_ACTOR = 80
_MAX_ACTION = 40
_MAX_SUBJECT_REF = 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """
    One audit entry, as callers give it to :func:`append_entries`.

    Attributes:
        at: when it happened, microseconds since the Unix epoch (UTC).
        actor: who acted: ``service:<id>``, ``subject``, ``admin``, ``job:<name>`` (≤ 80).
        action: what happened: ``collect``, ``refuse``, ``use``, ``export``, ``erase``,
            ``switch``, ``admin``, ``purge``, ``rotate`` … (≤ 40 characters).
        subject_ref: keyed hash of the subject id (never the id itself), or ``None``.
        detail: JSON-serialisable mapping of codes and counts; never personal values.
    """

    at: int
    actor: str
    action: str
    subject_ref: str | None
    detail: Mapping[str, object]


class StoredRow(NamedTuple):
    """One ``audit_log`` row as read back: ``seq`` as an int, every other column exactly as
    stored (a tampered row may hold a value of any type)."""

    seq: int
    at: object
    actor: object
    action: object
    subject_ref: object
    detail: object
    prev_hash: object
    hash: object


_COLUMNS = (
    audit_log.c.seq,
    audit_log.c.at,
    audit_log.c.actor,
    audit_log.c.action,
    audit_log.c.subject_ref,
    audit_log.c.detail,
    audit_log.c.prev_hash,
    audit_log.c.hash,
)


# Appending runs on every audited change: its statements are fixed SQL text, sent straight
# to the driver (charter.store.driver_sql: nothing compiled, no execution context per append).
_LAST_ENTRY = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
_LOCK = "SELECT pg_advisory_xact_lock(%s)"
_INSERT = (
    "INSERT INTO audit_log (seq, at, actor, action, subject_ref, detail, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


# --------------------------------------------------------------------------- hashing


_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
)
"""The canonical encoder, made once (``json.dumps`` with these options builds one a call)."""
_quote = encode_basestring_ascii
"""A string as ``json.dumps`` (ASCII only) writes it, in C."""


def _canonical(value: object) -> str:
    return _ENCODER.encode(value)


def entry_hash(prev_hash: str, seq: int, entry: AuditEntry) -> str:
    """
    The hash of entry ``seq`` whose predecessor's hash is ``prev_hash``.

    ``SHA-256`` (hex) over ``prev_hash`` followed by the canonical JSON (sorted keys, no
    spaces, ASCII only) of ``{seq, at, actor, action, subject_ref, detail}``.

    Raises:
        InputError: ``detail`` is not JSON-serialisable.
    """
    document = {
        "seq": seq,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "subject_ref": entry.subject_ref,
        "detail": entry.detail,
    }
    try:
        text = _canonical(document)
    except (TypeError, ValueError) as exc:
        raise InputError(f"audit detail is not JSON-serialisable: {exc}", field="detail") from None
    return hashlib.sha256((prev_hash + text).encode("utf-8", "surrogatepass")).hexdigest()


def _text(value: object) -> str:
    """A stored column in canonical JSON; anything of the wrong type gets a "!" form that no
    canonical encoding contains, so it never verifies."""
    if isinstance(value, str):
        return _quote(value)
    if value is None:
        return "null"
    return "!" + repr(value)


def _integer(value: object) -> str:
    if type(value) is int:
        return str(value)
    return "!" + repr(value)


def _raw(value: object) -> str:
    return value if isinstance(value, str) else "!" + repr(value)


def row_hash(row: StoredRow, seq: int) -> str:
    """Recompute a stored row's hash as if it were entry ``seq``, byte for byte.

    The stored ``detail`` text is spliced in as it is, not re-serialised, so a change to any
    of its bytes (even one that parses to the same JSON) changes the hash. For an untouched
    row this is exactly :func:`entry_hash`.
    """
    return _hashed(
        _raw(row.prev_hash),
        _text(row.action),
        _text(row.actor),
        _integer(row.at),
        _raw(row.detail),
        seq,
        _text(row.subject_ref),
    )


def _hashed(prev: str, action: str, actor: str, at: str, detail: str, seq: int, ref: str) -> str:
    """SHA-256 (hex) over ``prev`` and the canonical document of its fields, each given
    already as its canonical JSON text (keys in sorted order): what :func:`entry_hash`
    hashes, written out so that a stored row's text is spliced in as it is."""
    text = (
        f'{prev}{{"action":{action},"actor":{actor},"at":{at},"detail":{detail},'
        f'"seq":{seq},"subject_ref":{ref}}}'
    )
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def leaf_data(stored_hash: object) -> bytes:
    """The Merkle leaf data of a stored hash: its 32 bytes (anything malformed as itself)."""
    if isinstance(stored_hash, str) and len(stored_hash) == 64 and set(stored_hash) <= HEX_DIGITS:
        return bytes.fromhex(stored_hash)
    return b"!" + repr(stored_hash).encode("utf-8", "surrogatepass")


# --------------------------------------------------------------------------- appending


def _check(entry: object, index: int) -> AuditEntry:
    if not isinstance(entry, AuditEntry):
        raise InputError(f"audit entry {index} is not an AuditEntry", field="entries")
    if type(entry.at) is not int or not -(2**63) <= entry.at < 2**63:
        raise InputError(f"audit entry {index}: 'at' must be an int (microseconds)", field="at")
    for name, value, limit in (
        ("actor", entry.actor, _MAX_ACTOR),
        ("action", entry.action, _MAX_ACTION),
    ):
        if not isinstance(value, str) or not 0 < len(value) <= limit:
            raise InputError(
                f"audit entry {index}: {name!r} must be a non-empty string of at most "
                f"{limit} characters",
                field=name,
            )
    ref = entry.subject_ref
    if ref is not None and (not isinstance(ref, str) or not 0 < len(ref) <= _MAX_SUBJECT_REF):
        raise InputError(
            f"audit entry {index}: 'subject_ref' must be None or a keyed hash of at most "
            f"{_MAX_SUBJECT_REF} characters",
            field="subject_ref",
        )
    if not isinstance(entry.detail, Mapping):
        raise InputError(f"audit entry {index}: 'detail' must be a mapping", field="detail")
    return entry


def append_entries(conn: sa.Connection, entries: Sequence[AuditEntry]) -> int:
    """
    Append ``entries`` to the audit log, chained, inside the caller's transaction.

    Appenders are serialised: on PostgreSQL with ``pg_advisory_xact_lock``
    (:data:`ADVISORY_LOCK_KEY`, held until the caller commits or rolls back); on SQLite the
    caller must open the transaction with ``BEGIN IMMEDIATE``, which takes the database
    write lock before the last entry is read. Either way the primary key on ``seq`` makes a
    forked chain impossible: a racing appender fails instead.

    One ``SELECT`` of the last ``(seq, hash)`` and one ``executemany`` ``INSERT``.

    Args:
        conn: a connection inside the caller's transaction.
        entries: the entries, in order; they get seq ``last + 1``, ``last + 2``, ….

    Returns:
        The seq of the last entry of the log after appending (0 for an empty log and no
        entries).

    Raises:
        InputError: an entry is malformed (wrong types, too long, detail not JSON). Nothing
            is written then.
    """
    checked = [_check(entry, i) for i, entry in enumerate(entries)]
    details: list[str] = []
    for i, entry in enumerate(checked):
        try:
            details.append(_canonical(entry.detail))
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"audit entry {i}: detail is not JSON-serialisable: {exc}", field="detail"
            ) from None
    if conn.dialect.name == "postgresql":
        execute(conn, _LOCK, (ADVISORY_LOCK_KEY,))
    last = execute(conn, _LAST_ENTRY, ()).first()
    seq, prev = (0, GENESIS) if last is None else (int(last[0]), str(last[1]))
    if not checked:
        return seq
    rows: list[tuple[object, ...]] = []
    texts: dict[str, str] = {}  # actor and action repeat within a batch: quoted once each
    for entry, detail in zip(checked, details, strict=True):
        seq += 1
        at, actor, action, ref = entry.at, entry.actor, entry.action, entry.subject_ref
        quoted_actor = texts.get(actor)
        if quoted_actor is None:
            quoted_actor = texts[actor] = _quote(actor)
        quoted_action = texts.get(action)
        if quoted_action is None:
            quoted_action = texts[action] = _quote(action)
        # row_hash of the row as it is stored (every value well-typed here)
        quoted_ref = "null" if ref is None else _quote(ref)
        current = _hashed(prev, quoted_action, quoted_actor, str(at), detail, seq, quoted_ref)
        rows.append((seq, at, actor, action, ref, detail, prev, current))
        prev = current
    # a driver-level executemany over tuples (no per-row parameter processing: every value
    # is already the int or str its column stores)
    executemany(conn, in_paramstyle(_INSERT, conn.dialect.paramstyle), rows)
    crashpoints.reach("audit.appended")
    return seq


# --------------------------------------------------------------------------- streaming


def check_chunk_size(chunk_size: int) -> None:
    """Refuse a ``chunk_size`` (rows per query) that is not a positive integer."""
    if type(chunk_size) is not int or chunk_size < 1:
        raise InputError("chunk_size must be a positive integer", field="chunk_size")


def stream_rows(
    conn: sa.Connection, *, after: int | None, last: int | None, chunk_size: int
) -> Iterator[StoredRow]:
    """Yield rows in seq order with keyset pagination: constant memory on any backend."""
    cursor = after
    while True:
        query = sa.select(*_COLUMNS).order_by(audit_log.c.seq).limit(chunk_size)
        if cursor is not None:
            query = query.where(audit_log.c.seq > cursor)
        if last is not None:
            query = query.where(audit_log.c.seq <= last)
        batch = conn.execute(query).all()
        for r in batch:
            yield StoredRow(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7])
        if len(batch) < chunk_size:
            return
        cursor = int(batch[-1][0])


def stream_leaf_hashes(conn: sa.Connection, size: int, chunk_size: int) -> Iterator[bytes]:
    """Yield the Merkle leaf hashes of the first ``size`` entries."""
    cursor: int | None = None
    remaining = size
    while remaining > 0:
        n = min(chunk_size, remaining)
        query = sa.select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq).limit(n)
        if cursor is not None:
            query = query.where(audit_log.c.seq > cursor)
        batch = conn.execute(query).all()
        for r in batch:
            yield merkle.leaf_hash(leaf_data(r[1]))
        if len(batch) < n:
            return
        cursor = int(batch[-1][0])
        remaining -= n
