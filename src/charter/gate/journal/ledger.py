"""
:class:`Journal`: the one door to the audit log of every database. It writes entries inside
the transaction of the change they record (the subject named by a keyed fingerprint, never
by its id), and reads, verifies and witnesses the logs for the CLI and the staff pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from charter.clock import Clock
from charter.crypto import Keyring, fingerprint
from charter.gate.journal.chain import AuditEntry, append_entries
from charter.gate.journal.proofs import tree_head
from charter.gate.journal.treehead import SignedTreeHead, read_witness, write_witness
from charter.gate.journal.verify import AuditReport, verify_chain
from charter.store.files import register_file_writer
from charter.store.regions import RegionStores
from charter.store.schema import audit_log

CONTROL_NAME = "control"
"""The name the control database's log goes by (regions go by their ids)."""


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One stored audit entry, as read back (``subject_ref`` is a keyed fingerprint)."""

    seq: int
    at: int
    actor: str
    action: str
    subject_ref: str | None
    detail: str


_MAX_REFS = 65_536
"""Subjects whose fingerprint :class:`Journal` keeps (the cache starts again past this many)."""


class Journal:
    """Writes audit entries: the one door to the audit log of every database."""

    def __init__(self, keyring: Keyring, stores: RegionStores, clock: Clock) -> None:
        self._key = keyring.hmac_key
        self._stores = stores
        self._clock = clock
        self._refs: dict[str, str] = {}  # subject id -> fingerprint, an HMAC each saved

    def subject_ref(self, subject_id: str) -> str:
        """The keyed fingerprint that names a subject in audit entries (never the id)."""
        ref = self._refs.get(subject_id)
        if ref is None:
            if len(self._refs) >= _MAX_REFS:
                self._refs.clear()
            ref = self._refs[subject_id] = fingerprint(self._key, subject_id.encode())
        return ref

    def record(
        self,
        conn: Connection,
        actor: str,
        action: str,
        subject_id: str | None,
        detail: Mapping[str, object],
        *,
        at: int | None = None,
    ) -> None:
        """
        Append one entry inside ``conn``'s transaction: it exists exactly when the change
        it records commits. ``detail`` holds codes and counts, never personal values.
        """
        append_entries(conn, [self.entry(actor, action, subject_id, detail, at=at)])

    def entry(
        self,
        actor: str,
        action: str,
        subject_id: str | None,
        detail: Mapping[str, object],
        *,
        at: int | None = None,
    ) -> AuditEntry:
        """An entry as :meth:`record` would append it (the subject fingerprinted), for
        :meth:`record_many` to append later in the same transaction, with others."""
        ref = self.subject_ref(subject_id) if subject_id else None
        return AuditEntry(self._clock() if at is None else at, actor, action, ref, dict(detail))

    def record_many(self, conn: Connection, entries: Sequence[AuditEntry]) -> None:
        """Append prepared entries (subject already fingerprinted, e.g. by :meth:`entry`)
        in one statement, inside ``conn``'s transaction."""
        append_entries(conn, entries)

    def record_admin(self, actor: str, action: str, detail: Mapping[str, object]) -> None:
        """An administrative action, in the control database's log, in its own transaction."""
        with self._stores.control().begin() as conn:
            self.record(conn, actor, action, None, detail)

    # -- reading, verifying, witnessing ----------------------------------------------------

    def databases(self, *, existing_only: bool = False) -> dict[str, Engine]:
        """The control database and the region databases, by name; with ``existing_only``,
        only regions that have a database already (an embedded file, or a configured URL)."""
        settings = self._stores.settings
        out = {CONTROL_NAME: self._stores.control()}
        for region in self._stores.regions:
            exists = (
                region in settings.region_urls
                or (settings.data_dir / "regions" / f"{region}.db").exists()
            )
            if exists or not existing_only:
                out[region] = self._stores.region(region)
        return out

    def witness_path(self, name: str) -> Path:
        """Where the signed tree head of a database's log is kept."""
        return self._stores.settings.data_dir / "audit" / f"{name}.sth.json"

    def verify(self, *, existing_only: bool = False) -> dict[str, AuditReport]:
        """Verify every database's chain, against its witnessed head when one is kept."""
        reports = {}
        for name, engine in self.databases(existing_only=existing_only).items():
            witnessed = read_witness(self.witness_path(name))
            with engine.connect().execution_options(readonly=True) as conn:
                reports[name] = verify_chain(conn, witnessed=witnessed, key=self._key)
        return reports

    def witness(self) -> dict[str, SignedTreeHead]:
        """Sign every database's current head and save it beside the data (copy these files
        off the machine: a rewritten log no longer matches them)."""
        heads = {}
        for name, engine in self.databases().items():
            with engine.connect().execution_options(readonly=True) as conn:
                head = tree_head(conn, self._key, self._clock())
            path = self.witness_path(name)
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_witness(path, head)
            heads[name] = head
        return heads

    @staticmethod
    def recent(engine: Engine, limit: int = 15) -> list[LogEntry]:
        """The newest entries of one database's log, newest first."""
        a = audit_log
        with engine.connect().execution_options(readonly=True) as conn:
            rows = conn.execute(select(a).order_by(a.c.seq.desc()).limit(limit)).all()
        return [LogEntry(r.seq, r.at, r.actor, r.action, r.subject_ref, r.detail) for r in rows]

    def for_subject(
        self,
        engine: Engine,
        subject_id: str,
        *,
        before: int | None = None,
        limit: int = 20,
        mentioning: str | None = None,
    ) -> list[LogEntry]:
        """
        One database's entries about a subject (found by its keyed fingerprint through the
        ``(subject_ref, seq)`` index), newest first, below seq ``before``; with
        ``mentioning``, only entries whose detail holds that word as a JSON string.
        """
        a = audit_log
        query = (
            select(a)
            .where(a.c.subject_ref == self.subject_ref(subject_id))
            .order_by(a.c.seq.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(a.c.seq < before)
        if mentioning is not None:
            query = query.where(a.c.detail.contains(f'"{mentioning}"', autoescape=True))
        with engine.connect().execution_options(readonly=True) as conn:
            rows = conn.execute(query).all()
        return [LogEntry(r.seq, r.at, r.actor, r.action, r.subject_ref, r.detail) for r in rows]


register_file_writer(
    "audit witness",
    ("audit/*.sth.json", "audit/.*.sth.json.*.tmp"),
    holds="",
    erasure="kept: signed tree heads hold hashes only, never a subject id",
)
