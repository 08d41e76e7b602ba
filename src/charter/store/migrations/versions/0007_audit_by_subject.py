"""Audit log by subject: an index on ``(subject_ref, seq)`` so a person's activity view reads
only their own entries, newest first (the keyed fingerprint, never the subject id)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 08:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_log_subject", "audit_log", ["subject_ref", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_subject", table_name="audit_log")
