"""
Tables of the find-device service. They hold keys, states, keyed hashes and ciphertext,
never a readable position: a location report is an HPKE ciphertext sealed on the device to
the owner's key. Rows are keyed by the subject first; erasing an account deletes them.

- ``find_device_owners`` (control): the owner's public keys and, for the web, their private
  keys wrapped under a passphrase the server never sees.
- ``find_device_devices`` (control): each bound device: its public key, a hash of its
  token, on/off, lost mode, the server-signed binding record.
- ``find_device_identifiers`` (control): keyed hashes of the catalog's device identifiers,
  looked up at activation (a bound device cannot be activated for another account).
- ``find_device_commands`` (control): the owner-signed command queue and acknowledgements.
- ``find_device_reports`` (control): sealed positions; only the owner's key opens them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from charter.store.registry import Erase, register_table
from charter.store.schema import metadata

owners = Table(
    "find_device_owners",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("seal_public", LargeBinary, nullable=False, comment="X25519 public key (HPKE)."),
    Column("sign_public", LargeBinary, nullable=False, comment="Ed25519 public key (commands)."),
    Column(
        "wrapped",
        LargeBinary,
        nullable=True,
        comment="The private keys, AES-GCM under a passphrase-derived key (opaque here).",
    ),
    Column(
        "endorsement",
        LargeBinary,
        nullable=True,
        comment="New keys signed by the previous signing key (devices adopt them at once).",
    ),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    comment="Find-device owner keys (public parts; private parts only wrapped).",
)

devices = Table(
    "find_device_devices",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True, comment="Device id (fd_...)."),
    Column("device_key", LargeBinary, nullable=False, comment="Ed25519 public key of the device."),
    Column("token_hash", String(64), nullable=False, comment="Keyed hash of the device token."),
    Column("state", String(4), nullable=False, comment="on | off."),
    Column("off_since", BigInteger, nullable=True),
    Column("history_gone_at", BigInteger, nullable=True, comment="When the 30-day rule ran."),
    Column("lost", Boolean, nullable=False),
    Column("lost_command", String(40), nullable=True, comment="The lost_mode_on command."),
    Column("interval_s", Integer, nullable=False, comment="Lost-mode report interval."),
    Column("binding", LargeBinary, nullable=False, comment="The binding record (no values)."),
    Column("binding_sig", LargeBinary, nullable=False, comment="The server's signature of it."),
    Column("bound_at", BigInteger, nullable=False),
    Column("activations", Integer, nullable=False, comment="1, +1 on each re-activation."),
    Column("last_seen", BigInteger, nullable=True),
    Index("ix_find_device_devices_off", "state", "off_since"),
    comment="Bound devices: keys, on/off, lost mode, the signed binding record.",
)

identifiers = Table(
    "find_device_identifiers",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("device_id", String(40), primary_key=True),
    Column("kind", String(20), primary_key=True, comment="mac_address | device_id | fid."),
    Column("id_hash", String(64), nullable=False, comment="Keyed hash of the identifier."),
    Column("active", Boolean, nullable=False, comment="The binding holds (not released)."),
    Index("ix_find_device_identifiers_hash", "id_hash"),
    comment="Keyed hashes of bound devices' identifiers, checked at activation.",
)

commands = Table(
    "find_device_commands",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True, comment="Command id (fc_...)."),
    Column("device_id", String(40), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("nonce", String(64), nullable=False),
    Column(
        "payload",
        LargeBinary,
        nullable=True,
        comment="The signed payload, AES-GCM under a keyring-derived key; cleared once done.",
    ),
    Column("signature", LargeBinary, nullable=True),
    Column("actor", String(40), nullable=False, comment="subject | web | cli."),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("delivered_at", BigInteger, nullable=True),
    Column("acked_at", BigInteger, nullable=True),
    Column("outcome", String(24), nullable=True, comment="done | refused:<reason>."),
    UniqueConstraint("subject_id", "nonce", name="uq_find_device_commands_nonce"),
    Index("ix_find_device_commands_device", "subject_id", "device_id", "acked_at"),
    Index("ix_find_device_commands_created", "subject_id", "kind", "created_at"),
    comment="Owner-signed commands to devices and their acknowledgements.",
)

reports = Table(
    "find_device_reports",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True, comment="Report id (fr_...), time-ordered."),
    Column("device_id", String(40), nullable=False),
    Column("kind", String(8), nullable=False, comment="locate | lost."),
    Column("command_id", String(40), nullable=True),
    Column("sealed", LargeBinary, nullable=False, comment="HPKE ciphertext to the owner."),
    Column("received_at", BigInteger, nullable=False),
    Index("ix_find_device_reports_device", "subject_id", "device_id", "received_at"),
    comment="Sealed location reports (only the owner's key opens them).",
)

register_table(
    owners,
    subject_column="subject_id",
    reference=("subject_id",),
    personal={"wrapped": "end_to_end_encryption"},
    neither=("seal_public", "sign_public", "endorsement", "created_at", "updated_at"),
    erase=Erase.DELETE,
)
register_table(
    devices,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=(
        "id", "device_key", "token_hash", "state", "off_since", "history_gone_at", "lost",
        "lost_command", "interval_s", "binding", "binding_sig", "bound_at", "activations",
        "last_seen",
    ),
    erase=Erase.DELETE,
)  # fmt: skip
register_table(
    identifiers,
    subject_column="subject_id",
    reference=("subject_id",),
    personal={"id_hash": "keyed_hash"},
    neither=("device_id", "kind", "active"),
    erase=Erase.DELETE,
)
register_table(
    commands,
    subject_column="subject_id",
    reference=("subject_id",),
    personal={"payload": "field_encryption"},
    neither=(
        "id", "device_id", "kind", "nonce", "signature", "actor", "created_at", "expires_at",
        "delivered_at", "acked_at", "outcome",
    ),
    erase=Erase.DELETE,
)  # fmt: skip
register_table(
    reports,
    subject_column="subject_id",
    reference=("subject_id",),
    personal={"sealed": "end_to_end_encryption"},
    neither=("id", "device_id", "kind", "command_id", "received_at"),
    erase=Erase.DELETE,
)
