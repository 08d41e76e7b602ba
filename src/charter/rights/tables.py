"""
The rights engine's own tables, on the gate's :data:`charter.store.schema.metadata`.

They hold no personal values: free text a person writes (request and complaint messages,
the answers to them) is stored through the gate as records of the ``privacy_center``
service, and these tables only point at those records. Subject ids are kept where the work
needs them and cleared when the account is erased; ``subject_ref`` (the keyed fingerprint
the audit log uses) stays, so anonymized counts and proofs of handling survive.

Device ids (opaque installation ids, as records' ``source``) are kept in plain, to reach a
person's devices; the device list goes when the account is erased.

Control database: requests, request events, device commands, export downloads, jobs,
government requests, anonymized counters (consent records and consented catalog snapshots
are the gate's: :mod:`charter.store.schema`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text

from charter.store.registry import Erase, register_table
from charter.store.schema import metadata

_SERIAL = BigInteger().with_variant(Integer, "sqlite")

requests = Table(
    "rights_requests",
    metadata,
    Column(
        "id", String(40), primary_key=True, comment="Random request id, `rq_` and 32 hex digits."
    ),
    Column(
        "kind",
        String(16),
        nullable=False,
        comment="access | correct | delete | withdraw | complain.",
    ),
    Column(
        "subject_id",
        String(40),
        nullable=True,
        comment="The requester; cleared when the account is erased.",
    ),
    Column(
        "subject_ref",
        String(64),
        nullable=False,
        comment="Keyed fingerprint of the subject id (kept).",
    ),
    Column(
        "region",
        String(64),
        nullable=False,
        comment="Region of the subject (where its messages are).",
    ),
    Column("service", String(64), nullable=True, comment="The service concerned, if any."),
    Column("state", String(16), nullable=False, comment="open | assigned | answered | closed."),
    Column(
        "assigned_to",
        String(80),
        nullable=True,
        comment="Staff member handling it (staff name, not a subject).",
    ),
    Column(
        "message_record",
        String(32),
        nullable=True,
        comment="Gate record (privacy_center) with the person's text.",
    ),
    Column(
        "answer_record",
        String(32),
        nullable=True,
        comment="Gate record (privacy_center) with the answer.",
    ),
    Column(
        "outcome",
        String(40),
        nullable=True,
        comment="fulfilled | rejected | withdrawn | partially_fulfilled.",
    ),
    Column(
        "result",
        Text,
        nullable=True,
        comment="Canonical JSON of what the engine did (counts, ids of jobs).",
    ),
    Column("created_at", BigInteger, nullable=False, comment="Microseconds since epoch."),
    Column("updated_at", BigInteger, nullable=False),
    Column("due_at", BigInteger, nullable=False, comment="Legal deadline: created_at + 30 days."),
    Column("closed_at", BigInteger, nullable=True),
    Index("ix_rights_requests_subject", "subject_id", "created_at"),
    Index("ix_rights_requests_state_due", "state", "due_at"),
    comment="Rights requests and complaints with their state machine and legal deadline.",
)

request_events = Table(
    "rights_request_events",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column(
        "request_id",
        String(40),
        ForeignKey("rights_requests.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("at", BigInteger, nullable=False),
    Column("state", String(16), nullable=False, comment="The state entered."),
    Column("actor", String(80), nullable=False, comment="subject, staff:<name>, job:<name>."),
    Index("ix_rights_request_events_request", "request_id", "id"),
    comment="Every state change of a request, in order (no personal data).",
)


device_commands = Table(
    "rights_device_commands",
    metadata,
    Column(
        "id", String(40), primary_key=True, comment="Random command id, `dc_` and 32 hex digits."
    ),
    Column(
        "subject_id",
        String(40),
        nullable=True,
        comment="Owner; cleared when the account is erased.",
    ),
    Column("subject_ref", String(64), nullable=False),
    Column(
        "device_id",
        String(120),
        nullable=False,
        comment="Opaque device installation id (as records' source).",
    ),
    Column(
        "kind", String(32), nullable=False, comment="delete_service_data | delete_account_data."
    ),
    Column("service", String(64), nullable=True),
    Column("request_id", String(40), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column(
        "acked_at",
        BigInteger,
        nullable=True,
        comment="When the device confirmed it executed the command.",
    ),
    Index("ix_rights_device_commands_subject", "subject_id", "acked_at"),
    Index("ix_rights_device_commands_device", "device_id", "acked_at"),
    comment="Commands queued for a person's devices (deletion after withdrawal or account deletion).",
)

devices = Table(
    "rights_devices",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("device_id", String(120), primary_key=True, comment="Opaque device installation id."),
    Column("registered_at", BigInteger, nullable=False),
    comment="Devices known to belong to an account, so deletion commands reach every one.",
)

exports = Table(
    "rights_exports",
    metadata,
    Column(
        "id",
        String(40),
        primary_key=True,
        comment="Export id, `ex_` and 32 hex digits; names the file.",
    ),
    Column("subject_id", String(40), nullable=True, comment="Whose export; cleared when erased."),
    Column("request_id", String(40), nullable=True),
    Column(
        "token_hash",
        String(64),
        nullable=True,
        unique=True,
        comment="Keyed hash of the download token.",
    ),
    Column("size", BigInteger, nullable=True),
    Column("records", BigInteger, nullable=True),
    Column("state", String(16), nullable=False, comment="building | ready | downloaded | expired."),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("downloaded_at", BigInteger, nullable=True),
    Index("ix_rights_exports_subject", "subject_id"),
    comment="Export archives under <data dir>/exports and their single-use download tokens.",
)

jobs = Table(
    "rights_jobs",
    metadata,
    Column("id", String(40), primary_key=True, comment="`jb_` and 32 hex digits."),
    Column("kind", String(24), nullable=False, comment="erase_account | export."),
    Column("subject_id", String(40), nullable=True, comment="Cleared when an erasure finishes."),
    Column("subject_ref", String(64), nullable=False),
    Column("region", String(64), nullable=False),
    Column("request_id", String(40), nullable=True),
    Column("state", String(16), nullable=False, comment="running | done."),
    Column("step", String(24), nullable=False, comment="Last step completed."),
    Column("done", BigInteger, nullable=False, default=0, comment="Items processed so far."),
    Column("started_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_rights_jobs_state", "state"),
    Index("ix_rights_jobs_subject", "subject_id"),
    comment="Resumable rights jobs (account erasure, exports).",
)

gov_requests = Table(
    "rights_gov_requests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("received_on", String(10), nullable=False, comment="ISO date the request arrived."),
    Column(
        "authority",
        String(200),
        nullable=False,
        comment="The requesting authority (an institution).",
    ),
    Column("country", String(2), nullable=False, comment="ISO 3166-1 alpha-2, lower case."),
    Column(
        "kind",
        String(40),
        nullable=False,
        comment="user_data | content_removal | emergency | preservation.",
    ),
    Column("accounts_affected", Integer, nullable=False),
    Column(
        "outcome",
        String(40),
        nullable=False,
        comment="disclosed | partially_disclosed | rejected | no_data | pending.",
    ),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(80), nullable=False),
    Index("ix_rights_gov_requests_received", "received_on"),
    comment="Register of government data requests for the yearly transparency report.",
)

counters = Table(
    "rights_counters",
    metadata,
    Column("period", String(7), primary_key=True, comment="YYYY-MM."),
    Column(
        "name", String(80), primary_key=True, comment="e.g. accounts_erased, records_erased:cloud."
    ),
    Column("count", BigInteger, nullable=False),
    comment="Anonymized counts that outlive the people they count.",
)

# -- registration: how each column is classified and what account erasure does -----------
# Account erasure (charter.rights.erasure): the job's last step nulls the subject column of
# requests and device commands (``Erase.CLEAR``, with ``clear_subject_references``; requests
# also lose their message and answer record ids), deletes the device list and export rows
# (``Erase.OWNER``: after the job has queued a command for every device and removed every
# archive, so not with ``erase_subject_rows`` at its start) and clears its own job row.

register_table(
    requests,
    subject_column="subject_id",
    reference=("subject_id", "subject_ref", "message_record", "answer_record"),
    neither=(
        "id", "kind", "region", "service", "state", "assigned_to", "outcome", "result",
        "created_at", "updated_at", "due_at", "closed_at",
    ),
    erase=Erase.CLEAR,
    distribution="local",  # staff's queue, read across subjects; the subject column is cleared
)  # fmt: skip
register_table(
    request_events,
    neither=("id", "request_id", "at", "state", "actor"),
    distribution="local",  # the history of a (local) request
)
register_table(
    device_commands,
    subject_column="subject_id",
    personal={"device_id": "plain (device installation id)"},
    reference=("subject_id", "subject_ref"),
    neither=("id", "kind", "service", "request_id", "created_at", "acked_at"),
    erase=Erase.CLEAR,
    distribution="local",  # a queue polled by device; the subject column is cleared
)
register_table(
    devices,
    subject_column="subject_id",
    personal={"device_id": "plain (device installation id)"},
    reference=("subject_id",),
    neither=("registered_at",),
    erase=Erase.OWNER,
)
register_table(
    exports,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=(
        "id", "request_id", "token_hash", "size", "records", "state", "created_at",
        "expires_at", "downloaded_at",
    ),
    erase=Erase.OWNER,
    distribution="local",  # few, short-lived, fetched by a download token that names no subject
)  # fmt: skip
register_table(
    jobs,
    subject_column="subject_id",
    reference=("subject_id", "subject_ref"),
    neither=(
        "id", "kind", "region", "request_id", "state", "step", "done", "started_at",
        "updated_at",
    ),
    erase=Erase.OWNER,
    distribution="local",  # the job queue, read across subjects by the workers
)  # fmt: skip
register_table(
    gov_requests,
    neither=(
        "id", "received_on", "authority", "country", "kind", "accounts_affected", "outcome",
        "created_at", "created_by",
    ),
    distribution="local",  # staff's register of government requests
)  # fmt: skip
register_table(
    counters, neither=("period", "name", "count"), distribution="local"
)  # transparency report totals
