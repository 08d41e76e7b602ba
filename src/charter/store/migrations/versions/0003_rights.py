"""rights engine: requests, consent records, device commands, exports, jobs, government register

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 12:33:54.857901
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rights_catalog_snapshots",
        sa.Column(
            "digest",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the canonical JSON below.",
        ),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column(
            "body",
            sa.Text(),
            nullable=False,
            comment="A service's declarations as canonical JSON (no personal data).",
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_rights_catalog_snapshots")),
        comment="Service declarations people consented to, for material-change checks.",
    )
    op.create_table(
        "rights_counters",
        sa.Column("period", sa.String(length=7), nullable=False, comment="YYYY-MM."),
        sa.Column(
            "name",
            sa.String(length=80),
            nullable=False,
            comment="e.g. accounts_erased, records_erased:cloud.",
        ),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("period", "name", name=op.f("pk_rights_counters")),
        comment="Anonymized counts that outlive the people they count.",
    )
    op.create_table(
        "rights_device_commands",
        sa.Column(
            "id",
            sa.String(length=40),
            nullable=False,
            comment="Random command id, `dc_` and 32 hex digits.",
        ),
        sa.Column(
            "subject_id",
            sa.String(length=40),
            nullable=True,
            comment="Owner; cleared when the account is erased.",
        ),
        sa.Column("subject_ref", sa.String(length=64), nullable=False),
        sa.Column(
            "device_id",
            sa.String(length=120),
            nullable=False,
            comment="Opaque device installation id (as records' source).",
        ),
        sa.Column(
            "kind",
            sa.String(length=32),
            nullable=False,
            comment="delete_service_data | delete_account_data.",
        ),
        sa.Column("service", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column(
            "acked_at",
            sa.BigInteger(),
            nullable=True,
            comment="When the device confirmed it executed the command.",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_device_commands")),
        comment="Commands queued for a person's devices (deletion after withdrawal or account deletion).",
    )
    with op.batch_alter_table("rights_device_commands", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rights_device_commands_device", ["device_id", "acked_at"], unique=False
        )
        batch_op.create_index(
            "ix_rights_device_commands_subject", ["subject_id", "acked_at"], unique=False
        )

    op.create_table(
        "rights_devices",
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column(
            "device_id",
            sa.String(length=120),
            nullable=False,
            comment="Opaque device installation id.",
        ),
        sa.Column("registered_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "device_id", name=op.f("pk_rights_devices")),
        comment="Devices known to belong to an account, so deletion commands reach every one.",
    )
    op.create_table(
        "rights_exports",
        sa.Column(
            "id",
            sa.String(length=40),
            nullable=False,
            comment="Export id, `ex_` and 32 hex digits; names the file.",
        ),
        sa.Column(
            "subject_id",
            sa.String(length=40),
            nullable=True,
            comment="Whose export; cleared when erased.",
        ),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column(
            "token_hash",
            sa.String(length=64),
            nullable=True,
            comment="Keyed hash of the download token.",
        ),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("records", sa.BigInteger(), nullable=True),
        sa.Column(
            "state",
            sa.String(length=16),
            nullable=False,
            comment="building | ready | downloaded | expired.",
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("downloaded_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_exports")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_rights_exports_token_hash")),
        comment="Export archives under <data dir>/exports and their single-use download tokens.",
    )
    op.create_table(
        "rights_gov_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column(
            "received_on",
            sa.String(length=10),
            nullable=False,
            comment="ISO date the request arrived.",
        ),
        sa.Column(
            "authority",
            sa.String(length=200),
            nullable=False,
            comment="The requesting authority (an institution).",
        ),
        sa.Column(
            "country",
            sa.String(length=2),
            nullable=False,
            comment="ISO 3166-1 alpha-2, lower case.",
        ),
        sa.Column(
            "kind",
            sa.String(length=40),
            nullable=False,
            comment="user_data | content_removal | emergency | preservation.",
        ),
        sa.Column("accounts_affected", sa.Integer(), nullable=False),
        sa.Column(
            "outcome",
            sa.String(length=40),
            nullable=False,
            comment="disclosed | partially_disclosed | rejected | no_data | pending.",
        ),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_gov_requests")),
        comment="Register of government data requests for the yearly transparency report.",
    )
    with op.batch_alter_table("rights_gov_requests", schema=None) as batch_op:
        batch_op.create_index("ix_rights_gov_requests_received", ["received_on"], unique=False)

    op.create_table(
        "rights_jobs",
        sa.Column("id", sa.String(length=40), nullable=False, comment="`jb_` and 32 hex digits."),
        sa.Column("kind", sa.String(length=24), nullable=False, comment="erase_account | export."),
        sa.Column(
            "subject_id",
            sa.String(length=40),
            nullable=True,
            comment="Cleared when an erasure finishes.",
        ),
        sa.Column("subject_ref", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False, comment="running | done."),
        sa.Column("step", sa.String(length=24), nullable=False, comment="Last step completed."),
        sa.Column("done", sa.BigInteger(), nullable=False, comment="Items processed so far."),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_jobs")),
        comment="Resumable rights jobs (account erasure, exports).",
    )
    with op.batch_alter_table("rights_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_rights_jobs_state", ["state"], unique=False)

    op.create_table(
        "rights_requests",
        sa.Column(
            "id",
            sa.String(length=40),
            nullable=False,
            comment="Random request id, `rq_` and 32 hex digits.",
        ),
        sa.Column(
            "kind",
            sa.String(length=16),
            nullable=False,
            comment="access | correct | delete | withdraw | complain.",
        ),
        sa.Column(
            "subject_id",
            sa.String(length=40),
            nullable=True,
            comment="The requester; cleared when the account is erased.",
        ),
        sa.Column(
            "subject_ref",
            sa.String(length=64),
            nullable=False,
            comment="Keyed fingerprint of the subject id (kept).",
        ),
        sa.Column(
            "region",
            sa.String(length=64),
            nullable=False,
            comment="Region of the subject (where its messages are).",
        ),
        sa.Column(
            "service", sa.String(length=64), nullable=True, comment="The service concerned, if any."
        ),
        sa.Column(
            "state",
            sa.String(length=16),
            nullable=False,
            comment="open | assigned | answered | closed.",
        ),
        sa.Column(
            "assigned_to",
            sa.String(length=80),
            nullable=True,
            comment="Staff member handling it (staff name, not a subject).",
        ),
        sa.Column(
            "message_record",
            sa.String(length=32),
            nullable=True,
            comment="Gate record (privacy_center) with the person's text.",
        ),
        sa.Column(
            "answer_record",
            sa.String(length=32),
            nullable=True,
            comment="Gate record (privacy_center) with the answer.",
        ),
        sa.Column(
            "outcome",
            sa.String(length=40),
            nullable=True,
            comment="fulfilled | rejected | withdrawn | partially_fulfilled.",
        ),
        sa.Column(
            "result",
            sa.Text(),
            nullable=True,
            comment="Canonical JSON of what the engine did (counts, ids of jobs).",
        ),
        sa.Column(
            "created_at", sa.BigInteger(), nullable=False, comment="Microseconds since epoch."
        ),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column(
            "due_at",
            sa.BigInteger(),
            nullable=False,
            comment="Legal deadline: created_at + 30 days.",
        ),
        sa.Column("closed_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_requests")),
        comment="Rights requests and complaints with their state machine and legal deadline.",
    )
    with op.batch_alter_table("rights_requests", schema=None) as batch_op:
        batch_op.create_index("ix_rights_requests_state_due", ["state", "due_at"], unique=False)
        batch_op.create_index(
            "ix_rights_requests_subject", ["subject_id", "created_at"], unique=False
        )

    op.create_table(
        "rights_consents",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column(
            "scope", sa.String(length=64), nullable=False, comment="`general` or a service id."
        ),
        sa.Column("version", sa.Integer(), nullable=False, comment="Policy version consented to."),
        sa.Column(
            "policy_hash",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the policy text consented to.",
        ),
        sa.Column(
            "catalog_digest",
            sa.String(length=64),
            nullable=True,
            comment="Snapshot of the service's declarations consented to.",
        ),
        sa.Column(
            "method",
            sa.String(length=40),
            nullable=False,
            comment="privacy_center | device_first_run | api | staff.",
        ),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("consented_at", sa.BigInteger(), nullable=False),
        sa.Column("withdrawn_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_rights_consents_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_consents")),
        comment="Consent records as proof: who, which policy version (content hash), when, how (region database).",
    )
    with op.batch_alter_table("rights_consents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rights_consents_subject", ["subject_id", "scope", "id"], unique=False
        )

    op.create_table(
        "rights_request_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False, comment="The state entered."),
        sa.Column(
            "actor",
            sa.String(length=80),
            nullable=False,
            comment="subject, staff:<name>, job:<name>.",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["rights_requests.id"],
            name=op.f("fk_rights_request_events_request_id_rights_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_request_events")),
        comment="Every state change of a request, in order (no personal data).",
    )
    with op.batch_alter_table("rights_request_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rights_request_events_request", ["request_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rights_request_events", schema=None) as batch_op:
        batch_op.drop_index("ix_rights_request_events_request")

    op.drop_table("rights_request_events")
    with op.batch_alter_table("rights_consents", schema=None) as batch_op:
        batch_op.drop_index("ix_rights_consents_subject")

    op.drop_table("rights_consents")
    with op.batch_alter_table("rights_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_rights_requests_subject")
        batch_op.drop_index("ix_rights_requests_state_due")

    op.drop_table("rights_requests")
    with op.batch_alter_table("rights_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_rights_jobs_state")

    op.drop_table("rights_jobs")
    with op.batch_alter_table("rights_gov_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_rights_gov_requests_received")

    op.drop_table("rights_gov_requests")
    op.drop_table("rights_exports")
    op.drop_table("rights_devices")
    with op.batch_alter_table("rights_device_commands", schema=None) as batch_op:
        batch_op.drop_index("ix_rights_device_commands_subject")
        batch_op.drop_index("ix_rights_device_commands_device")

    op.drop_table("rights_device_commands")
    op.drop_table("rights_counters")
    op.drop_table("rights_catalog_snapshots")
