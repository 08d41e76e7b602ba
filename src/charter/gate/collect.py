"""
:class:`Collector`: the hot path. A batch of events is checked against the compiled policy
(consent, purpose, market, retention, switches, re-consent), each accepted value protected
as its inventory row declares and stamped with its expiry, and every region's share written
with one audit entry in one transaction of that region's database. A refused event leaves
nothing behind.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from charter.clock import Clock
from charter.crypto import FieldCipher, Keyring, record_aad_prefix
from charter.errors import InputError, NotFoundError
from charter.gate.blobs import BlobBatch, StagedBlob
from charter.gate.journal import AuditEntry, Journal
from charter.gate.keys import DataKeys
from charter.gate.model import (
    ACTIVE,
    MAX_BATCH,
    BatchResult,
    Event,
    ItemResult,
    PasswordHash,
    Staged,
    Subject,
)
from charter.gate.protect import (
    PasswordHashing,
    encode_value,
    protect,
    stored_password_hash,
)
from charter.gate.subjects import SubjectDirectory
from charter.gate.switches import Switches
from charter.policy import CompiledCatalog, CompiledRow, Decision, Reason, decide_collect
from charter.store import schema as t
from charter.store.regions import RegionStores
from charter.taxonomy import AtRest

CollectGuard = Callable[[Connection, set[tuple[str, str]]], set[tuple[str, str]]]
"""Given the (subject, service) pairs of a batch, the pairs that must not collect now."""

# One executemany per batch keeps each data key's lifetime encryption count (T4's limit).
_COUNT_ENCRYPTIONS = (
    update(t.data_keys)
    .where(t.data_keys.c.subject_id == bindparam("sid"))
    .values(encryptions=t.data_keys.c.encryptions + bindparam("n"))
)


class Collector:
    """Collects batches of events through the policy into the regions' databases."""

    def __init__(
        self,
        compiled: CompiledCatalog,
        keyring: Keyring,
        stores: RegionStores,
        clock: Clock,
        journal: Journal,
        subjects: SubjectDirectory,
        keys: DataKeys,
        passwords: PasswordHashing,
    ) -> None:
        self.compiled = compiled
        self.keyring = keyring
        self.stores = stores
        self.clock = clock
        self.journal = journal
        self.subjects = subjects
        self.keys = keys
        self.passwords = passwords
        self.collect_guard: CollectGuard | None = None
        """Refuses collection pending re-consent (G3); set by the composition root."""
        self._refs: dict[str, str] = {}
        """Subjects' audit fingerprints (a keyed hash per subject and batch otherwise)."""

    def _subject_ref(self, subject_id: str) -> str:
        """The journal's fingerprint of ``subject_id``, remembered (bounded: forgotten all at
        once past :data:`_MAX_REFS`); the journal's key is fixed for its life."""
        ref = self._refs.get(subject_id)
        if ref is None:
            if len(self._refs) >= _MAX_REFS:
                self._refs.clear()
            ref = self._refs[subject_id] = self.journal.subject_ref(subject_id)
        return ref

    def collect(
        self, events: Sequence[Event], *, actor: str, service: str | None = None
    ) -> BatchResult:
        """
        Offer a batch of events (at most 10,000). Each is accepted or refused on its own;
        a refused event leaves nothing behind. ``service`` (a credential's service) may only
        collect for itself.

        Raises:
            InputError: the batch is empty or too large.
        """
        if not events:
            raise InputError("a batch needs at least one event", field="events")
        if len(events) > MAX_BATCH:
            raise InputError(f"a batch holds at most {MAX_BATCH} events", field="events")
        results: list[ItemResult | None] = [None] * len(events)
        by_region: dict[str, list[int]] = {}
        subjects: dict[str, Subject] = {}
        for i, ev in enumerate(events):
            if service is not None and ev.service != service:
                results[i] = ItemResult(
                    i,
                    False,
                    "wrong_service",
                    "a service credential collects only for its own service",
                )
                continue
            try:
                subject = subjects.get(ev.subject_id) or self.subjects.locate(ev.subject_id)
            except NotFoundError:
                results[i] = ItemResult(i, False, "unknown_subject", "no such subject")
                continue
            subjects[subject.id] = subject
            by_region.setdefault(subject.region, []).append(i)
        for region, indexes in by_region.items():
            self._collect_region(region, events, indexes, subjects, results, actor)
        return BatchResult([r for r in results if r is not None])

    def _collect_region(
        self,
        region: str,
        events: Sequence[Event],
        indexes: list[int],
        subjects: Mapping[str, Subject],
        results: list[ItemResult | None],
        actor: str,
    ) -> None:
        now = self.clock()
        blobs = BlobBatch(self.stores, region)
        accepted: Counter[tuple[str, str, str, str]] = Counter()
        refused: Counter[tuple[str, str, str, str, str]] = Counter()
        engine = self.stores.region(region)
        compiled = self.compiled
        try:
            with engine.begin() as conn:
                ids = list({events[i].subject_id for i in indexes})
                status = dict(
                    conn.execute(
                        select(t.subjects.c.id, t.subjects.c.status).where(t.subjects.c.id.in_(ids))
                    ).all()
                )
                own = Switches.load(conn, ids)
                blocked: set[tuple[str, str]] = set()
                if self.collect_guard is not None:
                    pairs = {(events[i].subject_id, events[i].service) for i in indexes}
                    blocked = self.collect_guard(conn, pairs)
                batch = _Batch(conn, region, now, self.keys, len(indexes))
                batch.ciphers.update(self.keys.ciphers(conn, ids, region))  # one query
                decided: dict[tuple[str, str, str, str], Decision] = {}
                # per (subject, service, type, purpose): the AAD prefix and the subject's
                # queue of field encryptions (the common row: no blob, encrypted field)
                sealing: dict[tuple[str, str, str, str], tuple[bytes, list[_Sealed]]] = {}
                rows = batch.rows
                next_id = batch.new_record_id
                for i in indexes:
                    ev = events[i]
                    purpose = str.__str__(ev.purpose)  # the plain id (no enum descriptor)
                    if status.get(ev.subject_id) != ACTIVE:
                        reason = Reason.SUBJECT_INACTIVE.value
                        results[i] = ItemResult(i, False, reason, "the subject is no longer active")
                        refused[(ev.subject_id, ev.service, ev.data_type, purpose, reason)] += 1
                        continue
                    if blocked and (ev.subject_id, ev.service) in blocked:
                        reason = Reason.RECONSENT_REQUIRED.value
                        results[i] = ItemResult(
                            i, False, reason, "the service changed materially; consent again first"
                        )
                        refused[(ev.subject_id, ev.service, ev.data_type, purpose, reason)] += 1
                        continue
                    # One decision per (subject, service, type, purpose) and batch: the
                    # policy's inputs (kind, market, switches, time) are fixed within it.
                    asked = (ev.subject_id, ev.service, ev.data_type, purpose)
                    decision = decided.get(asked)
                    if decision is None:
                        subject = subjects[ev.subject_id]
                        decision = decided[asked] = decide_collect(
                            compiled,
                            service=ev.service,
                            data_type=ev.data_type,
                            purpose=ev.purpose,
                            kind=subject.kind,
                            market=subject.market,
                            switches=own.get(ev.subject_id, _NO_SWITCHES),
                            now=now,
                        )
                    row = decision.row
                    if not decision.allowed or row is None:
                        reason = decision.reason.value
                        results[i] = ItemResult(i, False, reason, decision.message)
                        refused[(*asked, reason)] += 1
                        continue
                    if not row.stored:
                        results[i] = ItemResult(
                            i,
                            True,
                            "processed_not_stored",
                            "processed for this request and not stored",
                        )
                        accepted[asked] += 1
                        continue
                    try:
                        if ev.blob is None and row.protection is AtRest.FIELD_ENCRYPTION:
                            # the common row, inline: its encryption is deferred to
                            # sealed_rows, one encrypt_many per subject
                            data = encode_value(ev.value)
                            queue = sealing.get(asked)
                            if queue is None:
                                queue = sealing[asked] = batch.sealing(*asked[:3])
                            record_id = next_id()
                            record = [
                                record_id, asked[0], asked[1], asked[2], row.qualifier_id,
                                row.purpose_bits, row.protection_id, None, None, ev.source,
                                now, decision.expires_at,
                            ]  # fmt: skip
                            rows.append(record)
                            queue[1].append((record, data, queue[0] + record_id.encode()))
                        else:
                            record_id = self._prepare(batch, ev, row, decision.expires_at, blobs)
                    except InputError as exc:
                        results[i] = ItemResult(i, False, exc.code, exc.message)
                        refused[(*asked, exc.code)] += 1
                        continue
                    results[i] = ItemResult(
                        i, True, "stored", "stored", record_id, True, decision.expires_at
                    )
                    accepted[asked] += 1
                sealed = batch.sealed_rows()  # the deferred field encryptions, per subject
                blobs.write()  # durable before the records commit
                if sealed:
                    conn.exec_driver_sql(_insert_records_sql(conn), sealed)
                if batch.used:
                    conn.execute(
                        _COUNT_ENCRYPTIONS,
                        [{"sid": sid, "n": n} for sid, n in batch.used.items()],
                    )
                entries = _audit_entries(self._subject_ref, now, actor, accepted, refused)
                if entries:
                    self.journal.record_many(conn, entries)
        except BaseException:
            blobs.discard()
            raise
        blobs.done()

    def _prepare(
        self,
        batch: _Batch,
        ev: Event,
        row: CompiledRow,
        expires_at: int | None,
        blobs: BlobBatch,
    ) -> str:
        """Add one record row (in :data:`_RECORD_COLUMNS` order) to ``batch``, its value
        protected (a field encryption is left to :meth:`_Batch.sealed_rows`); its id."""
        blob = ev.blob
        record_id = (
            batch.new_record_id() if blob is None or isinstance(blob, _BYTES) else blob.record_id
        )
        protection = row.protection
        value = None
        seal: bytes | None = None
        if isinstance(ev.value, PasswordHash) and protection is AtRest.PASSWORD_HASH:
            value = stored_password_hash(ev.value)
        elif ev.value is not None or ev.blob is None:
            data = encode_value(ev.value)
            if protection is AtRest.FIELD_ENCRYPTION:
                seal = data
            else:
                value = protect(
                    protection,
                    data,
                    keyring=self.keyring,
                    passwords=self.passwords,
                    cipher=None,
                    subject_id=ev.subject_id,
                    service=ev.service,
                    data_type=ev.data_type,
                    record_id=record_id,
                )
        blob_name = None
        if isinstance(blob, _BYTES):
            cipher = batch.cipher(ev.subject_id)
            blob_name, sealed = blobs.seal(
                cipher, ev.subject_id, record_id, blob, inline=value is None and seal is None
            )
            value = sealed if sealed is not None else value
            batch.used[ev.subject_id] += 1
        elif blob is not None:
            blob_name = _adopt(blob, ev.subject_id, batch.cipher(ev.subject_id), blobs)
            batch.used[ev.subject_id] += 1
        record = [
            record_id,
            ev.subject_id,
            ev.service,
            ev.data_type,
            row.qualifier_id,
            row.purpose_bits,
            row.protection_id,
            value,
            blob_name,
            ev.source,
            batch.now,
            expires_at,
        ]
        if seal is not None:
            batch.seal_later(record, seal)
        batch.rows.append(record)
        return record_id


def _adopt(staged: Staged, subject_id: str, cipher: FieldCipher, blobs: BlobBatch) -> str:
    """Take a blob sealed while it arrived into the batch, once it is known to be the event
    subject's and sealed under the key the subject has now; its record's ``blob``."""
    if not isinstance(staged, StagedBlob):
        raise InputError("a blob is bytes or staged by the gate (Gate.stage_blob)", field="blob")
    if staged.subject_id != subject_id:
        raise InputError("the staged blob belongs to another subject", field="blob")
    if not staged.cipher.same_key(cipher):
        raise InputError(
            "the subject's data key changed while the content arrived; send it again",
            field="blob",
            code="key_changed",
        )
    return blobs.adopt(staged)


_BYTES = (bytes, bytearray, memoryview)
"""A blob given whole (any other is staged: :meth:`Gate.stage_blob`)."""
_NO_SWITCHES: Mapping[str, bool] = {}
_MAX_REFS = 100_000

_RECORD_COLUMNS = (
    "id", "subject_id", "service", "data_type", "qualifier", "purposes", "protection",
    "value", "blob", "source", "collected_at", "expires_at",
)  # fmt: skip


_VALUE = _RECORD_COLUMNS.index("value")
_ID_RANDOM_BYTES = 8
_ID_LENGTH = 16 + 2 * _ID_RANDOM_BYTES

_Sealed = tuple[list[Any], bytes, bytes]
"""A record waiting for its value's encryption: the row, the plaintext, the AAD."""


def _insert_records_sql(conn: Connection) -> str:
    """A driver-level INSERT (executemany over tuples: the collect hot path skips per-row
    SQLAlchemy parameter processing)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return (
        f"INSERT INTO records ({', '.join(_RECORD_COLUMNS)}) "  # noqa: S608 - constants only
        f"VALUES ({', '.join([mark] * len(_RECORD_COLUMNS))})"
    )


class _Batch:
    """Per-transaction state of one collect call: the rows, ciphers, AAD prefixes, key usage,
    and the random bits of its record ids (drawn from the OS once per batch)."""

    def __init__(self, conn: Connection, region: str, now: int, keys: DataKeys, size: int) -> None:
        self.conn = conn
        self.keys = keys
        self.region = region
        self.now = now
        self._id_prefix = f"{now:016x}"
        self._size = max(size, 1)
        self._next_id = self._draw_ids()
        self.rows: list[list[Any]] = []
        self.ciphers: dict[str, FieldCipher] = {}
        self.prefixes: dict[tuple[str, str, str], bytes] = {}
        self.pending: dict[str, list[_Sealed]] = {}
        self.used: Counter[str] = Counter()

    def new_record_id(self) -> str:
        """
        A record id ordered by time: 16 hex digits of the collection time, then 64 random
        bits. Records collected together sit together in the primary-key index, so inserting
        them and later purging them (they expire together) touches few index pages.
        """
        try:
            return self._next_id()
        except StopIteration:
            self._next_id = self._draw_ids()
            return self._next_id()

    def _draw_ids(self) -> Callable[[], str]:
        """The next ids of the batch, their random bits drawn from the OS in one call."""
        prefix = self._id_prefix
        digits = os.urandom(_ID_RANDOM_BYTES * self._size).hex()
        step = 2 * _ID_RANDOM_BYTES
        return iter(
            [prefix + digits[at : at + step] for at in range(0, len(digits), step)]
        ).__next__

    def cipher(self, subject_id: str) -> FieldCipher:
        """The subject's cipher, its key made on first use."""
        cipher = self.ciphers.get(subject_id)
        if cipher is None:
            found = self.keys.cipher(self.conn, subject_id, self.region, create=True)
            assert found is not None
            cipher = self.ciphers[subject_id] = found
        return cipher

    def sealing(self, subject_id: str, service: str, data_type: str) -> tuple[bytes, list[_Sealed]]:
        """The AAD prefix of a (subject, service, data type)'s records and the subject's queue
        of field encryptions for :meth:`sealed_rows` (the subject's key is made now if it has
        none). ``record_aad(...) == prefix + record_id``: the prefix ends with the id's 4-byte
        length (every id of :meth:`new_record_id` has the same)."""
        self.cipher(subject_id)
        key = (subject_id, service, data_type)
        prefix = self.prefixes.get(key)
        if prefix is None:
            prefix = self.prefixes[key] = record_aad_prefix(
                subject_id=subject_id, service=service, data_type=data_type
            ) + _ID_LENGTH.to_bytes(4, "big")
        return prefix, self.pending.setdefault(subject_id, [])

    def seal_later(self, record: list[Any], data: bytes) -> None:
        """Queue ``data`` for field encryption into ``record``'s value by
        :meth:`sealed_rows`."""
        prefix, queue = self.sealing(record[1], record[2], record[3])
        queue.append((record, data, prefix + record[0].encode()))

    def sealed_rows(self) -> list[tuple[Any, ...]]:
        """The rows, every queued value encrypted under its subject's key (one
        :meth:`FieldCipher.encrypt_many` per subject), as tuples for ``executemany``."""
        for subject_id, queued in self.pending.items():
            envelopes = self.ciphers[subject_id].encrypt_many([(d, a) for _, d, a in queued])
            for (record, _, _), envelope in zip(queued, envelopes, strict=True):
                record[_VALUE] = envelope
            self.used[subject_id] += len(queued)
        self.pending.clear()
        return [tuple(record) for record in self.rows]


def _audit_entries(
    subject_ref: Callable[[str], str],
    now: int,
    actor: str,
    accepted: Counter[tuple[str, str, str, str]],
    refused: Counter[tuple[str, str, str, str, str]],
) -> list[AuditEntry]:
    """One entry per subject of the batch (counts by service, data type and purpose), so a
    person's activity finds every collection under their own keyed fingerprint."""
    by_subject: dict[str, tuple[list[list[object]], list[list[object]]]] = {}
    for (sid, s, d, p), n in sorted(accepted.items()):
        by_subject.setdefault(sid, ([], []))[0].append([s, d, p, n])
    for (sid, s, d, p, r), n in sorted(refused.items()):
        by_subject.setdefault(sid, ([], []))[1].append([s, d, p, r, n])
    return [
        AuditEntry(
            now,
            actor,
            "collect" if ok else "refuse",
            subject_ref(sid),
            {"accepted": ok, "refused": no, "subjects": 1},
        )
        for sid, (ok, no) in sorted(by_subject.items())
    ]
