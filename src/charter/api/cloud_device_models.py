"""Bodies of the cloud's device, advanced-protection and purchase routes
(:mod:`charter.api.routers.cloud_devices`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints
from pydantic.config import JsonDict

Base64Wrap = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{132}$", max_length=132)]
"""A wrapped key (99 bytes), base64."""
ProofHex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""A device or recovery proof, opened by its holder (32 bytes, hex)."""
DeviceIdText = Annotated[str, StringConstraints(pattern=r"^dv_[0-9a-f]{32}$")]
Recipient = Annotated[str, StringConstraints(pattern=r"^(dv_[0-9a-f]{32}|recovery)$")]
CategoryText = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,20}$")]
ONLY_NAMED_KEYS: JsonDict = {"additionalProperties": False}
"""A map's keys must match its key pattern (the schema says so, as the model checks)."""


class DeviceIn(BaseModel):
    """A device to record: its id and X25519 public key."""

    model_config = ConfigDict(extra="forbid")

    device_id: DeviceIdText = Field(description="dv_ and 32 hex digits, made by the device.")
    public_key: str = Field(pattern=r"^[0-9a-f]{64}$", description="X25519 public key, hex.")


class DeviceSettingsIn(BaseModel):
    """A device's settings to change (what is left out stays)."""

    model_config = ConfigDict(extra="forbid")

    sync_off: list[CategoryText] | None = Field(
        default=None, max_length=20, description="Categories switched off on this device."
    )
    wifi_only: StrictBool | None = Field(default=None, description="Sync only on Wi-Fi.")
    gallery_chosen: StrictBool | None = Field(
        default=None, description="Gallery: chosen folders only."
    )
    folders_sealed_b64: str | None = Field(
        default=None,
        max_length=22_000,
        pattern=r"^[A-Za-z0-9+/]*={0,2}$",
        description="The chosen folders, sealed by the device to its own key (format 1).",
    )
    folder_count: int | None = Field(default=None, ge=0, le=10_000)


class DeviceOut(BaseModel):
    """A device of the person."""

    device_id: str
    public_key: str
    fingerprint: str = Field(description="Twelve digits to compare on both devices.")
    e2e: str = Field(description="pending | approved (holds the protected categories' keys).")
    sync_off: list[str]
    wifi_only: bool
    gallery_chosen: bool
    folder_count: int
    folders_sealed_b64: str | None
    sync: dict[str, bool] = Field(description="Each category's sync on this device.")
    created_at: int
    updated_at: int
    proof_sealed_b64: str | None = Field(
        default=None,
        description="On registration only: the device proof sealed to the device's public "
        "key (CP 01); the device opens it and sends it as Charter-Device-Proof.",
    )


class KeysIn(BaseModel):
    """Category keys wrapped to a device (approval)."""

    model_config = ConfigDict(extra="forbid")

    wrapped: dict[CategoryText, Base64Wrap] = Field(
        min_length=1, max_length=20, json_schema_extra=ONLY_NAMED_KEYS
    )
    recovery_proofs: dict[CategoryText, ProofHex] = Field(
        default_factory=dict,
        max_length=20,
        json_schema_extra=ONLY_NAMED_KEYS,
        description="A device wrapping keys to itself after opening them with the recovery "
        "key: per category, the recovery proof it opened (GET /v1/cloud/keys?recipient="
        "recovery). An approved device leaves it out. For a category protected before "
        "0018: the key proof opened from key_proof_b64 with the category key.",
    )
    recovery_public: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="A device recovering a category protected before 0018: the recovery "
        "key's X25519 public key, hex, which the server keeps from then on.",
    )


class KeyProofIn(BaseModel):
    """A key proof sealed under a category's key (categories protected before 0018)."""

    model_config = ConfigDict(extra="forbid")

    key_proof_b64: str = Field(
        max_length=200,
        pattern=r"^[A-Za-z0-9+/]*={0,2}$",
        description="The key proof (opened from key_proof_sealed_b64) sealed under the "
        "category's current key: KP 01 | key id | nonce | AES-256-GCM.",
    )


class WrappedKeyOut(BaseModel):
    """One category key wrapped to the recipient asked for."""

    category: str
    key_id: str
    wrapped_b64: str
    proof_sealed_b64: str | None = Field(
        default=None,
        description="For the recovery key: the recovery proof sealed to it (CP 01).",
    )
    key_proof_sealed_b64: str | None = Field(
        default=None,
        description="Protected before 0018, for an approved device: a key proof sealed to "
        "it (CP 01) to seal under the category key and send back (PUT /v1/cloud/protection/"
        "{category}/key-proof).",
    )
    key_proof_b64: str | None = Field(
        default=None,
        description="Protected before 0018, for the recovery key: the key proof sealed under "
        "the category key (KP 01); a device that opened the key opens it and sends it as "
        "its recovery proof.",
    )


class RotateIn(BaseModel):
    """A new key of a protected category (after a device was removed)."""

    model_config = ConfigDict(extra="forbid")

    key_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="The new key's id.")
    wrapped: dict[Recipient, Base64Wrap] = Field(
        min_length=2,
        max_length=50,
        json_schema_extra=ONLY_NAMED_KEYS,
        description="The new key wrapped to every approved device and to 'recovery', only.",
    )
    previous_b64: str = Field(
        max_length=90_000,
        pattern=r"^[A-Za-z0-9+/]*={0,2}$",
        description="The earlier keys sealed under the new one (CK 01).",
    )
    recovery_public: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="The recovery key's X25519 public key, hex."
    )


class ProtectIn(BaseModel):
    """Opting a category in to advanced protection."""

    model_config = ConfigDict(extra="forbid")

    acknowledge_data_loss: StrictBool = Field(
        description="The person was shown the statement of GET /v1/cloud/protection and "
        "accepts that losing every device and the recovery key loses the data."
    )
    key_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="The new key's id.")
    device_id: DeviceIdText = Field(description="The device that made the key.")
    recovery_public: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="The recovery key's X25519 public key, hex: lets a device wrap a later "
        "key to it and lets the server check a recovery proof.",
    )
    wrapped: dict[Recipient, Base64Wrap] = Field(
        min_length=2,
        max_length=50,
        json_schema_extra=ONLY_NAMED_KEYS,
        description="The key wrapped to this device, to 'recovery' and to every approved device.",
    )


class ProtectedOut(BaseModel):
    """A protected category."""

    category: str
    key_id: str
    format: int
    enabled_at: int
    state: str = Field(
        description="on | rotate (a device holding the key was removed: an approved device "
        "makes a new key) | leaving (being turned off: items go back to standard)."
    )
    recovery_public: str | None
    recovery: str = Field(
        default="ready",
        description="ready (the recovery key's public key is known) | key_proof (protected "
        "before 0018: a device prepared a key proof) | preparing (protected before 0018: the "
        "next approved device to fetch its keys prepares it).",
    )
    previous_b64: str | None = Field(description="Earlier keys sealed under the current one.")


class ProtectionOut(BaseModel):
    """Advanced protection of the account."""

    statement: str = Field(description="Shown to the person before they opt in.")
    protected: dict[str, ProtectedOut]


class PurchaseOut(BaseModel):
    """A membership purchase."""

    plan: str
    previous: str
    at: int
    source: str
