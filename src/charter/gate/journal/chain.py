"""
The gate's tamper-evident audit log: a hash chain in the ``audit_log`` table, plus signed
Merkle tree heads (RFC 6962) that an outside witness keeps. See ``docs/audit.md``.

Each entry's ``hash`` is ``SHA-256(prev_hash + canonical JSON of the entry)``, where
``prev_hash`` is the previous entry's hash (:data:`GENESIS` for the first), so changing,
removing or reordering any entry breaks the chain from there on. Appending happens inside
the caller's transaction, so an entry exists exactly when the change it records commits;
if the audit log cannot be written, the caller's transaction fails (fail-closed).

A hash chain alone cannot show that its *tail* was cut off, nor that the whole chain was
rewritten by someone able to recompute every hash. For that, :func:`tree_head` signs the
Merkle root of all entry hashes with the server's HMAC key; the signed tree head is kept
outside the database (:func:`write_witness`) and :func:`verify_chain` checks the log
against it. :func:`inclusion_proof` and :func:`consistency_proof` let an auditor check a
single entry, or that the log only grew between two heads, without reading the whole log.

Entries must not contain personal data: ``subject_ref`` is a keyed hash the caller
computes and ``detail`` holds codes and counts only. This module cannot tell a personal
value from any other string and does not try; keeping them out is the callers' duty.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
import tempfile
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import sqlalchemy as sa

from charter.crypto.hashing import encode_parts, keyed_hash
from charter.errors import InputError, IntegrityError
from charter.gate.journal import merkle
from charter.store.schema import audit_log

__all__ = [
    "ADVISORY_LOCK_KEY",
    "GENESIS",
    "AuditEntry",
    "AuditReport",
    "SignedTreeHead",
    "append_entries",
    "consistency_proof",
    "entry_hash",
    "inclusion_proof",
    "read_witness",
    "tree_head",
    "verify_chain",
    "verify_consistency_proof",
    "verify_inclusion_proof",
    "verify_range",
    "verify_tree_head",
    "write_witness",
]

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""

ADVISORY_LOCK_KEY = 0x6368_6172_6175_6474
"""PostgreSQL advisory lock (``b"charaudt"``) that serialises appenders until commit."""

STH_CONTEXT = "audit.sth"
"""The :func:`~charter.crypto.keyed_hash` context of tree head signatures."""

CHUNK_SIZE = 1000
"""Rows read per query when streaming the log."""

MAX_PROBLEMS = 1000
"""Problems listed in a report by default; the rest are counted in a last line."""

_STH_DOMAIN = b"charter.audit.sth.v1"
_WITNESS_VERSION = 1
_U64 = struct.Struct(">Q")
_I64 = struct.Struct(">q")
_HEX = frozenset("0123456789abcdef")
_MAX_ACTOR = 80
_MAX_ACTION = 40
_MAX_SUBJECT_REF = 64
_REORDER_WINDOW = 65_536
_PENDING_LIMIT = 10_000
_NEARBY = (1, -1, 2, -2, 3, -3, 4, -4)


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


@dataclass
class AuditReport:
    """
    The result of :func:`verify_chain` or :func:`verify_range`.

    Attributes:
        entries: how many entries were read.
        ok: ``True`` when no problem was found.
        problems: one line per problem, naming the seq (``"entry 42 was changed"``).
        head_hash: the stored hash of the last entry read (``GENESIS`` if none).
        root: the Merkle root (hex) over the hashes of the entries read.
    """

    entries: int
    ok: bool
    problems: list[str]
    head_hash: str
    root: str = field(default=merkle.EMPTY_ROOT.hex())


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


class _Row(NamedTuple):
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


# --------------------------------------------------------------------------- hashing


def _canonical(value: object) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


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
    if value is None or isinstance(value, str):
        return json.dumps(value, ensure_ascii=True)
    return "!" + repr(value)


def _integer(value: object) -> str:
    if type(value) is int:
        return str(value)
    return "!" + repr(value)


def _raw(value: object) -> str:
    return value if isinstance(value, str) else "!" + repr(value)


def _row_hash(row: _Row, seq: int) -> str:
    """Recompute a stored row's hash as if it were entry ``seq``, byte for byte.

    The stored ``detail`` text is spliced in as it is, not re-serialised, so a change to any
    of its bytes (even one that parses to the same JSON) changes the hash. For an untouched
    row this is exactly :func:`entry_hash`.
    """
    text = (
        _raw(row.prev_hash)
        + '{"action":'
        + _text(row.action)
        + ',"actor":'
        + _text(row.actor)
        + ',"at":'
        + _integer(row.at)
        + ',"detail":'
        + _raw(row.detail)
        + ',"seq":'
        + str(seq)
        + ',"subject_ref":'
        + _text(row.subject_ref)
        + "}"
    )
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _leaf(stored_hash: object) -> bytes:
    """The Merkle leaf data of a stored hash: its 32 bytes (anything malformed as itself)."""
    if isinstance(stored_hash, str) and len(stored_hash) == 64 and set(stored_hash) <= _HEX:
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
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
    last = conn.execute(
        sa.select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (0, GENESIS) if last is None else (int(last.seq), str(last.hash))
    if not checked:
        return seq
    rows: list[dict[str, object]] = []
    for entry, detail in zip(checked, details, strict=True):
        seq += 1
        row = _Row(seq, entry.at, entry.actor, entry.action, entry.subject_ref, detail, prev, "")
        current = _row_hash(row, seq)
        rows.append(
            {
                "seq": seq,
                "at": entry.at,
                "actor": entry.actor,
                "action": entry.action,
                "subject_ref": entry.subject_ref,
                "detail": detail,
                "prev_hash": prev,
                "hash": current,
            }
        )
        prev = current
    conn.execute(audit_log.insert(), rows)
    return seq


# --------------------------------------------------------------------------- streaming


def _check_chunk(chunk_size: int) -> None:
    if type(chunk_size) is not int or chunk_size < 1:
        raise InputError("chunk_size must be a positive integer", field="chunk_size")


def _stream(
    conn: sa.Connection, *, after: int | None, last: int | None, chunk_size: int
) -> Iterator[_Row]:
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
            yield _Row(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7])
        if len(batch) < chunk_size:
            return
        cursor = int(batch[-1][0])


def _stream_hashes(conn: sa.Connection, size: int, chunk_size: int) -> Iterator[bytes]:
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
            yield merkle.leaf_hash(_leaf(r[1]))
        if len(batch) < n:
            return
        cursor = int(batch[-1][0])
        remaining -= n


# --------------------------------------------------------------------------- verifying


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


class _Scanner:
    """Walks rows in seq order once, recomputing every hash; collects problems by seq."""

    def __init__(
        self, *, first_seq: int, prev_hash: str, witnessed_size: int | None, max_problems: int
    ) -> None:
        self.first_seq = first_seq
        self.expected = first_seq
        self.prev_seq = first_seq - 1
        self.prev_stored: object = prev_hash
        self.prev_intact = True
        self.count = 0
        self.max_problems = max_problems
        self.total_problems = 0
        self.records: list[tuple[int, str]] = []
        self.recent: OrderedDict[str, int] = OrderedDict()
        self.pending: dict[str, list[_Row]] = {}
        self.pending_count = 0
        self.unresolved: dict[int, str] = {}
        self.run: list[int] | None = None  # [start, end, offset]
        self.builder = merkle.RootBuilder()
        self.witnessed_size = witnessed_size
        self.witnessed_root: bytes | None = merkle.EMPTY_ROOT if witnessed_size == 0 else None

    # -- problems

    def problem(self, seq: int, message: str) -> None:
        self.total_problems += 1
        if len(self.records) < self.max_problems:
            self.records.append((seq, message))

    def flush_run(self, *, at_end: bool = False) -> None:
        if self.run is None:
            return
        start, end, offset = self.run
        self.run = None
        if start == end:
            text = (
                f"entries reordered at {start}: entry {start} holds the entry that "
                f"belongs at {start - offset}"
            )
        else:
            text = (
                f"entries reordered at {start}: entries {start}..{end} hold the entries "
                f"that belong at {start - offset}..{end - offset}"
            )
        at_end = at_end and end > start  # a lone moved entry says nothing about the rest
        if at_end and offset > 0:
            text += (
                f" ({offset} {_plural(offset, 'entry was', 'entries were')} inserted "
                f"before {start})"
            )
        elif at_end and offset < 0:
            text += (
                f" ({-offset} {_plural(-offset, 'entry was', 'entries were')} removed "
                f"before {start} and the rest renumbered)"
            )
        self.problem(start, text)

    def displaced(self, seq: int, original: int) -> None:
        offset = seq - original
        run = self.run
        if run is not None and run[1] == seq - 1 and run[2] == offset:
            run[1] = seq
            return
        self.flush_run()
        self.run = [seq, seq, offset]

    # -- rows

    def remember(self, stored_hash: object, original: int, *, known: bool = True) -> None:
        """Record where the entry with ``stored_hash`` belongs; when that is ``known``,
        resolve the rows waiting for it as their predecessor (and, in turn, theirs)."""
        work = [(stored_hash, original)]
        while work:
            current, where = work.pop()
            if not isinstance(current, str):
                continue
            self.recent[current] = where
            self.recent.move_to_end(current)
            if len(self.recent) > _REORDER_WINDOW:
                self.recent.popitem(last=False)
            if not known:
                return
            for row in self.pending.pop(current, None) or ():
                self.pending_count -= 1
                if row.seq in self.unresolved and _row_hash(row, where + 1) == row.hash:
                    del self.unresolved[row.seq]
                    self.problem(
                        row.seq,
                        f"entries reordered at {row.seq}: entry {row.seq} "
                        f"holds the entry that belongs at {where + 1}",
                    )
                    work.append((row.hash, where + 1))

    def locate(self, row: _Row) -> int | None:
        """The seq at which a row that does not verify at its own seq would verify."""
        candidates: list[int] = []
        if isinstance(row.prev_hash, str):
            before = self.recent.get(row.prev_hash)
            if before is not None:
                candidates.append(before + 1)
        if self.run is not None and self.run[1] == row.seq - 1:
            candidates.append(row.seq - self.run[2])
        candidates.extend(row.seq + d for d in _NEARBY)
        for candidate in candidates:
            if candidate >= 1 and candidate != row.seq and _row_hash(row, candidate) == row.hash:
                return candidate
        return None

    def add(self, row: _Row) -> None:
        seq = row.seq
        self.count += 1
        self.builder.add(merkle.leaf_hash(_leaf(row.hash)))
        if self.count == self.witnessed_size:
            self.witnessed_root = self.builder.root()

        status = self.check_seq(seq)
        if status == "misplaced":
            return  # reported; the chain goes on from the entry before it
        gap = status == "gap"
        intact = _row_hash(row, seq) == row.hash
        linked = row.prev_hash == self.prev_stored
        if intact:
            self.flush_run()
            if not gap and self.prev_intact and not linked:
                self.broken_link(row)
            self.remember(row.hash, seq)
        else:
            original = self.locate(row)
            if original is not None:
                self.displaced(seq, original)
                self.remember(row.hash, original)
            else:
                self.flush_run()
                suffix = (
                    ""
                    if linked or gap
                    else (
                        f" or inserted (it does not link to entry {self.prev_seq})"
                        if self.prev_intact and self.prev_seq >= self.first_seq
                        else ""
                    )
                )
                message = f"entry {seq} was changed{suffix}"
                if isinstance(row.prev_hash, str) and self.pending_count < _PENDING_LIMIT:
                    # It may yet turn out to be an entry moved here from further on.
                    self.unresolved[seq] = message
                    self.pending.setdefault(row.prev_hash, []).append(row)
                    self.pending_count += 1
                else:
                    self.problem(seq, message)
                self.remember(row.hash, seq, known=False)
        self.prev_intact = intact
        self.prev_stored = row.hash
        self.prev_seq = seq
        self.expected = max(self.expected, seq + 1)

    def check_seq(self, seq: int) -> str:
        """Report a seq out of place or a gap before it: ``"misplaced"``, ``"gap"`` or
        ``"ok"``."""
        if seq < self.expected:
            self.flush_run()
            if seq < self.first_seq:
                self.problem(seq, f"entry {seq} was inserted before the start of the log")
            else:
                self.problem(seq, f"entry {seq} is out of place (expected {self.expected})")
            return "misplaced"
        if seq == self.expected:
            return "ok"
        first, last = self.expected, seq - 1
        self.flush_run()
        which = f"entry {first} is" if first == last else f"entries {first}..{last} are"
        if self.count == 1 and self.first_seq == 1:
            self.problem(first, f"{which} missing (the log starts at {seq})")
        else:
            self.problem(first, f"{which} missing (gap between {first - 1} and {seq})")
        return "gap"

    def broken_link(self, row: _Row) -> None:
        seq, prev = row.seq, self.prev_seq
        if prev < self.first_seq:
            self.problem(
                seq,
                f"chain broken at entry {seq}: its prev_hash is not the hash it "
                f"should follow (entry {seq} was replaced)",
            )
            return
        follows = self.recent.get(row.prev_hash) if isinstance(row.prev_hash, str) else None
        if follows is not None and follows < prev:
            self.problem(
                seq,
                f"chain broken at entry {seq}: it follows entry {follows}, not "
                f"entry {prev} (entries {follows + 1}..{prev} were inserted or "
                "replaced)",
            )
        else:
            self.problem(
                seq,
                f"chain broken at entry {seq}: its prev_hash is not the hash of "
                f"entry {prev} (entry {prev} was replaced, or entry {seq} forged)",
            )

    def finish(self) -> tuple[list[tuple[int, str]], int]:
        self.flush_run(at_end=True)
        for seq, message in self.unresolved.items():
            self.problem(seq, message)
        self.unresolved.clear()
        return sorted(self.records, key=lambda r: r[0]), self.total_problems


def _run_scan(
    conn: sa.Connection,
    *,
    first: int,
    last: int | None,
    prev_hash: str,
    witnessed: SignedTreeHead | None,
    key: bytes | None,
    chunk_size: int,
    max_problems: int,
) -> AuditReport:
    _check_chunk(chunk_size)
    witness_ok = witnessed is None or _well_formed(witnessed)
    scanner = _Scanner(
        first_seq=first,
        prev_hash=prev_hash,
        max_problems=max_problems,
        witnessed_size=witnessed.size if witnessed is not None and witness_ok else None,
    )
    for row in _stream(
        conn, after=first - 1 if first > 1 else None, last=last, chunk_size=chunk_size
    ):
        scanner.add(row)
    if last is not None and scanner.expected <= last:
        start = scanner.expected
        which = f"entry {start} is" if start == last else f"entries {start}..{last} are"
        scanner.problem(start, f"{which} missing (the range ends at {last})")
    records, total = scanner.finish()
    problems = [message for _, message in records]
    if witnessed is not None and not witness_ok:
        problems.append("the witnessed tree head is malformed")
        total += 1
    elif witnessed is not None:
        problems.extend(_witness_problems(scanner, witnessed, key))
        total += len(problems) - len(records)
    if total > len(problems):
        problems.append(f"… and {total - len(problems)} more problems not listed")
    head = scanner.prev_stored if scanner.count else prev_hash
    return AuditReport(
        entries=scanner.count,
        ok=total == 0,
        problems=problems,
        head_hash=head if isinstance(head, str) else repr(head),
        root=scanner.builder.root().hex(),
    )


def _witness_problems(scanner: _Scanner, witnessed: SignedTreeHead, key: bytes | None) -> list[str]:
    out: list[str] = []
    if key is not None and not verify_tree_head(witnessed, key):
        out.append("the witnessed tree head's signature is invalid")
    if scanner.count < witnessed.size:
        out.append(
            f"chain truncated: the witnessed head has {witnessed.size} entries, "
            f"the log has {scanner.count}"
        )
    elif scanner.witnessed_root is None or not hmac.compare_digest(
        scanner.witnessed_root.hex(), witnessed.root.lower()
    ):
        out.append(
            f"the first {witnessed.size} entries do not match the witnessed tree head "
            "(the Merkle root differs: entries were rewritten)"
        )
    return out


def verify_chain(
    conn: sa.Connection,
    *,
    witnessed: SignedTreeHead | None = None,
    key: bytes | None = None,
    chunk_size: int = CHUNK_SIZE,
    max_problems: int = MAX_PROBLEMS,
) -> AuditReport:
    """
    Verify the whole audit log; never raises on tampering, reports it.

    Streams the entries in seq order, ``chunk_size`` rows per query (constant memory), and
    recomputes every hash from the stored bytes. Detects a change to any byte of any column,
    missing entries (gaps in seq), entries moved to another seq (reordering, insertion with
    renumbering), and entries replaced by self-consistent forgeries that do not link.

    With ``witnessed`` (a head kept outside the database, see :func:`read_witness`) it also
    detects a truncated log and a log whose first ``witnessed.size`` entries were rewritten
    (the Merkle root differs). Pass ``key`` to check the head's signature too; without it
    the head is trusted as given.

    Args:
        conn: any connection; for a consistent view of a busy log, use one transaction.
        witnessed: the last externally witnessed signed tree head, if any.
        key: the HMAC key the head was signed with.
        chunk_size: rows per query.
        max_problems: at most this many problems are listed; the rest are counted.

    Returns:
        An :class:`AuditReport`; ``ok`` is ``True`` only when nothing was found.
    """
    return _run_scan(
        conn,
        first=1,
        last=None,
        prev_hash=GENESIS,
        witnessed=witnessed,
        key=key,
        chunk_size=chunk_size,
        max_problems=max_problems,
    )


def verify_range(
    conn: sa.Connection,
    first: int,
    last: int,
    *,
    prev_hash: str,
    chunk_size: int = CHUNK_SIZE,
    max_problems: int = MAX_PROBLEMS,
) -> AuditReport:
    """
    Verify entries ``first..last`` given the hash of entry ``first - 1``.

    The same checks as :func:`verify_chain` restricted to the range: every entry's hash is
    recomputed, entry ``first`` must link to ``prev_hash`` (use :data:`GENESIS` for
    ``first == 1``) and every seq of the range must be present. Use it to re-check a window
    quickly when ``prev_hash`` comes from a trusted source (an earlier full verification).

    Raises:
        InputError: ``first < 1`` or ``last < first``.
    """
    if first < 1 or last < first:
        raise InputError(f"no entries in the range {first}..{last}", field="first")
    return _run_scan(
        conn,
        first=first,
        last=last,
        prev_hash=prev_hash,
        witnessed=None,
        key=None,
        chunk_size=chunk_size,
        max_problems=max_problems,
    )


# --------------------------------------------------------------------------- tree heads


def _sth_message(size: int, root: bytes, at: int) -> bytes:
    return encode_parts(_STH_DOMAIN, _U64.pack(size), root, _I64.pack(at))


def _sign(key: bytes, size: int, root: bytes, at: int) -> str:
    return keyed_hash(key, _sth_message(size, root, at), context=STH_CONTEXT).hex()


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
        size=report.entries, root=report.root, at=at, signature=_sign(key, report.entries, root, at)
    )


def _is_hex64(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


def _well_formed(sth: object) -> bool:
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
    if not _well_formed(sth):
        return False
    expected = _sign(key, sth.size, bytes.fromhex(sth.root), sth.at)
    return hmac.compare_digest(expected, sth.signature)


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
    _check_chunk(chunk_size)
    _check_size(conn, size, "size")
    if type(seq) is not int or not 1 <= seq <= size:
        raise InputError(f"entry {seq} is not in a tree of {size} entries", field="seq")
    ranges = merkle.inclusion_ranges(seq - 1, size)
    return [h.hex() for h in merkle.subtree_roots(ranges, _stream_hashes(conn, size, chunk_size))]


def consistency_proof(
    conn: sa.Connection, old_size: int, new_size: int, *, chunk_size: int = CHUNK_SIZE
) -> list[str]:
    """
    The consistency proof (hex) between the trees over the first ``old_size`` and the first
    ``new_size`` entries; check it with :func:`verify_consistency_proof`.

    Raises:
        InputError: not ``0 <= old_size <= new_size <= entries``.
    """
    _check_chunk(chunk_size)
    _check_size(conn, new_size, "new_size")
    if type(old_size) is not int or not 0 <= old_size <= new_size:
        raise InputError(
            f"no consistency proof from {old_size} to {new_size} entries", field="old_size"
        )
    ranges = merkle.consistency_ranges(old_size, new_size)
    stream = _stream_hashes(conn, new_size, chunk_size)
    return [h.hex() for h in merkle.subtree_roots(ranges, stream)]


def _from_hex(values: Sequence[str]) -> list[bytes] | None:
    out: list[bytes] = []
    for value in values:
        if not (isinstance(value, str) and len(value) == 64 and set(value.lower()) <= _HEX):
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
    checked here (use :func:`verify_tree_head`). ``False`` for anything malformed.
    """
    roots = _from_hex([old.root, new.root])
    path = _from_hex(proof) if not isinstance(proof, str) else None
    if roots is None or path is None:
        return False
    return merkle.verify_consistency(old.size, new.size, roots[0], roots[1], path)


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

    The signature is not checked here; :func:`verify_chain` checks it when given the key.

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
    if document["version"] != _WITNESS_VERSION or not _well_formed(sth):
        raise IntegrityError(f"the witness file {path} is malformed")
    return sth
