"""
:class:`Collector`: the hot path. A batch of events is checked against the compiled policy
(consent, purpose, market, retention, switches, re-consent), each accepted value protected
as its inventory row declares and stamped with its expiry, and every region's share written
with one audit entry in one transaction of that region's database. A refused event leaves
nothing behind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, cast

import orjson
from sqlalchemy import Connection

from charter.clock import Clock
from charter.crypto import FieldCipher, Keyring
from charter.errors import InputError, NotFoundError
from charter.gate.blobs import BlobBatch, StagedBlob
from charter.gate.collect_batch import CollectBatch, count_encryptions_sql, insert_records_sql
from charter.gate.journal import AuditEntry, Journal
from charter.gate.keys import DataKeys
from charter.gate.model import (
    ACTIVE,
    MAX_BATCH,
    BatchResult,
    Event,
    EventBatch,
    Outcome,
    PasswordHash,
    Staged,
    Subject,
)
from charter.gate.protect import (
    MAX_VALUE_BYTES,
    PasswordHashing,
    encode_value,
    protect,
    stored_password_hash,
)
from charter.gate.subjects import SubjectDirectory
from charter.gate.switches import Switches
from charter.policy import CompiledCatalog, CompiledRow, Decision, Reason, decide_collect
from charter.store.regions import RegionStores
from charter.taxonomy import AtRest, Purpose

CollectGuard = Callable[[Connection, set[tuple[str, str]]], set[tuple[str, str]]]
"""Given the (subject, service) pairs of a batch, the pairs that must not collect now."""


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
        self._prefixes: dict[tuple[str, str, str], bytes] = {}
        """AAD prefixes by (subject, service, data type), shared by batches (bounded: forgotten
        all at once past :data:`_MAX_PREFIXES`)."""

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
        count = len(events)
        outcomes: list[Outcome | None] = [None] * count
        record_ids: list[str | None] = [None] * count
        # per region, the events by what they ask: (subject, service, data type, purpose id)
        by_region: dict[str, dict[_Asked, list[int]]] = {}
        subjects: dict[str, Subject] = {}
        unknown: set[str] = set()
        locate = self.subjects.locate
        str_ = str.__str__  # a purpose's plain id (no enum descriptor)
        columns = _columns(events)
        for i, (subject_id, ev_service, data_type, purpose) in enumerate(
            zip(columns[0], columns[1], columns[2], columns[3], strict=True)
        ):
            if service is not None and ev_service != service:
                outcomes[i] = _WRONG_SERVICE
                continue
            subject = subjects.get(subject_id)
            if subject is None:
                if subject_id in unknown:
                    outcomes[i] = _UNKNOWN_SUBJECT
                    continue
                try:
                    subject = subjects[subject_id] = locate(subject_id)
                except NotFoundError:
                    unknown.add(subject_id)
                    outcomes[i] = _UNKNOWN_SUBJECT
                    continue
            groups = by_region.get(subject.region)
            if groups is None:
                groups = by_region[subject.region] = {}
            asked = (subject_id, ev_service, data_type, str_(purpose))
            group = groups.get(asked)
            if group is None:
                groups[asked] = [i]
            else:
                group.append(i)
        for region, groups in by_region.items():
            self._collect_region(
                region, events, columns, groups, subjects, outcomes, record_ids, actor
            )
        return BatchResult(outcomes=cast("list[Outcome]", outcomes), record_ids=record_ids)

    def _collect_region(
        self,
        region: str,
        events: Sequence[Event],
        columns: _Columns,
        groups: Mapping[_Asked, list[int]],
        subjects: Mapping[str, Subject],
        outcomes: list[Outcome | None],
        record_ids: list[str | None],
        actor: str,
    ) -> None:
        """One region's share of a batch in one transaction: one policy decision per
        (subject, service, data type, purpose), then that group's events stored together."""
        now = self.clock()
        blobs = BlobBatch(self.stores, region)
        accepted: Counter[_Asked] = Counter()
        refused: Counter[tuple[str, str, str, str, str]] = Counter()
        engine = self.stores.region(region)
        compiled = self.compiled
        try:
            with engine.begin() as conn:
                ids = list({asked[0] for asked in groups})
                # the subjects' statuses and data keys in one query
                status, ciphers = self.keys.statuses_and_ciphers(conn, ids, region)
                own = Switches.load(conn, ids)
                blocked: set[tuple[str, str]] = set()
                if self.collect_guard is not None:
                    blocked = self.collect_guard(conn, {(a[0], a[1]) for a in groups})
                size = sum(len(indexes) for indexes in groups.values())
                if len(self._prefixes) >= _MAX_PREFIXES:
                    self._prefixes.clear()
                batch = CollectBatch(conn, region, now, self.keys, size, self._prefixes)
                batch.ciphers.update(ciphers)
                sealed: list[tuple[Any, ...]] = []
                decided: dict[tuple[object, ...], Decision] = {}
                for asked, indexes in groups.items():
                    subject_id, service = asked[0], asked[1]
                    if status.get(subject_id) != ACTIVE:
                        outcome = _INACTIVE
                    elif blocked and (subject_id, service) in blocked:
                        outcome = _RECONSENT
                    else:
                        # the policy's inputs (kind, market, switches, time) are fixed
                        # within the batch: one decision for the group, shared by every
                        # group that asks the same with the same inputs
                        subject = subjects[subject_id]
                        purpose = columns.purposes[indexes[0]]
                        switches = own.get(subject_id, _NO_SWITCHES)
                        inputs = (
                            service, asked[2], purpose, type(purpose), subject.kind,
                            subject.market, frozenset(switches.items()),
                        )  # fmt: skip
                        decision = decided.get(inputs)
                        if decision is None:
                            decision = decided[inputs] = decide_collect(
                                compiled,
                                service=service,
                                data_type=asked[2],
                                purpose=purpose,
                                kind=subject.kind,
                                market=subject.market,
                                switches=switches,
                                now=now,
                            )
                        row = decision.row
                        if not decision.allowed or row is None:
                            outcome = Outcome(False, decision.reason.value, decision.message)
                        elif not row.stored:
                            for i in indexes:
                                outcomes[i] = _NOT_STORED
                            accepted[asked] += len(indexes)
                            continue
                        else:
                            stored = self._store(
                                batch, blobs, events, columns, indexes, asked, row,
                                decision.expires_at, outcomes, record_ids, refused, sealed,
                            )  # fmt: skip
                            if stored:
                                accepted[asked] += stored
                            continue
                    for i in indexes:
                        outcomes[i] = outcome
                    refused[(*asked, outcome.reason)] += len(indexes)
                sealed.extend(batch.sealed_rows())  # the other rows' deferred encryptions
                blobs.write()  # durable before the records commit
                if sealed:
                    conn.exec_driver_sql(insert_records_sql(conn), sealed)
                if batch.used:  # each data key's lifetime encryption count (T4's limit)
                    conn.exec_driver_sql(
                        count_encryptions_sql(conn), [(n, sid) for sid, n in batch.used.items()]
                    )
                entries = _audit_entries(self.journal.subject_ref, now, actor, accepted, refused)
                if entries:
                    self.journal.record_many(conn, entries)
        except BaseException:
            blobs.discard()
            raise
        blobs.done()

    def _store(
        self,
        batch: CollectBatch,
        blobs: BlobBatch,
        events: Sequence[Event],
        columns: _Columns,
        indexes: list[int],
        asked: _Asked,
        row: CompiledRow,
        expires_at: int | None,
        outcomes: list[Outcome | None],
        record_ids: list[str | None],
        refused: Counter[tuple[str, str, str, str, str]],
        sealed: list[tuple[Any, ...]],
    ) -> int:
        """Store a group's events (all allowed, one row of the inventory); a value the row
        cannot hold refuses its event alone. The common row (field encryption, no blob) is
        encrypted for the whole group at once and added to ``sealed`` as finished tuples;
        other rows go through :meth:`_prepare`. Returns how many were stored."""
        subject_id, service, data_type = asked[0], asked[1], asked[2]
        stored = batch.stored_outcome(expires_at)
        common = row.protection is AtRest.FIELD_ENCRYPTION
        next_id = batch.new_record_id
        dumps = orjson.dumps
        values, blobs_in, sources_in = columns.values, columns.blobs, columns.sources
        data: list[bytes] = []
        new_ids: list[str] = []
        sources: list[str | None] = []
        count = 0
        for i in indexes:
            try:
                if common and blobs_in[i] is None:
                    value = values[i]
                    try:  # encode_value's bytes, its checks left to it when one might fail
                        encoded = dumps(value, option=_SORT_KEYS)
                    except (TypeError, ValueError):  # orjson.JSONEncodeError among them
                        encoded = encode_value(value)  # raises its InputError
                    if b"null" in encoded or len(encoded) > MAX_VALUE_BYTES:
                        encoded = encode_value(value)
                    data.append(encoded)
                    record_id = next_id()
                    new_ids.append(record_id)
                    sources.append(sources_in[i])
                else:
                    record_id = self._prepare(batch, events[i], row, expires_at, blobs)
            except InputError as exc:
                outcomes[i] = Outcome(False, exc.code, exc.message)
                refused[(*asked, exc.code)] += 1
                continue
            outcomes[i] = stored
            record_ids[i] = record_id
            count += 1
        if new_ids:
            prefix = batch.aad_prefix(subject_id, service, data_type)
            envelopes = batch.cipher(subject_id).encrypt_many(
                [(d, prefix + r.encode()) for d, r in zip(data, new_ids, strict=True)]
            )
            batch.used[subject_id] += len(envelopes)
            qualifier, bits, protection, now = (
                row.qualifier_id, row.purpose_bits, row.protection_id, batch.now,
            )  # fmt: skip
            sealed += [
                (r, subject_id, service, data_type, qualifier, bits, protection, v, None, s, now,
                 expires_at)
                for r, v, s in zip(new_ids, envelopes, sources, strict=True)
            ]  # fmt: skip
        return count

    def _prepare(
        self,
        batch: CollectBatch,
        ev: Event,
        row: CompiledRow,
        expires_at: int | None,
        blobs: BlobBatch,
    ) -> str:
        """Add one record row (in :data:`_RECORD_COLUMNS` order) to ``batch``, its value
        protected (a field encryption is left to :meth:`CollectBatch.sealed_rows`); its id."""
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
_SORT_KEYS = orjson.OPT_SORT_KEYS


class _Columns(NamedTuple):
    """A batch's events as columns (the collector reads them by index)."""

    subject_ids: Sequence[str]
    services: Sequence[str]
    data_types: Sequence[str]
    purposes: Sequence[Purpose]
    values: Sequence[Any]
    blobs: Sequence[bytes | None]
    sources: Sequence[str | None]


def _columns(events: Sequence[Event]) -> _Columns:
    """The columns of ``events``: an :class:`EventBatch`'s own lists, or the events
    transposed (one pass in C; an :class:`Event` is a tuple)."""
    if isinstance(events, EventBatch):
        return _Columns(
            events.subject_ids,
            [events.service] * len(events),
            events.data_types,
            events.purposes,
            events.values,
            events.blobs,
            events.sources,
        )
    return _Columns(*zip(*events, strict=True))


_Asked = tuple[str, str, str, str]
"""What a group of events asks: (subject, service, data type, purpose id)."""

_WRONG_SERVICE = Outcome(
    False, "wrong_service", "a service credential collects only for its own service"
)
_UNKNOWN_SUBJECT = Outcome(False, "unknown_subject", "no such subject")
_INACTIVE = Outcome(False, Reason.SUBJECT_INACTIVE.value, "the subject is no longer active")
_RECONSENT = Outcome(
    False,
    Reason.RECONSENT_REQUIRED.value,
    "the service changed materially; consent again first",
)
_NOT_STORED = Outcome(True, "processed_not_stored", "processed for this request and not stored")
_MAX_PREFIXES = 100_000


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
