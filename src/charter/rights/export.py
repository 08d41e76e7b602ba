"""
Access and download (R1): a zip of everything the gate holds about a person.

Layout of the archive (described by ``export.schema.json``, published in ``docs/``)::

    export.json              manifest: format, time, identifiers covered, files, counts
    services/<service>.json  every record of one service, decrypted, with its data type,
                             category, purposes, qualifier, collected-at and expiry
    blobs/<record id>        the files (photos, recordings ...), decrypted
    switches.json            current switches and their full history
    consents.json            consent records (policy version and hash, when, how)
    requests.json            the person's rights requests
    index.html               the same, readable offline in a browser
    export.schema.json       the JSON Schema of the files above

The archive is produced front to back by :func:`stream_export` (a generator of bytes,
memory independent of the data's size): records come from the gate in keyset-paginated
batches, each JSON file is written as records arrive, blobs one at a time. Saved exports
(:class:`Exports`) are written to a temporary file under ``<data dir>/exports`` and renamed
when complete, and handed out through single-use, expiring download tokens.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import delete, insert, select, update

from charter.crypto import keyed_hash
from charter.errors import NotFoundError
from charter.gate import Subject
from charter.gate import export as gx
from charter.rights import tables as rt
from charter.rights._common import DAY, new_id, rfc3339
from charter.rights._zipstream import ChunkSink
from charter.rights.residency import residence
from charter.store.files import register_file_writer

if TYPE_CHECKING:
    from charter.gate import Gate

FORMAT = "charter-export/1"
CHUNK = 64 * 1024
DOWNLOAD_TTL_DAYS = 7
"""How long a download link lives."""

_ENV = Environment(
    loader=PackageLoader("charter.rights", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
)


def export_schema_text() -> str:
    """The published JSON Schema of the export's JSON files."""
    return (resources.files("charter.rights") / "schemas" / "export.schema.json").read_text(
        encoding="utf-8"
    )


def _record_json(gate: Gate, rec: gx.ExportedRecord) -> dict[str, Any]:
    term = gate.catalog.data_types.get(rec.data_type)
    return {
        "id": rec.id,
        "subject_id": rec.subject_id,
        "data_type": rec.data_type,
        "data_type_label": term.label if term else rec.data_type,
        "category": term.category.value if term else None,
        "purposes": list(rec.purposes),
        "qualifier": rec.qualifier,
        "protection": rec.protection,
        "value": rec.value,
        "blob": f"blobs/{rec.id}" if rec.blob else None,
        "source": rec.source,
        "collected_at": rfc3339(rec.collected_at),
        "expires_at": rfc3339(rec.expires_at),
    }


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8")


def _info(name: str, now: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_zip_time(now))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    return info


def _zip_time(now: int) -> tuple[int, int, int, int, int, int]:
    from datetime import UTC, datetime  # noqa: PLC0415 - keep module import light

    d = datetime.fromtimestamp(now / 1_000_000, tz=UTC)
    return (max(d.year, 1980), d.month, d.day, d.hour, d.minute, d.second)


def stream_export(
    gate: Gate, subject_id: str, *, pseudonyms: Sequence[str] = (), actor: str = "subject"
) -> Iterator[bytes]:
    """
    The export archive of a subject (and the pseudonymous ids its device presents), as a
    stream of bytes. Memory stays constant whatever the size of the data.

    Raises:
        NotFoundError: no such subject.
        RefusedError: a presented pseudonym is an account.
    """
    subjects = gx.subjects_for_export(gate, subject_id, pseudonyms)
    return _stream(gate, subjects, actor)


def _stream(gate: Gate, subjects: list[Subject], actor: str) -> Iterator[bytes]:
    now = gate.clock()
    sink = ChunkSink()
    counts: dict[str, int] = {}
    for s in subjects:
        for service, n in gx.count_records(gate, s).items():
            counts[service] = counts.get(service, 0) + n
    services = [sid for sid in gate.catalog.services if sid in counts] + sorted(
        set(counts) - set(gate.catalog.services)
    )
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        manifest = {
            "format": FORMAT,
            "generated_at": rfc3339(now),
            "deployment": gate.catalog.info.name,
            "subjects": [
                {"id": s.id, "kind": s.kind.value, "market": s.market, "region": s.region}
                for s in subjects
            ],
            "services": [
                {
                    "id": sid,
                    "name": _name(gate, sid),
                    "file": f"services/{sid}.json",
                    "records": counts[sid],
                }
                for sid in services
            ],
            "residence": _residence(gate, subjects),
            "files": [
                "index.html",
                "switches.json",
                "consents.json",
                "requests.json",
                "export.schema.json",
                *(f"parts/{p}.json" for p in gx.export_parts()),
            ],
        }
        zf.writestr(_info("export.json", now), _dump(manifest))
        yield sink.drain()
        total = 0
        for sid in services:
            with zf.open(_info(f"services/{sid}.json", now), "w", force_zip64=True) as out:
                head = json.dumps(
                    {"format": FORMAT, "service": sid, "name": _name(gate, sid)},
                    ensure_ascii=False,
                )
                out.write(head[:-1].encode("utf-8") + b', "records": [\n')
                first = True
                for s in subjects:
                    for rec in gx.iter_records(gate, s, service=sid):
                        out.write(
                            (b"" if first else b",\n")
                            + json.dumps(_record_json(gate, rec), ensure_ascii=False).encode(
                                "utf-8"
                            )
                        )
                        first = False
                        total += 1
                        if sink.pending >= CHUNK:
                            yield sink.drain()
                out.write(b"\n]}\n")
            yield sink.drain()
        for s in subjects:
            for rec in gx.iter_records(gate, s):
                if rec.blob is None:
                    continue
                info = _info(f"blobs/{rec.id}", now)
                info.compress_type = zipfile.ZIP_STORED
                try:
                    data = gx.read_blob(gate, s, rec)
                except NotFoundError:
                    continue
                with zf.open(info, "w", force_zip64=True) as out:
                    for i in range(0, len(data), CHUNK):
                        out.write(data[i : i + CHUNK])
                        yield sink.drain()
                del data
                yield sink.drain()
        history = [
            {
                "subject_id": s.id,
                "current": gate.switches(s.id),
                "history": [
                    {
                        "key": c.key,
                        "value": c.value,
                        "changed_at": rfc3339(c.changed_at),
                        "source": c.source,
                        "actor": c.actor,
                    }
                    for c in gx.switch_history(gate, s)
                ],
            }
            for s in subjects
        ]
        zf.writestr(_info("switches.json", now), _dump({"format": FORMAT, "subjects": history}))
        consents = _consents(gate, subjects)
        zf.writestr(_info("consents.json", now), _dump({"format": FORMAT, "consents": consents}))
        zf.writestr(
            _info("requests.json", now),
            _dump({"format": FORMAT, "requests": _requests(gate, subjects)}),
        )
        zf.writestr(_info("export.schema.json", now), export_schema_text().encode("utf-8"))
        for part, producer in gx.export_parts().items():
            part_rows = [{"subject_id": s.id, "data": producer(gate, s)} for s in subjects]
            zf.writestr(
                _info(f"parts/{part}.json", now), _dump({"format": FORMAT, "part": part_rows})
            )
        yield sink.drain()
        with zf.open(_info("index.html", now), "w", force_zip64=True) as out:
            for piece in _index(gate, subjects, manifest, services, history, consents):
                out.write(piece.encode("utf-8"))
                if sink.pending >= CHUNK:
                    yield sink.drain()
    for s in subjects:
        gx.audit_export(
            gate,
            s,
            actor=actor,
            detail={"records": sum(gx.count_records(gate, s).values()), "subjects": len(subjects)},
        )
    yield sink.drain()


def _residence(gate: Gate, subjects: list[Subject]) -> list[dict[str, Any]]:
    """Where each covered identifier's data is kept and who is responsible, once per region."""
    seen: dict[str, dict[str, Any]] = {}
    for s in subjects:
        seen.setdefault(s.region, residence(gate.catalog, s).as_json())
    return list(seen.values())


def _name(gate: Gate, sid: str) -> str:
    service = gate.catalog.services.get(sid)
    return service.name if service else sid


def _consents(gate: Gate, subjects: list[Subject]) -> list[dict[str, Any]]:
    book = gate.consents
    return [
        {
            "subject_id": c.subject_id,
            "scope": c.scope,
            "version": c.version,
            "policy_hash": c.policy_hash,
            "catalog_digest": c.catalog_digest,
            "method": c.method,
            "consented_at": rfc3339(c.consented_at),
            "withdrawn_at": rfc3339(c.withdrawn_at),
        }
        for s in subjects
        for c in book.records(s.id)
    ]


def _requests(gate: Gate, subjects: list[Subject]) -> list[dict[str, Any]]:
    from charter.rights.requests import RequestQueue  # noqa: PLC0415 - avoid an import cycle

    queue = RequestQueue(gate)
    return [
        {
            "id": r.id,
            "kind": r.kind.value,
            "state": r.state.value,
            "service": r.service,
            "outcome": r.outcome,
            "created_at": rfc3339(r.created_at),
            "due_at": rfc3339(r.due_at),
            "closed_at": rfc3339(r.closed_at),
        }
        for s in subjects
        for r in queue.for_subject(s.id)
    ]


def _index(
    gate: Gate,
    subjects: list[Subject],
    manifest: dict[str, Any],
    services: list[str],
    history: list[dict[str, Any]],
    consents: list[dict[str, Any]],
) -> Iterator[str]:

    def records(sid: str) -> Iterator[dict[str, Any]]:
        for s in subjects:
            for rec in gx.iter_records(gate, s, service=sid):
                row = _record_json(gate, rec)
                value = rec.value
                row["value_text"] = (
                    value
                    if isinstance(value, str)
                    else json.dumps(value, ensure_ascii=False, indent=1)
                )
                yield row

    sections = ({"name": _name(gate, sid), "records": records(sid)} for sid in services)
    flat = [c for h in history for c in h["history"]]
    return _ENV.get_template("index.html.j2").generate(
        deployment=gate.catalog.info.name,
        generated_at=manifest["generated_at"],
        subjects=manifest["subjects"],
        services=manifest["services"],
        residence=manifest["residence"],
        sections=sections,
        switch_history=flat,
        consents=consents,
    )


@dataclass(frozen=True, slots=True)
class ExportTicket:
    """A finished export and its single-use download token (shown once)."""

    export_id: str
    token: str
    size: int
    records: int
    expires_at: int


class Exports:
    """Saved export archives under ``<data dir>/exports`` and their download tokens."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.folder = gate.stores.settings.data_dir / "exports"

    def _hash(self, token: str) -> str:
        return keyed_hash(self.gate.keyring.hmac_key, token.encode(), context="export-token").hex()

    def create(
        self,
        subject_id: str,
        *,
        pseudonyms: Sequence[str] = (),
        request_id: str | None = None,
        actor: str = "subject",
        progress: Any = None,
    ) -> ExportTicket:
        """
        Build a subject's export to a temporary file, rename it into place, and issue a
        single-use download token valid for 7 days.

        Raises:
            NotFoundError: no such subject.
            RefusedError: a presented pseudonym is an account.
        """
        import secrets  # noqa: PLC0415

        gate = self.gate
        subjects = gx.subjects_for_export(gate, subject_id, pseudonyms)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        export_id = new_id("ex")
        now = self.gate.clock()
        with self.gate.stores.control().begin() as conn:
            conn.execute(
                insert(rt.exports).values(
                    id=export_id,
                    subject_id=subject_id,
                    request_id=request_id,
                    state="building",
                    created_at=now,
                    expires_at=now + DOWNLOAD_TTL_DAYS * DAY,
                )
            )
        tmp = self.folder / f".{export_id}.zip.tmp"
        final = self.folder / f"{export_id}.zip"
        size = 0
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in _stream(self.gate, subjects, actor):
                    f.write(chunk)
                    size += len(chunk)
                    if progress is not None:
                        progress("bytes", len(chunk))
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, final)
        records = sum(sum(gx.count_records(gate, s).values()) for s in subjects)
        token = secrets.token_urlsafe(32)
        with self.gate.stores.control().begin() as conn:
            conn.execute(
                update(rt.exports)
                .where(rt.exports.c.id == export_id)
                .values(state="ready", size=size, records=records, token_hash=self._hash(token))
            )
        return ExportTicket(export_id, token, size, records, now + DOWNLOAD_TTL_DAYS * DAY)

    def redeem(self, token: str) -> Path:
        """
        Use a download token, once: the archive's path, marked downloaded.

        Raises:
            NotFoundError: unknown, already used or expired token (one answer for all).
        """
        now = self.gate.clock()
        e = rt.exports
        with self.gate.stores.control().begin() as conn:
            row = conn.execute(
                select(e.c.id).where(
                    e.c.token_hash == self._hash(token), e.c.state == "ready", e.c.expires_at > now
                )
            ).first()
            if row is None:
                raise NotFoundError(
                    "this download link is unknown, used or expired; request a new export",
                    field="token",
                )
            conn.execute(
                update(e)
                .where(e.c.id == row.id, e.c.state == "ready")
                .values(state="downloaded", downloaded_at=now, token_hash=None)
            )
        path = self.folder / f"{row.id}.zip"
        if not path.exists():
            raise NotFoundError(
                "this download link is unknown, used or expired; request a new export",
                field="token",
            )
        return path

    def stream_once(self, token: str) -> Iterator[bytes]:
        """Redeem a token and stream the archive; the file is deleted once sent."""
        path = self.redeem(token)

        def chunks() -> Iterator[bytes]:
            try:
                with path.open("rb") as f:
                    while chunk := f.read(CHUNK):
                        yield chunk
            finally:
                path.unlink(missing_ok=True)

        return chunks()

    def recover(self) -> int:
        """
        Clean up after a crash or expiry: delete temporary files, archives whose rows are
        not ``ready`` (or are expired), and rows of exports that never finished. Returns
        how many exports were removed.
        """
        now = self.gate.clock()
        e = rt.exports
        removed = 0
        if self.folder.is_dir():
            for tmp in self.folder.glob(".*.zip.tmp"):
                tmp.unlink(missing_ok=True)
        with self.gate.stores.control().begin() as conn:
            rows = conn.execute(select(e.c.id, e.c.state, e.c.expires_at)).all()
            for row in rows:
                stale = (
                    row.state == "building" or row.expires_at <= now or row.state == "downloaded"
                )
                if stale:
                    (self.folder / f"{row.id}.zip").unlink(missing_ok=True)
                    if row.state == "building" or row.expires_at <= now:
                        conn.execute(delete(e).where(e.c.id == row.id))
                        removed += 1
        if self.folder.is_dir():
            known = {f"{r.id}.zip" for r in rows}
            for path in self.folder.glob("*.zip"):
                if path.name not in known:
                    path.unlink(missing_ok=True)
        return removed

    def erase_subject(self, subject_id: str) -> int:
        """Delete every export archive and row of a subject (account erasure)."""
        e = rt.exports
        with self.gate.stores.control().begin() as conn:
            ids = list(conn.execute(select(e.c.id).where(e.c.subject_id == subject_id)).scalars())
            for eid in ids:
                (self.folder / f"{eid}.zip").unlink(missing_ok=True)
                (self.folder / f".{eid}.zip.tmp").unlink(missing_ok=True)
            conn.execute(delete(e).where(e.c.subject_id == subject_id))
        return len(ids)


register_file_writer(
    "exports",
    ("exports/*.zip", "exports/.*.zip.tmp"),
    holds="a person's export archives (decrypted data, as the person asked)",
    erasure="deleted when the account is deleted, and when they expire",
)
