"""
:class:`Gate`: the only door to personal data. It composes the gate's parts (subjects,
switches, collection, reads, data keys, the journal) and offers them as one object; each
method says which part does the work. See ``docs/architecture.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future

from sqlalchemy import Connection, select

from charter.catalog import Catalog
from charter.clock import Clock
from charter.crypto import FieldCipher, Keyring
from charter.errors import RefusedError
from charter.gate.blobs import StagedBlob, new_record_id
from charter.gate.collect import Collector
from charter.gate.consent import ConsentBook
from charter.gate.journal import Journal
from charter.gate.keys import DataKeys
from charter.gate.model import ACTIVE, BatchResult, Event, RecordOut, Subject, SwitchChange
from charter.gate.protect import PasswordHashing
from charter.gate.read import Reader
from charter.gate.records import remove_records
from charter.gate.subjects import SubjectDirectory
from charter.gate.switches import Switches
from charter.policy import CompiledCatalog, Reason, SubjectKind
from charter.store import schema as t
from charter.store.regions import RegionStores
from charter.taxonomy import Purpose


class Gate:
    """The personal-data store, enforcing the catalog on every write and read."""

    def __init__(
        self,
        catalog: Catalog,
        compiled: CompiledCatalog,
        keyring: Keyring,
        stores: RegionStores,
        clock: Clock,
        journal: Journal,
        *,
        passwords: PasswordHashing | None = None,
    ) -> None:
        self.catalog = catalog
        self.compiled = compiled
        self.keyring = keyring
        self.stores = stores
        self.clock = clock
        self.journal = journal
        self.passwords = passwords or PasswordHashing()
        self.keys = DataKeys(keyring, clock)
        self.subjects = SubjectDirectory(catalog, stores, clock, journal, self.keys)
        self.switchboard = Switches(catalog, compiled, stores, clock, journal, self.subjects)
        self.collector = Collector(
            compiled, keyring, stores, clock, journal, self.subjects, self.keys, self.passwords
        )
        self.reader = Reader(compiled, stores, clock, journal, self.subjects, self.keys)
        self.consents = ConsentBook(self)
        """Consent records; re-consent after a material change is checked by collection,
        in its own transaction."""
        self.collector.collect_guard = self.consents.reconsent_guard

    # -- subjects (SubjectDirectory) -------------------------------------------------------

    def subject_ref(self, subject_id: str) -> str:
        """The keyed fingerprint of a subject id used in audit entries (never the id)."""
        return self.journal.subject_ref(subject_id)

    def create_subject(
        self, kind: SubjectKind | str, market: str, *, actor: str = "admin"
    ) -> Subject:
        """Create an account or pseudonymous subject in the region of its market."""
        return self.subjects.create_subject(kind, market, actor=actor)

    def subject(self, subject_id: str) -> Subject:
        """A subject by id (:class:`~charter.errors.NotFoundError` when there is none)."""
        return self.subjects.subject(subject_id)

    def reset_pseudonym(self, subject_id: str, *, actor: str = "subject") -> Subject:
        """Reset an app-instance or advertising identifier: a new subject starts."""
        return self.subjects.reset_pseudonym(subject_id, actor=actor)

    # -- switches (Switches) ----------------------------------------------------------------

    def switches(self, subject_id: str) -> dict[str, bool]:
        """Every switch of a subject: its own settings over the catalog defaults."""
        return self.switchboard.current(subject_id)

    def switch_history(self, subject_id: str) -> list[SwitchChange]:
        """Every switch change of a subject, oldest first."""
        return self.switchboard.history(subject_id)

    def set_switches(
        self,
        subject_id: str,
        changes: Mapping[str, bool],
        *,
        source: str,
        actor: str,
        skip_unchanged: bool = False,
    ) -> dict[str, bool]:
        """Change switches, durably and with history (see :meth:`Switches.set`)."""
        return self.switchboard.set(
            subject_id, changes, source=source, actor=actor, skip_unchanged=skip_unchanged
        )

    def submit_switches(
        self, subject_id: str, changes: Mapping[str, bool], *, source: str, actor: str
    ) -> Future[tuple[dict[str, bool], int]]:
        """Start a switch change; the future completes once it is durable (see
        :meth:`Switches.submit`)."""
        return self.switchboard.submit(subject_id, changes, source=source, actor=actor)

    def apply_gpc(self, subject_id: str, *, actor: str) -> bool:
        """Honour a Global Privacy Control signal; True when it changed a switch."""
        return self.switchboard.apply_gpc(subject_id, actor=actor)

    # -- collect and read (Collector, Reader) -----------------------------------------------

    def collect(
        self, events: Sequence[Event], *, actor: str, service: str | None = None
    ) -> BatchResult:
        """Offer a batch of events (see :meth:`Collector.collect`)."""
        return self.collector.collect(events, actor=actor, service=service)

    def stage_blob(self, subject_id: str) -> StagedBlob:
        """
        Start sealing a large blob for a record of the subject while it arrives (an upload's
        body): write its chunks, then offer it to :meth:`collect` as an event's ``blob``,
        which decides on it as on any other; what is not collected, :meth:`StagedBlob.discard`
        removes (or the purge sweeps, after a crash).

        Raises:
            NotFoundError: no such subject.
            RefusedError: the subject is no longer active.
        """
        subject = self.subjects.locate(subject_id)
        engine = self.stores.region(subject.region)
        # a read snapshot first (no writer lock): the key exists unless this is the subject's
        # first record; the collect that adopts the blob checks status and key again
        with engine.connect().execution_options(readonly=True) as conn, conn.begin():
            cipher = self._staging_cipher(conn, subject.id, subject.region, create=False)
        if cipher is None:
            with engine.begin() as conn:
                cipher = self._staging_cipher(conn, subject.id, subject.region, create=True)
        assert cipher is not None  # made when missing
        record_id = new_record_id(self.clock())
        return StagedBlob(self.stores.blob_dir(subject.region), cipher, subject.id, record_id)

    def _staging_cipher(
        self, conn: Connection, subject_id: str, region: str, *, create: bool
    ) -> FieldCipher | None:
        """An active subject's cipher in ``conn`` (made when missing, with ``create``).

        Raises:
            RefusedError: the subject is no longer active.
        """
        status = conn.execute(select(t.subjects.c.status).where(t.subjects.c.id == subject_id))
        if status.scalar() != ACTIVE:
            raise RefusedError(
                "the subject is no longer active", code=Reason.SUBJECT_INACTIVE.value
            )
        return self.keys.cipher(conn, subject_id, region, create=create)

    def read(
        self,
        subject_id: str,
        *,
        service: str,
        purpose: Purpose,
        data_type: str | None = None,
        actor: str,
    ) -> list[RecordOut]:
        """The subject's records of ``service`` usable for ``purpose`` now."""
        return self.reader.read(
            subject_id, service=service, purpose=purpose, data_type=data_type, actor=actor
        )

    def read_blob(
        self, subject_id: str, record_id: str, *, service: str, purpose: Purpose, actor: str
    ) -> bytes:
        """The decrypted blob of one of ``service``'s records, under the read rules."""
        return self.reader.read_blob(
            subject_id, record_id, service=service, purpose=purpose, actor=actor
        )

    def stored_secret(
        self, subject_id: str, *, service: str, data_type: str, region: str | None = None
    ) -> bytes | None:
        """The stored form of the newest one-way-protected value of a data type."""
        return self.reader.stored_secret(
            subject_id, service=service, data_type=data_type, region=region
        )

    def delete_records(
        self, subject_id: str, record_ids: Iterable[str], *, service: str, actor: str, why: str
    ) -> int:
        """Delete some of ``service``'s records of a subject (e.g. superseded values), with
        their blobs, audited; returns how many went."""
        ids = [i for i in record_ids if i]
        if not ids:
            return 0
        subject = self.subject(subject_id)
        with self.stores.region(subject.region).begin() as conn:
            count = remove_records(
                conn, self.stores, subject.region, subject_id, service=service, record_ids=ids
            )
            detail = {"service": service, "records": count, "why": why}
            self.journal.record(conn, actor, "delete", subject_id, detail)
        return count

    # -- journal ----------------------------------------------------------------------------

    def audit_admin(self, actor: str, action: str, detail: Mapping[str, object]) -> None:
        """Record an administrative action in the control database's audit chain."""
        self.journal.record_admin(actor, action, detail)

    def regions_in_use(self) -> Iterable[str]:
        """Regions whose database has been opened."""
        return [k for k in self.stores.opened() if not k.startswith("_")]
