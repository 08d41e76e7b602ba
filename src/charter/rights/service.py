"""
:class:`Rights`: the rights engine's one entry point for the API, the CLI and the Privacy
Center. It holds no state of its own beyond the :class:`~charter.app.Charter` it wraps.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from charter.rights import corrections, erasure, items
from charter.rights.activity import ActivityLog
from charter.rights.devices import DeviceCommands, EnrolledDevices
from charter.rights.export import Exports, ExportTicket, stream_export
from charter.rights.portability import ImportReport, import_export
from charter.rights.requests import RequestKind, RequestQueue, StaffCheck
from charter.rights.residency import Residence, residence
from charter.rights.transparency import GovRegister
from charter.rights.verify import ErasureReport, verify_erasure

if TYPE_CHECKING:
    from pathlib import Path
    from typing import IO

    from charter.gate import Gate
    from charter.gate.erasure import Correction


class Rights:
    """User rights (R1-R5), consent records (G3), requests (G4) and transparency (G5)."""

    def __init__(
        self,
        gate: Gate,
        *,
        is_staff: StaffCheck | None = None,
        enrolled_devices: EnrolledDevices | None = None,
    ) -> None:
        self.gate = gate
        self.consents = gate.consents
        self.requests = RequestQueue(gate, is_staff=is_staff)
        self.devices = DeviceCommands(gate, enrolled=enrolled_devices)
        self.exports = Exports(gate)
        self.register = GovRegister(gate)
        self.activity = ActivityLog(gate)
        """Who touched my data: the person's audit entries in plain words."""

    def export(
        self, subject_id: str, *, pseudonyms: Sequence[str] = (), actor: str = "subject"
    ) -> tuple[str, ExportTicket]:
        """
        R1: file an access request, build the archive and close the request.

        Returns:
            The request id and the download ticket (its token is shown only here).
        """
        request = self.requests.file(subject_id, RequestKind.ACCESS, actor=actor)
        ticket = self.exports.create(
            subject_id, pseudonyms=pseudonyms, request_id=request.id, actor=actor
        )
        self.requests.close(
            request.id,
            "job:export",
            outcome="fulfilled",
            result={"export": ticket.export_id, "records": ticket.records, "bytes": ticket.size},
        )
        return request.id, ticket

    def stream(
        self, subject_id: str, *, pseudonyms: Sequence[str] = (), actor: str = "subject"
    ) -> Iterator[bytes]:
        """R1 as a direct stream of the archive's bytes (nothing saved)."""
        return stream_export(self.gate, subject_id, pseudonyms=pseudonyms, actor=actor)

    def download(self, token: str) -> Iterator[bytes]:
        """Redeem a single-use download token: the archive's bytes."""
        return self.exports.stream_once(token)

    def import_export(
        self, archive: str | Path | IO[bytes], subject_id: str, *, actor: str = "subject"
    ) -> ImportReport:
        """T17: re-collect an export archive's records into ``subject_id``, through the gate."""
        return import_export(self.gate, archive, subject_id, actor=actor)

    def correct(
        self, subject_id: str, record_id: str, value: Any, *, actor: str = "subject"
    ) -> Correction:
        """R2: correct a value the person provided."""
        return erasure.correct(self.gate, subject_id, record_id, value, actor=actor)

    def erase(
        self,
        subject_id: str,
        *,
        service: str | None = None,
        data_type: str | None = None,
        record_id: str | None = None,
        actor: str = "subject",
    ) -> erasure.ErasureResult:
        """R3: delete one record, a data type, a service's data or everything."""
        return erasure.erase(
            self.gate,
            subject_id,
            service=service,
            data_type=data_type,
            record_id=record_id,
            actor=actor,
        )

    def withdraw(
        self, subject_id: str, service: str, *, actor: str = "subject"
    ) -> erasure.ErasureResult:
        """R4: withdraw consent for a service."""
        return erasure.withdraw_consent(
            self.gate, subject_id, service, actor=actor, devices=self.devices
        )

    def delete_account(
        self, subject_id: str, *, actor: str = "subject", progress: erasure.Progress | None = None
    ) -> str:
        """R5: delete the account (crypto-shredding first; resumable). Returns the request id."""
        return erasure.delete_account(
            self.gate, subject_id, actor=actor, progress=progress, devices=self.devices
        )

    def resume(self) -> int:
        """Finish interrupted account deletions and clean up interrupted exports."""
        self.exports.recover()
        return erasure.resume_erasures(self.gate)

    def verify_erasure(
        self,
        subject_id: str,
        *,
        record_ids: Sequence[str] = (),
        markers: Sequence[str] = (),
        deep: bool = True,
    ) -> ErasureReport:
        """Look for residue of a subject (see :func:`charter.rights.verify.verify_erasure`)."""
        return verify_erasure(
            self.gate, subject_id, record_ids=record_ids, markers=markers, deep=deep
        )

    # -- each item, where it lives -----------------------------------------------------------

    def items(
        self,
        subject_id: str,
        service: str,
        *,
        data_type: str | None = None,
        cursor: str | None = None,
        limit: int = 20,
    ) -> items.ItemsView:
        """A page of the person's own items of one service, newest first (page decrypted)."""
        subject = self.gate.subject(subject_id)
        return items.items_page(
            self.gate, subject, service, data_type=data_type, cursor=cursor, limit=limit
        )

    def item_file(self, subject_id: str, record_id: str) -> tuple[str, bytes]:
        """The file of one of the person's items: (download name, bytes)."""
        return items.item_file(self.gate, self.gate.subject(subject_id), record_id)

    def delete_item(
        self, subject_id: str, record_id: str, *, actor: str = "subject"
    ) -> erasure.ErasureResult:
        """R3 for one item (an account's own details are refused: they go with the account)."""
        return items.delete_item(self.gate, subject_id, record_id, actor=actor)

    def residence(self, subject_id: str) -> Residence:
        """Where the person's data is kept and who is responsible for it."""
        return residence(self.gate.catalog, self.gate.subject(subject_id))

    def correction_candidates(self, request_id: str) -> list[corrections.Candidate]:
        """The records a correction request may be about, by fingerprint (for staff)."""
        return corrections.candidates(self.gate, request_id)

    def apply_correction(
        self, request_id: str, reference: str, value: Any, *, staff: str
    ) -> corrections.AppliedCorrection:
        """Staff apply a requested correction through the gate and close the request."""
        return corrections.apply_correction(self.gate, request_id, reference, value, staff=staff)
