"""
:class:`Cloud`: the cloud service of a deployment, as the composition root builds it: sync
(:class:`~.sync.CloudSync`) with its resumable uploads, shared links, devices (per-device
settings), advanced protection and purchase history beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from charter.services.cloud.batch import upload_many
from charter.services.cloud.devices import Devices
from charter.services.cloud.keys import KeyChanges
from charter.services.cloud.links import SharedLinks
from charter.services.cloud.model import Item
from charter.services.cloud.plans import PLANS, Plan
from charter.services.cloud.protection import Protection
from charter.services.cloud.purchases import Purchase, purchases, record_purchase
from charter.services.cloud.sealed_links import SealedLinks
from charter.services.cloud.switches import set_sync, sync_settings
from charter.services.cloud.sync import CloudSync
from charter.services.cloud.uploads import Uploads
from charter.services.cloud.web_unlocks import WebUnlocks

if TYPE_CHECKING:
    from charter.gate import Gate


class Cloud(CloudSync):
    """Sync, plus ``uploads`` (resumable, under ``<data dir>/cloud/uploads``), ``links``
    (shared photo links), ``devices`` (each device's key and settings) and ``protection``
    (advanced protection, end-to-end) with ``keys`` (device proofs, rotation, turning it
    off)."""

    def __init__(self, gate: Gate, *, data_dir: Path) -> None:
        super().__init__(gate)
        self.uploads = Uploads(self, data_dir / "cloud" / "uploads")
        self.links = SharedLinks(self)
        self.devices = Devices(self)
        self.protection = Protection(self, self.devices)
        self.keys = KeyChanges(self.protection)
        self.sealed_links = SealedLinks(self)
        self.web_unlocks = WebUnlocks(self.protection)

    def upload_many(self, subject_id: str, category: str, contents: list[bytes]) -> list[Item]:
        """Create many items at once (see :func:`.batch.upload_many`)."""
        return upload_many(self, subject_id, category, contents)

    def shared_in(self, conn: Any, subject_id: str) -> int:
        """Besides live and trashed items, a person uses the copies sealed on a device behind
        shared links that have not ended (:mod:`.sealed_links`): :meth:`usage` and quota
        checks (uploads, new sealed links) count them too."""
        return self.sealed_links.used_in(conn, subject_id)

    def sync_settings(self, subject_id: str) -> dict[str, bool]:
        """Each category's sync switch (see :mod:`.switches`)."""
        return sync_settings(self, subject_id)

    def set_sync(self, subject_id: str, category: str, on: bool) -> int:
        """Switch a category's sync; returns how many items switching off deleted."""
        return set_sync(self, subject_id, category, on)

    def protected_categories(self, subject_id: str) -> frozenset[str]:
        """The person's categories under advanced protection."""
        return self.protection.categories(subject_id)

    def check_contents(self, subject_id: str, category_name: str, contents: list[bytes]) -> None:
        """Contents of a protected category must be envelopes (see :mod:`.protection`)."""
        self.protection.check_contents(subject_id, category_name, contents)

    def set_plan(self, subject_id: str, plan: str, *, source: str = "staff") -> Plan:
        """Put a person on a plan, kept in their purchase history (through the gate) first;
        a change to the same plan records nothing."""
        current, _ = self.usage(subject_id)
        if plan in PLANS and plan != current.name:
            record_purchase(self, subject_id, plan=plan, previous=current.name, source=source)
        return super().set_plan(subject_id, plan)

    def purchases(self, subject_id: str) -> list[Purchase]:
        """The person's membership purchases, newest first."""
        return purchases(self, subject_id)
