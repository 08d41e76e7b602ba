"""
:class:`Cloud`: the cloud service of a deployment, as the composition root builds it: sync
(:class:`~.sync.CloudSync`) with its resumable uploads and shared links beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from charter.services.cloud.batch import upload_many
from charter.services.cloud.links import SharedLinks
from charter.services.cloud.switches import set_sync, sync_settings
from charter.services.cloud.sync import CloudSync, Item
from charter.services.cloud.uploads import Uploads

if TYPE_CHECKING:
    from charter.gate import Gate


class Cloud(CloudSync):
    """Sync, plus ``uploads`` (resumable, under ``<data dir>/cloud/uploads``) and ``links``
    (shared photo links)."""

    def __init__(self, gate: Gate, *, data_dir: Path) -> None:
        super().__init__(gate)
        self.uploads = Uploads(self, data_dir / "cloud" / "uploads")
        self.links = SharedLinks(self)

    def upload_many(self, subject_id: str, category: str, contents: list[bytes]) -> list[Item]:
        """Create many items at once (see :func:`.batch.upload_many`)."""
        return upload_many(self, subject_id, category, contents)

    def sync_settings(self, subject_id: str) -> dict[str, bool]:
        """Each category's sync switch (see :mod:`.switches`)."""
        return sync_settings(self, subject_id)

    def set_sync(self, subject_id: str, category: str, on: bool) -> int:
        """Switch a category's sync; returns how many items switching off deleted."""
        return set_sync(self, subject_id, category, on)
