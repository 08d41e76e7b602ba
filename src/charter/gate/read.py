"""
:class:`Reader`: reading personal data for a declared purpose. A read names a service and a
purpose; it returns only records whose inventory row declares that purpose while the
subject's switches allow it, never expired ones, and is audited either way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from charter.clock import Clock
from charter.crypto import FieldCipher
from charter.errors import InputError, NotFoundError, RefusedError
from charter.gate.blobs import read_blob, stored_value
from charter.gate.journal import Journal
from charter.gate.keys import DataKeys
from charter.gate.model import RecordOut, Subject, purposes_of
from charter.gate.protect import reveal
from charter.gate.subjects import SubjectDirectory
from charter.gate.switches import Switches
from charter.policy import PURPOSE_BITS, CompiledCatalog, Decision, Reason, decide_use
from charter.store import schema as t
from charter.store.regions import RegionStores
from charter.taxonomy import AtRest, Purpose


class Reader:
    """Purpose-bound reads of records, blobs and one-way secrets."""

    def __init__(
        self,
        compiled: CompiledCatalog,
        stores: RegionStores,
        clock: Clock,
        journal: Journal,
        subjects: SubjectDirectory,
        keys: DataKeys,
    ) -> None:
        self.compiled = compiled
        self.stores = stores
        self.clock = clock
        self.journal = journal
        self.subjects = subjects
        self.keys = keys

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
        subject = self.subjects.active(subject_id)
        now = self.clock()
        r = t.records
        with self.stores.region(subject.region).begin() as conn:
            allowed = self._usable_types(conn, subject, service, purpose, data_type, actor)
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
                self.keys.cipher(conn, subject_id, subject.region)
                if any(x.protection == AtRest.FIELD_ENCRYPTION.value for x in rows)
                else None
            )
            out = [record_out(x, cipher) for x in rows]
            self.journal.record(
                conn,
                actor,
                "use",
                subject_id,
                {"service": service, "purpose": purpose.value, "records": len(out)},
            )
        return out

    def _usable_types(
        self,
        conn: Connection,
        subject: Subject,
        service: str,
        purpose: Purpose,
        data_type: str | None,
        actor: str,
    ) -> list[str]:
        """The data types of ``service`` usable for ``purpose`` now; a refusal is audited
        and raised with its reason."""
        subject_id = subject.id
        switches = Switches.load(conn, [subject_id]).get(subject_id, {})
        allowed: list[str] = []
        blocked: Decision | None = None  # a declared purpose refused by a switch
        for row in self.compiled.rows_for(service, data_type):
            decision = decide_use(
                self.compiled,
                row=row,
                purpose=purpose,
                switches=switches,
                market=subject.market,
            )
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
            self.journal.record(
                conn,
                actor,
                "refuse",
                subject_id,
                {"use": service, "purpose": purpose.value, "reason": reason},
            )
            raise RefusedError(message, code=reason, field="purpose")
        return allowed

    def read_blob(
        self, subject_id: str, record_id: str, *, service: str, purpose: Purpose, actor: str
    ) -> bytes:
        """
        The decrypted blob of one of ``service``'s records, under the same purpose rules as
        :meth:`read`; another service's record is reported as not found.
        """
        subject = self.subjects.active(subject_id)
        r = t.records
        with self.stores.region(subject.region).begin() as conn:
            rec = conn.execute(
                select(r).where(
                    r.c.id == record_id, r.c.subject_id == subject_id, r.c.service == service
                )
            ).first()
            if rec is None or rec.blob is None:
                raise NotFoundError("no such blob", field="record_id")
            allowed = self._usable_types(conn, subject, service, purpose, rec.data_type, actor)
            now = self.clock()
            if (
                rec.data_type not in allowed
                or not rec.purposes & PURPOSE_BITS[purpose]
                or (rec.expires_at is not None and rec.expires_at <= now)
            ):
                raise NotFoundError("no such blob", field="record_id")
            cipher = self.keys.cipher(conn, subject_id, subject.region)
            if cipher is None:
                raise NotFoundError("no such blob", field="record_id")
            self.journal.record(
                conn,
                actor,
                "use",
                subject_id,
                {"service": service, "purpose": purpose.value, "records": 1},
            )
        return read_blob(
            self.stores.blob_dir(subject.region), cipher, subject_id, record_id, rec.blob, rec.value
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
        region = region or self.subjects.subject(subject_id).region
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


def revealed_value(x: Any, cipher: FieldCipher | None) -> Any:
    """A stored ``records`` row's value as its protection lets a reader see it (decrypted,
    or the hash/plain form), or None when the row holds none (an inline blob is no value)."""
    stored = stored_value(x)
    if stored is None:
        return None
    return reveal(
        AtRest(x.protection),
        stored,
        cipher=cipher,
        subject_id=x.subject_id,
        service=x.service,
        data_type=x.data_type,
        record_id=x.id,
    )


def record_out(x: Any, cipher: FieldCipher | None) -> RecordOut:
    """A stored ``records`` row as a reader gets it, its value revealed with ``cipher`` (the
    row's subject's, or ``None`` when no value is field-encrypted)."""
    return RecordOut(
        id=x.id,
        service=x.service,
        data_type=x.data_type,
        qualifier=x.qualifier,
        purposes=purposes_of(x.purposes),
        value=revealed_value(x, cipher),
        has_blob=x.blob is not None,
        source=x.source,
        collected_at=x.collected_at,
        expires_at=x.expires_at,
    )
