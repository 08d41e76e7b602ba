"""Bodies of the cloud's device, advanced-protection and purchase routes
(:mod:`charter.api.routers.cloud_devices`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Base64Wrap = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{130,136}={0,2}$", max_length=136)
]
"""A wrapped key (99 bytes), base64."""
DeviceIdText = Annotated[str, StringConstraints(pattern=r"^dv_[0-9a-f]{32}$")]
Recipient = Annotated[str, StringConstraints(pattern=r"^(dv_[0-9a-f]{32}|recovery)$")]
CategoryText = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,20}$")]


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
    wifi_only: bool | None = Field(default=None, description="Sync only on Wi-Fi.")
    gallery_chosen: bool | None = Field(default=None, description="Gallery: chosen folders only.")
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


class KeysIn(BaseModel):
    """Category keys wrapped to a device (approval)."""

    model_config = ConfigDict(extra="forbid")

    wrapped: dict[CategoryText, Base64Wrap] = Field(min_length=1, max_length=20)


class WrappedKeyOut(BaseModel):
    """One category key wrapped to the recipient asked for."""

    category: str
    key_id: str
    wrapped_b64: str


class ProtectIn(BaseModel):
    """Opting a category in to advanced protection."""

    model_config = ConfigDict(extra="forbid")

    acknowledge_data_loss: bool = Field(
        description="The person was shown the statement of GET /v1/cloud/protection and "
        "accepts that losing every device and the recovery key loses the data."
    )
    key_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="The new key's id.")
    device_id: DeviceIdText = Field(description="The device that made the key.")
    wrapped: dict[Recipient, Base64Wrap] = Field(
        min_length=2,
        max_length=50,
        description="The key wrapped to this device, to 'recovery' and to every approved device.",
    )


class ProtectedOut(BaseModel):
    """A protected category."""

    category: str
    key_id: str
    format: int
    enabled_at: int


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
