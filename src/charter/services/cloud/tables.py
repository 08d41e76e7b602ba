"""
Tables of the cloud service (control database). They hold sync state, never content: the
content of every item is a gate record (encrypted, in the person's region), named here by
its record id. Rows are keyed by the subject first, as a distributed deployment wants;
erasing an account deletes them (the gate erases the records).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, LargeBinary, String, Table

from charter.store.registry import Erase, register_table
from charter.store.schema import metadata

items = Table(
    "cloud_items",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True, comment="Item id (ci_...)."),
    Column("category", String(20), nullable=False),
    Column("version", Integer, nullable=False, comment="1 on creation, +1 on every change."),
    Column(
        "seq", BigInteger, nullable=False, comment="The account's change number of the last change."
    ),
    Column(
        "record_id",
        String(40),
        nullable=True,
        comment="Gate record of the content; null once gone.",
    ),
    Column("size", BigInteger, nullable=False),
    Column("state", String(8), nullable=False, comment="live | trashed | gone."),
    Column("trashed_at", BigInteger, nullable=True),
    Column("purge_at", BigInteger, nullable=True, comment="When a trashed item is destroyed."),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_cloud_items_changes", "subject_id", "seq"),
    Index("ix_cloud_items_purge", "purge_at"),
    comment="Synced items: versions, change numbers and trash state (content is in the gate).",
)

accounts = Table(
    "cloud_accounts",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("seq", BigInteger, nullable=False, comment="The account's last change number."),
    Column("plan", String(20), nullable=False),
    Column("used_bytes", BigInteger, nullable=False, comment="Live and trashed content."),
    comment="Per account: the change counter, the plan and the storage used.",
)

uploads = Table(
    "cloud_uploads",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True, comment="Upload id (cu_...)."),
    Column("category", String(20), nullable=False),
    Column("item_id", String(40), nullable=True, comment="The item it replaces, if any."),
    Column("base_version", Integer, nullable=True),
    Column("size", BigInteger, nullable=False, comment="Announced total size."),
    Column("sha256", String(64), nullable=False, comment="Announced digest of the whole content."),
    Column("received", BigInteger, nullable=False, comment="Content bytes received so far."),
    Column("stored", BigInteger, nullable=False, comment="Length of the encrypted part file."),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_cloud_uploads_expires", "expires_at"),
    comment="Resumable uploads in progress (the chunks, encrypted, in cloud/uploads/).",
)

links = Table(
    "cloud_links",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True, comment="Link id (cl_...)."),
    Column(
        "token_hash",
        String(64),
        nullable=False,
        comment="Keyed hash of the link's token (random: unique without a constraint).",
    ),
    Column("item_id", String(40), nullable=False),
    Column("views", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    Column(
        "record_id",
        String(40),
        nullable=True,
        comment="Advanced protection: gate record of the copy sealed on the device.",
    ),
    Column(
        "size",
        BigInteger,
        nullable=False,
        server_default="0",
        comment="Bytes of the sealed copy (advanced protection), counted in the quota "
        "until the link ends; 0 for a standard link.",
    ),
    Index("ix_cloud_links_token", "token_hash"),
    comment="Shared photo links (the photo is served stripped of location and metadata).",
)

settings = Table(
    "cloud_categories",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("category", String(20), primary_key=True),
    Column("sync", Boolean, nullable=False),
    Column("changed_at", BigInteger, nullable=False),
    comment="Per account and category: sync on or off (on unless set).",
)

protection = Table(
    "cloud_protection",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("category", String(20), primary_key=True),
    Column("key_id", String(32), nullable=False, comment="Id of the category key (not the key)."),
    Column("format", Integer, nullable=False, comment="Envelope format version (1)."),
    Column("enabled_at", BigInteger, nullable=False),
    Column(
        "recovery_public",
        String(64),
        nullable=True,
        comment="The recovery key's X25519 public key, hex (never its private key).",
    ),
    Column(
        "previous",
        LargeBinary,
        nullable=True,
        comment="Earlier keys of the category sealed under its current key (CK 01).",
    ),
    Column(
        "state",
        String(8),
        nullable=False,
        server_default="on",
        comment="on | rotate (a device was removed) | leaving (being turned off).",
    ),
    Column(
        "key_proof",
        LargeBinary,
        nullable=True,
        comment="Protected before 0018 (no recovery_public): the key proof sealed "
        "under the category key by an approved device (KP 01).",
    ),
    comment="Categories under advanced protection (end-to-end): the server holds only "
    "ciphertext it cannot open.",
)

wrapped_keys = Table(
    "cloud_e2e_keys",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("category", String(20), primary_key=True),
    Column(
        "recipient", String(40), primary_key=True, comment="A device id (dv_...) or 'recovery'."
    ),
    Column("key_id", String(32), nullable=False),
    Column(
        "wrapped",
        LargeBinary,
        nullable=False,
        comment="The category key sealed (HPKE) to the recipient's public key.",
    ),
    Column("created_at", BigInteger, nullable=False),
    comment="Category keys wrapped to each enrolled device and to the recovery key; "
    "deleting them (erasure) shreds the protected content.",
)

devices = Table(
    "cloud_devices",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("device_id", String(40), primary_key=True, comment="Random id made by the device."),
    Column("public_key", String(64), nullable=False, comment="X25519 public key, hex."),
    Column("e2e", String(10), nullable=False, comment="pending | approved (holds the keys)."),
    Column("sync_off", String(300), nullable=False, comment="Categories off on this device."),
    Column("wifi_only", Boolean, nullable=False),
    Column("gallery_chosen", Boolean, nullable=False, comment="Gallery: chosen folders only."),
    Column(
        "folders",
        LargeBinary,
        nullable=True,
        comment="The chosen gallery folders, sealed by the device to itself.",
    ),
    Column("folder_count", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    comment="A person's devices as cloud knows them: their public key for advanced "
    "protection and their device-side sync settings.",
)

web_unlocks = Table(
    "cloud_web_unlocks",
    metadata,
    Column("subject_id", String(40), primary_key=True),
    Column("id", String(40), primary_key=True, comment="Unlock request id (wu_...)."),
    Column(
        "session_hash",
        String(64),
        nullable=False,
        comment="Keyed hash of the signed-in session the browser asked from.",
    ),
    Column("public_key", String(64), nullable=False, comment="The browser's X25519 key, hex."),
    Column(
        "wrapped",
        LargeBinary,
        nullable=True,
        comment="The category keys wrapped (HPKE) to the browser's key by an approved device.",
    ),
    Column("approved_by", String(40), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_cloud_web_unlocks_expires", "expires_at"),
    comment="Web sessions a device approved to open protected items in the browser.",
)

register_table(
    web_unlocks,
    subject_column="subject_id",
    personal={
        "public_key": "plain (an ephemeral key the browser made for this session)",
        "wrapped": "end-to-end (HPKE to the browser's ephemeral key)",
    },
    reference=("subject_id",),
    neither=("id", "session_hash", "approved_by", "created_at", "expires_at"),
    erase=Erase.DELETE,
)
register_table(
    settings,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=("category", "sync", "changed_at"),
    erase=Erase.DELETE,
)
register_table(
    links,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=(
        "id",
        "token_hash",
        "item_id",
        "views",
        "created_at",
        "expires_at",
        "revoked_at",
        "record_id",
        "size",
    ),
    erase=Erase.DELETE,
)
register_table(
    uploads,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=(
        "id", "category", "item_id", "base_version", "size", "sha256", "received", "stored",
        "created_at", "expires_at",
    ),
    erase=Erase.DELETE,
)  # fmt: skip
register_table(
    items,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=(
        "id", "category", "version", "seq", "record_id", "size", "state",
        "trashed_at", "purge_at", "created_at", "updated_at",
    ),
    erase=Erase.DELETE,
)  # fmt: skip
register_table(
    accounts,
    subject_column="subject_id",
    reference=("subject_id",),
    neither=("seq", "plan", "used_bytes"),
    erase=Erase.DELETE,
)
register_table(
    protection,
    subject_column="subject_id",
    reference=("subject_id",),
    personal={
        "previous": "end-to-end (sealed under the category key the server lacks)",
        "key_proof": "end-to-end (sealed under the category key the server lacks)",
    },
    neither=("category", "key_id", "format", "enabled_at", "recovery_public", "state"),
    erase=Erase.DELETE,
)
register_table(
    wrapped_keys,
    subject_column="subject_id",
    personal={"wrapped": "end-to-end (HPKE to a device or recovery key the server lacks)"},
    reference=("subject_id",),
    neither=("category", "recipient", "key_id", "created_at"),
    erase=Erase.DELETE,
)
register_table(
    devices,
    subject_column="subject_id",
    personal={
        "device_id": "plain (random device installation id)",
        "public_key": "plain (the device's X25519 public key)",
        "folders": "end-to-end (sealed by the device to its own key)",
    },
    reference=("subject_id",),
    neither=(
        "e2e", "sync_off", "wifi_only", "gallery_chosen", "folder_count", "created_at",
        "updated_at",
    ),
    erase=Erase.DELETE,
)  # fmt: skip
