"""
The gate: the only code that writes or reads personal data.

Every write names a service, a subject, a data type and a purpose. The gate asks the policy
(:mod:`charter.policy`), refuses with a reason or protects the value as its inventory row
declares, stamps its expiry, writes it to the subject's region and appends an audit entry —
all in one transaction of that region's database. Reads name a purpose too, and return
only data whose row declares that purpose while the subject's switches allow it.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from charter.catalog import Catalog
from charter.crypto import (
    FieldCipher,
    Keyring,
    encode_parts,
    fingerprint,
    new_data_key,
    record_aad_prefix,
    unwrap_data_key,
    wrap_data_key,
)
from charter.errors import InputError, NotFoundError, RefusedError
from charter.gate.journal.chain import AuditEntry, append_entries
from charter.gate.protect import CipherCache, encode_value, protect, reveal
from charter.policy import (
    PURPOSE_BITS,
    CompiledCatalog,
    CompiledRow,
    Decision,
    Reason,
    SubjectKind,
    decide_collect,
    decide_use,
)
from charter.store import schema as t
from charter.store.groupcommit import GroupCommit
from charter.store.regions import RegionStores
from charter.taxonomy import AtRest, Purpose

Clock = Callable[[], int]
CollectGuard = Callable[[Connection, set[tuple[str, str]]], set[tuple[str, str]]]
"""Given the (subject, service) pairs of a batch, the pairs that must not collect now."""

MAX_BATCH = 10_000

# One executemany per batch keeps each data key's lifetime encryption count (T4's limit).
_COUNT_ENCRYPTIONS = (
    update(t.data_keys)
    .where(t.data_keys.c.subject_id == bindparam("sid"))
    .values(encryptions=t.data_keys.c.encryptions + bindparam("n"))
)
ACTIVE = "active"


@dataclass(frozen=True, slots=True)
class Subject:
    """A data subject as the gate knows it (no personal data)."""

    id: str
    kind: SubjectKind
    market: str
    region: str
    status: str


@dataclass(frozen=True, slots=True)
class Event:
    """One piece of personal data offered to the gate."""

    subject_id: str
    service: str
    data_type: str
    purpose: Purpose
    value: Any = None
    blob: bytes | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What happened to one event of a batch."""

    index: int
    accepted: bool
    reason: str
    message: str
    record_id: str | None = None
    stored: bool = False
    expires_at: int | None = None


@dataclass
class BatchResult:
    """The outcome of a collect call: one result per event, in order."""

    items: list[ItemResult] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        """How many events were accepted."""
        return sum(1 for i in self.items if i.accepted)

    @property
    def refused(self) -> int:
        """How many events were refused."""
        return len(self.items) - self.accepted


@dataclass(frozen=True, slots=True)
class RecordOut:
    """A record as a reader receives it."""

    id: str
    service: str
    data_type: str
    qualifier: str
    purposes: tuple[str, ...]
    value: Any
    has_blob: bool
    source: str | None
    collected_at: int
    expires_at: int | None


@dataclass(frozen=True, slots=True)
class SwitchChange:
    """One entry of a subject's switch history."""

    key: str
    value: bool
    changed_at: int
    source: str
    actor: str


def new_id(prefix: str = "") -> str:
    """A random 128-bit identifier, hex encoded."""
    return prefix + secrets.token_hex(16)


def purposes_of(bits: int) -> tuple[str, ...]:
    """The purpose ids in a purpose bit set."""
    return tuple(p.value for p, bit in PURPOSE_BITS.items() if bits & bit)


class Gate:
    """The personal-data store, enforcing the catalog on every write and read."""

    def __init__(
        self,
        catalog: Catalog,
        compiled: CompiledCatalog,
        keyring: Keyring,
        stores: RegionStores,
        clock: Clock,
    ) -> None:
        self.catalog = catalog
        self.compiled = compiled
        self.keyring = keyring
        self.stores = stores
        self.clock = clock
        self.ciphers = CipherCache()
        self._directory: OrderedDict[str, Subject] = OrderedDict()
        self._directory_lock = threading.Lock()
        self._groups: dict[str, GroupCommit] = {}
        self.collect_guard: CollectGuard | None = None
        """Set by the rights engine: refuses collection pending re-consent (G3)."""

    # -- subjects ---------------------------------------------------------------------------

    def subject_ref(self, subject_id: str) -> str:
        """The keyed fingerprint of a subject id used in audit entries (never the id)."""
        return fingerprint(self.keyring.hmac_key, subject_id.encode())

    def create_subject(
        self, kind: SubjectKind | str, market: str, *, actor: str = "admin"
    ) -> Subject:
        """
        Create an account or pseudonymous subject in the region of its market.

        Raises:
            InputError: unknown kind or market.
        """
        try:
            kind = SubjectKind(kind)
        except ValueError:
            raise InputError(
                f"unknown subject kind; use one of: {', '.join(k.value for k in SubjectKind)}",
                field="kind",
            ) from None
        market = market.lower()
        if market not in self.catalog.markets:
            raise InputError(
                "unknown market; use an ISO 3166-1 alpha-2 code listed in the catalog's regions.yaml",
                field="market",
            )
        region = self.catalog.markets[market].region
        subject = Subject(new_id("s_"), kind, market, region, ACTIVE)
        now = self.clock()
        with self.stores.control().begin() as conn:
            conn.execute(
                insert(t.subject_directory).values(
                    subject_id=subject.id, region=region, kind=kind.value, created_at=now
                )
            )
        with self.stores.region(region).begin() as conn:
            conn.execute(
                insert(t.subjects).values(
                    id=subject.id,
                    kind=kind.value,
                    market=market,
                    status=ACTIVE,
                    created_at=now,
                    updated_at=now,
                )
            )
            self._audit(
                conn, actor, "subject_create", subject.id, {"kind": kind.value, "region": region}
            )
        self._remember(subject)
        return subject

    def subject(self, subject_id: str) -> Subject:
        """
        A subject by id.

        Raises:
            NotFoundError: no such subject.
        """
        with self._directory_lock:
            cached = self._directory.get(subject_id)
        if cached is not None:
            return cached
        with self.stores.control().connect().execution_options(readonly=True) as conn:
            row = conn.execute(
                select(t.subject_directory.c.region).where(
                    t.subject_directory.c.subject_id == subject_id
                )
            ).first()
        if row is None:
            raise NotFoundError("no such subject", field="subject_id")
        with self.stores.region(row.region).connect().execution_options(readonly=True) as conn:
            found = conn.execute(select(t.subjects).where(t.subjects.c.id == subject_id)).first()
        if found is None:
            raise NotFoundError("no such subject", field="subject_id")
        subject = Subject(found.id, SubjectKind(found.kind), found.market, row.region, found.status)
        self._remember(subject)
        return subject

    def _remember(self, subject: Subject) -> None:
        with self._directory_lock:
            self._directory[subject.id] = subject
            while len(self._directory) > 100_000:
                self._directory.popitem(last=False)

    def _forget(self, subject_id: str) -> None:
        with self._directory_lock:
            self._directory.pop(subject_id, None)
        self.ciphers.evict(subject_id)

    def reset_pseudonym(self, subject_id: str, *, actor: str = "subject") -> Subject:
        """
        Reset an app-instance or advertising identifier: a new subject starts, and the old
        one is no longer reachable from the device (its data ages out under its retention).
        """
        old = self.subject(subject_id)
        if old.kind is SubjectKind.ACCOUNT:
            raise InputError(
                "only pseudonymous identifiers can be reset; accounts are deleted instead",
                field="subject_id",
            )
        fresh = self.create_subject(old.kind, old.market, actor=actor)
        with self.stores.region(old.region).begin() as conn:
            conn.execute(
                update(t.subjects)
                .where(t.subjects.c.id == old.id)
                .values(status="reset", updated_at=self.clock())
            )
            self._audit(conn, actor, "subject_reset", old.id, {"kind": old.kind.value})
        self._forget(old.id)
        return fresh

    # -- switches ---------------------------------------------------------------------------

    def switches(self, subject_id: str) -> dict[str, bool]:
        """Every switch of a subject: its own settings over the catalog defaults."""
        subject = self.subject(subject_id)
        with self.stores.region(subject.region).connect().execution_options(readonly=True) as conn:
            own = self._load_switches(conn, [subject_id]).get(subject_id, {})
        return {**self.compiled.defaults, **own}

    def switch_history(self, subject_id: str) -> list[SwitchChange]:
        """Every switch change of a subject, oldest first."""
        subject = self.subject(subject_id)
        h = t.switch_history
        with self.stores.region(subject.region).connect().execution_options(readonly=True) as conn:
            rows = conn.execute(
                select(h).where(h.c.subject_id == subject_id).order_by(h.c.id)
            ).all()
        return [SwitchChange(r.key, r.value, r.changed_at, r.source, r.actor) for r in rows]

    def set_switches(
        self,
        subject_id: str,
        changes: Mapping[str, bool],
        *,
        source: str,
        actor: str,
        skip_unchanged: bool = False,
    ) -> dict[str, bool]:
        """
        Change switches, durably and with history. Withdrawing a service's authorization
        stops its collection at once and, where the catalog says so, deletes its server data.

        Args:
            skip_unchanged: leave switches already at the requested value alone (no history).

        Returns:
            Every switch of the subject after the change.

        Raises:
            InputError: an unknown switch key.
        """
        return self._set_switches(
            subject_id, changes, source=source, actor=actor, skip_unchanged=skip_unchanged
        )[0]

    def _set_switches(
        self,
        subject_id: str,
        changes: Mapping[str, bool],
        *,
        source: str,
        actor: str,
        skip_unchanged: bool,
    ) -> tuple[dict[str, bool], int]:
        for key in changes:
            if key not in self.compiled.defaults:
                raise InputError(
                    "unknown switch key; GET /v1/subjects/{id}/switches lists the valid ones",
                    field="key",
                )
        subject = self._active(subject_id)

        def work(conn: Connection) -> tuple[dict[str, bool], int]:
            now = self.clock()
            changed = 0
            current = self._load_switches(conn, [subject_id]).get(subject_id, {})
            for key, value in changes.items():
                before = current.get(key, self.compiled.defaults[key])
                if skip_unchanged and before == value:
                    continue
                changed += 1
                if key in current:
                    conn.execute(
                        update(t.switches)
                        .where(t.switches.c.subject_id == subject_id, t.switches.c.key == key)
                        .values(value=value, changed_at=now, source=source)
                    )
                else:
                    conn.execute(
                        insert(t.switches).values(
                            subject_id=subject_id,
                            key=key,
                            value=value,
                            changed_at=now,
                            source=source,
                        )
                    )
                conn.execute(
                    insert(t.switch_history).values(
                        subject_id=subject_id,
                        key=key,
                        value=value,
                        changed_at=now,
                        source=source,
                        actor=actor,
                    )
                )
                deleted = 0
                if before and not value and key.endswith(".authorization"):
                    deleted = self._on_withdrawal(
                        conn, subject_id, key.removesuffix(".authorization")
                    )
                self._audit(
                    conn,
                    actor,
                    "switch",
                    subject_id,
                    {"key": key, "value": value, "source": source, "deleted_records": deleted},
                )
                current[key] = value
            return current, changed

        # Concurrent switch changes of a region share one durable commit (each in its own
        # savepoint): no caller hears "done" before its change is on disk.
        current, changed = self._group(subject.region).run(work)
        return {**self.compiled.defaults, **current}, changed

    def _group(self, region: str) -> GroupCommit:
        with self._directory_lock:
            group = self._groups.get(region)
            if group is None:
                group = self._groups[region] = GroupCommit(lambda: self.stores.region(region))
            return group

    def apply_gpc(self, subject_id: str, *, actor: str) -> bool:
        """
        Honour a Global Privacy Control signal: opt the subject out of personalized ads.

        The check and the change happen in one transaction, so concurrent signals record one
        change.

        Returns:
            True when this changed a switch (recorded with source ``gpc``).
        """
        key = "system.personalized_ads"
        if key not in self.compiled.defaults:
            return False
        _, changed = self._set_switches(
            subject_id, {key: False}, source="gpc", actor=actor, skip_unchanged=True
        )
        return changed > 0

    def _on_withdrawal(self, conn: Connection, subject_id: str, service_id: str) -> int:
        service = self.catalog.services.get(service_id)
        consent = service.controls.consent if service else None
        if consent is None or "delete_server_data" not in {e.value for e in consent.on_withdrawal}:
            return 0
        return self._delete_records(conn, subject_id, service=service_id)

    def _delete_records(
        self, conn: Connection, subject_id: str, *, service: str | None = None
    ) -> int:
        r = t.records
        where = [r.c.subject_id == subject_id]
        if service is not None:
            where.append(r.c.service == service)
        subject = self.subject(subject_id)
        blobs = conn.execute(select(r.c.blob).where(*where, r.c.blob.is_not(None))).scalars().all()
        for name in blobs:
            (self.stores.blob_dir(subject.region) / name).unlink(missing_ok=True)
        return conn.execute(delete(r).where(*where)).rowcount or 0

    @staticmethod
    def _load_switches(conn: Connection, subject_ids: Sequence[str]) -> dict[str, dict[str, bool]]:
        out: dict[str, dict[str, bool]] = {}
        s = t.switches
        for row in conn.execute(
            select(s.c.subject_id, s.c.key, s.c.value).where(s.c.subject_id.in_(list(subject_ids)))
        ):
            out.setdefault(row.subject_id, {})[row.key] = bool(row.value)
        return out

    def _active(self, subject_id: str) -> Subject:
        subject = self.subject(subject_id)
        if subject.status != ACTIVE:
            raise RefusedError(
                "the subject is no longer active (reset or erased)",
                code=Reason.SUBJECT_INACTIVE.value,
                field="subject_id",
            )
        return subject

    # -- collect ----------------------------------------------------------------------------

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
                subject = subjects.get(ev.subject_id) or self.subject(ev.subject_id)
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
        rows: list[tuple[Any, ...]] = []
        written_blobs: list[Path] = []
        accepted: Counter[tuple[str, str, str]] = Counter()
        refused: Counter[tuple[str, str, str, str]] = Counter()
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
                own = self._load_switches(conn, ids)
                blocked: set[tuple[str, str]] = set()
                if self.collect_guard is not None:
                    pairs = {(events[i].subject_id, events[i].service) for i in indexes}
                    blocked = self.collect_guard(conn, pairs)
                batch = _Batch(conn, region, now)
                for i in indexes:
                    ev = events[i]
                    purpose = str.__str__(ev.purpose)  # the plain id (no enum descriptor)
                    if status.get(ev.subject_id) != ACTIVE:
                        reason = Reason.SUBJECT_INACTIVE.value
                        results[i] = ItemResult(i, False, reason, "the subject is no longer active")
                        refused[(ev.service, ev.data_type, purpose, reason)] += 1
                        continue
                    if blocked and (ev.subject_id, ev.service) in blocked:
                        reason = Reason.RECONSENT_REQUIRED.value
                        results[i] = ItemResult(
                            i, False, reason, "the service changed materially; consent again first"
                        )
                        refused[(ev.service, ev.data_type, purpose, reason)] += 1
                        continue
                    subject = subjects[ev.subject_id]
                    decision = decide_collect(
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
                        refused[(ev.service, ev.data_type, purpose, reason)] += 1
                        continue
                    if not row.stored:
                        results[i] = ItemResult(
                            i,
                            True,
                            "processed_not_stored",
                            "processed for this request and not stored",
                        )
                        accepted[(ev.service, ev.data_type, purpose)] += 1
                        continue
                    try:
                        stored = self._prepare(batch, ev, row, decision.expires_at, written_blobs)
                    except InputError as exc:
                        results[i] = ItemResult(i, False, exc.code, exc.message)
                        refused[(ev.service, ev.data_type, purpose, exc.code)] += 1
                        continue
                    rows.append(stored)
                    results[i] = ItemResult(
                        i, True, "stored", "stored", stored[0], True, decision.expires_at
                    )
                    accepted[(ev.service, ev.data_type, purpose)] += 1
                if rows:
                    conn.exec_driver_sql(_insert_records_sql(conn), rows)
                if batch.used:
                    conn.execute(
                        _COUNT_ENCRYPTIONS,
                        [{"sid": sid, "n": n} for sid, n in batch.used.items()],
                    )
                detail = {
                    "accepted": [[s, d, p, n] for (s, d, p), n in sorted(accepted.items())],
                    "refused": [[s, d, p, r, n] for (s, d, p, r), n in sorted(refused.items())],
                    "subjects": len(ids),
                }
                subject_ref = self.subject_ref(ids[0]) if len(ids) == 1 else None
                if accepted or refused:
                    action = "collect" if accepted else "refuse"
                    append_entries(conn, [AuditEntry(now, actor, action, subject_ref, detail)])
        except BaseException:
            for path in written_blobs:
                path.unlink(missing_ok=True)
            raise

    def _prepare(
        self,
        batch: _Batch,
        ev: Event,
        row: CompiledRow,
        expires_at: int | None,
        written_blobs: list[Path],
    ) -> tuple[Any, ...]:
        """One record row (in :data:`_RECORD_COLUMNS` order), its value protected."""
        record_id = batch.new_record_id()
        protection = row.protection
        value = None
        if ev.value is not None or ev.blob is None:
            data = encode_value(ev.value)
            if protection is AtRest.FIELD_ENCRYPTION:
                cipher = batch.cipher(self, ev.subject_id)
                prefix = batch.aad_prefix(ev.subject_id, ev.service, ev.data_type)
                value = cipher.encrypt(data, aad=prefix + encode_parts(record_id.encode()))
                batch.used[ev.subject_id] += 1
            else:
                value = protect(
                    protection,
                    data,
                    keyring=self.keyring,
                    cipher=None,
                    subject_id=ev.subject_id,
                    service=ev.service,
                    data_type=ev.data_type,
                    record_id=record_id,
                )
        blob_name = None
        if ev.blob is not None:
            cipher = batch.cipher(self, ev.subject_id)
            blob_name = f"{ev.subject_id[2:4]}/{record_id}"
            aad = b"blob:" + ev.subject_id.encode() + b":" + record_id.encode()
            path = self.stores.blob_dir(batch.region) / blob_name
            path.parent.mkdir(exist_ok=True, mode=0o700)
            _write_durably(path, cipher.encrypt(ev.blob, aad=aad))
            written_blobs.append(path)
            batch.used[ev.subject_id] += 1
        return (
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
        )

    def _cipher(
        self, conn: Connection, subject_id: str, region: str, *, create: bool
    ) -> FieldCipher | None:
        cached = self.ciphers.get(subject_id)
        if cached is not None:
            return cached
        row = conn.execute(
            select(t.data_keys.c.wrapped, t.data_keys.c.encryptions).where(
                t.data_keys.c.subject_id == subject_id
            )
        ).first()
        if row is not None:
            dek = unwrap_data_key(self.keyring, row.wrapped, subject_id=subject_id, region=region)
            cipher = FieldCipher(dek, encryptions=row.encryptions)
        elif create:
            dek = new_data_key()
            wrapped = wrap_data_key(self.keyring, dek, subject_id=subject_id, region=region)
            conn.execute(
                insert(t.data_keys).values(
                    subject_id=subject_id,
                    wrapped=wrapped,
                    kek_version=self.keyring.current_version,
                    encryptions=0,
                    created_at=self.clock(),
                )
            )
            cipher = FieldCipher(dek)
        else:
            return None
        self.ciphers.put(subject_id, cipher)
        return cipher

    # -- read -------------------------------------------------------------------------------

    def read(
        self,
        subject_id: str,
        *,
        service: str,
        purpose: Purpose,
        data_type: str | None = None,
        actor: str,
    ) -> list[RecordOut]:
        """
        The subject's records of ``service`` usable for ``purpose`` now (expired ones never).

        Raises:
            RefusedError: nothing of the service may be used for this purpose, with the reason.
        """
        if service not in self.compiled.types_by_service:
            raise InputError("unknown service; the catalog does not declare it", field="service")
        subject = self._active(subject_id)
        now = self.clock()
        r = t.records
        with self.stores.region(subject.region).begin() as conn:
            switches = self._load_switches(conn, [subject_id]).get(subject_id, {})
            allowed: list[str] = []
            blocked: Decision | None = None  # a declared purpose refused by a switch
            for row in self.compiled.rows_for(service, data_type):
                decision = decide_use(self.compiled, row=row, purpose=purpose, switches=switches)
                if decision.allowed:
                    allowed.append(row.data_type)
                elif decision.reason is not Reason.PURPOSE_NOT_DECLARED and blocked is None:
                    blocked = decision
            if not allowed:
                reason = blocked.reason.value if blocked else Reason.PURPOSE_NOT_DECLARED.value
                message = (
                    blocked.message
                    if blocked
                    else f"{service} declares no data usable for {purpose.value}"
                )
                self._audit(
                    conn,
                    actor,
                    "refuse",
                    subject_id,
                    {"use": service, "purpose": purpose.value, "reason": reason},
                )
                raise RefusedError(message, code=reason, field="purpose")
            query = (
                select(r)
                .where(
                    r.c.subject_id == subject_id,
                    r.c.service == service,
                    r.c.data_type.in_(allowed),
                    r.c.purposes.op("&")(PURPOSE_BITS[purpose]) != 0,
                    (r.c.expires_at.is_(None)) | (r.c.expires_at > now),
                )
                .order_by(r.c.collected_at, r.c.id)
            )
            rows = conn.execute(query).all()
            cipher = (
                self._cipher(conn, subject_id, subject.region, create=False)
                if any(x.protection == AtRest.FIELD_ENCRYPTION.value for x in rows)
                else None
            )
            out = [
                RecordOut(
                    id=x.id,
                    service=x.service,
                    data_type=x.data_type,
                    qualifier=x.qualifier,
                    purposes=purposes_of(x.purposes),
                    value=reveal(
                        AtRest(x.protection),
                        x.value,
                        cipher=cipher,
                        subject_id=subject_id,
                        service=x.service,
                        data_type=x.data_type,
                        record_id=x.id,
                    )
                    if x.value is not None
                    else None,
                    has_blob=x.blob is not None,
                    source=x.source,
                    collected_at=x.collected_at,
                    expires_at=x.expires_at,
                )
                for x in rows
            ]
            self._audit(
                conn,
                actor,
                "use",
                subject_id,
                {"service": service, "purpose": purpose.value, "records": len(out)},
            )
        return out

    def read_blob(
        self, subject_id: str, record_id: str, *, service: str, purpose: Purpose, actor: str
    ) -> bytes:
        """
        The decrypted blob of one of ``service``'s records, under the same purpose rules as
        :meth:`read`; another service's record is reported as not found.
        """
        subject = self._active(subject_id)
        with self.stores.region(subject.region).connect().execution_options(readonly=True) as conn:
            rec = conn.execute(
                select(t.records).where(
                    t.records.c.id == record_id,
                    t.records.c.subject_id == subject_id,
                    t.records.c.service == service,
                )
            ).first()
        if rec is None or rec.blob is None:
            raise NotFoundError("no such blob", field="record_id")
        records = self.read(
            subject_id, service=rec.service, purpose=purpose, data_type=rec.data_type, actor=actor
        )
        if not any(x.id == record_id for x in records):
            raise NotFoundError("no such blob", field="record_id")
        with self.stores.region(subject.region).connect().execution_options(readonly=True) as conn:
            cipher = self._cipher(conn, subject_id, subject.region, create=False)
        if cipher is None:
            raise NotFoundError("no such blob", field="record_id")
        aad = b"blob:" + subject_id.encode() + b":" + record_id.encode()
        return cipher.decrypt(
            (self.stores.blob_dir(subject.region) / rec.blob).read_bytes(), aad=aad
        )

    def stored_secret(
        self, subject_id: str, *, service: str, data_type: str, region: str | None = None
    ) -> bytes | None:
        """
        The stored form of the newest one-way-protected value of a data type (an argon2id
        string for a password): what a verifier compares against, never a readable value.

        Args:
            region: look in this region without resolving the subject (the account service's
                decoy lookups for unknown accounts take the same path and time).

        Raises:
            InputError: the data type is not declared one-way protected (password hash or
                keyed hash) by the service.
        """
        rows = self.compiled.rows_for(service, data_type)
        one_way = (AtRest.PASSWORD_HASH, AtRest.KEYED_HASH)
        if not rows or any(row.protection not in one_way for row in rows):
            raise InputError(
                "only one-way protected values can be read this way", field="data_type"
            )
        region = region or self.subject(subject_id).region
        r = t.records
        query = (
            select(r.c.value)
            .where(r.c.subject_id == subject_id, r.c.service == service, r.c.data_type == data_type)
            .order_by(r.c.collected_at.desc(), r.c.id.desc())
            .limit(1)
        )
        with self.stores.region(region).connect().execution_options(readonly=True) as conn:
            value = conn.execute(query).scalar()
        return bytes(value) if value is not None else None

    def delete_records(
        self, subject_id: str, record_ids: Iterable[str], *, service: str, actor: str, why: str
    ) -> int:
        """Delete some of ``service``'s records of a subject (e.g. superseded values), audited;
        returns how many went."""
        ids = [i for i in record_ids if i]
        if not ids:
            return 0
        subject = self.subject(subject_id)
        r = t.records
        with self.stores.region(subject.region).begin() as conn:
            count = (
                conn.execute(
                    delete(r).where(
                        r.c.subject_id == subject_id, r.c.service == service, r.c.id.in_(ids)
                    )
                ).rowcount
                or 0
            )
            self._audit(
                conn,
                actor,
                "delete",
                subject_id,
                {"service": service, "records": count, "why": why},
            )
        return count

    # -- audit ------------------------------------------------------------------------------

    def _audit(
        self,
        conn: Connection,
        actor: str,
        action: str,
        subject_id: str | None,
        detail: Mapping[str, object],
    ) -> None:
        ref = self.subject_ref(subject_id) if subject_id else None
        append_entries(conn, [AuditEntry(self.clock(), actor, action, ref, dict(detail))])

    def audit_admin(self, actor: str, action: str, detail: Mapping[str, object]) -> None:
        """Record an administrative action in the control database's audit chain."""
        with self.stores.control().begin() as conn:
            self._audit(conn, actor, action, None, detail)

    def regions_in_use(self) -> Iterable[str]:
        """Regions whose database has been opened."""
        return [k for k in self.stores.opened() if not k.startswith("_")]


_NO_SWITCHES: Mapping[str, bool] = {}

_RECORD_COLUMNS = (
    "id", "subject_id", "service", "data_type", "qualifier", "purposes", "protection",
    "value", "blob", "source", "collected_at", "expires_at",
)  # fmt: skip


def _insert_records_sql(conn: Connection) -> str:
    """A driver-level INSERT (executemany over tuples: the collect hot path skips per-row
    SQLAlchemy parameter processing)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return (
        f"INSERT INTO records ({', '.join(_RECORD_COLUMNS)}) "  # noqa: S608 - constants only
        f"VALUES ({', '.join([mark] * len(_RECORD_COLUMNS))})"
    )


class _Batch:
    """Per-transaction caches of one collect call: ciphers, AAD prefixes, key usage."""

    def __init__(self, conn: Connection, region: str, now: int) -> None:
        self.conn = conn
        self.region = region
        self.now = now
        self._id_prefix = f"{now:016x}"
        self.ciphers: dict[str, FieldCipher] = {}
        self.prefixes: dict[tuple[str, str, str], bytes] = {}
        self.used: Counter[str] = Counter()

    def new_record_id(self) -> str:
        """
        A record id ordered by time: 16 hex digits of the collection time, then 64 random
        bits. Records collected together sit together in the primary-key index, so inserting
        them and later purging them (they expire together) touches few index pages.
        """
        return self._id_prefix + os.urandom(8).hex()

    def cipher(self, gate: Gate, subject_id: str) -> FieldCipher:
        cipher = self.ciphers.get(subject_id)
        if cipher is None:
            found = gate._cipher(self.conn, subject_id, self.region, create=True)
            assert found is not None
            cipher = self.ciphers[subject_id] = found
        return cipher

    def aad_prefix(self, subject_id: str, service: str, data_type: str) -> bytes:
        key = (subject_id, service, data_type)
        prefix = self.prefixes.get(key)
        if prefix is None:
            prefix = self.prefixes[key] = record_aad_prefix(
                subject_id=subject_id, service=service, data_type=data_type
            )
        return prefix


def _write_durably(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
