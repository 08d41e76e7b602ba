"""
Re-import of an export archive (portability, T17): an export produced by
:func:`charter.rights.export.stream_export` is read back into a (new) subject, every record
offered again THROUGH THE GATE, so the target subject's switches, the catalog and the
gate's checks apply exactly as for any other collection. Nothing is written around the gate.

Two passes over the archive, each holding at most one service file (plus one batch of blobs)
in memory:

1. validate: the manifest, every service file and the other JSON files against the
   published JSON Schema (``export.schema.json``), plus the cross-checks the schema cannot
   express (files and counts named by the manifest exist and agree, record subjects are the
   manifest's, blobs exist). Any problem raises :class:`~charter.errors.InputError` and
   nothing is stored;
2. import: each record becomes one :class:`~charter.gate.Event` with its data type, its
   declared purposes (the first one, then the next ones for records the gate refused), its
   value and its blob; the gate's answer is reported per record.

Values under a one-way protection (keyed hash, password hash) are exported as a marker, not
the value; they cannot be re-collected and are reported as refused (``one_way_value``).
A record whose qualifier differs from what the target subject's kind carries (e.g. a
pseudonymized record offered to an account) is refused (``qualifier_mismatch``): an import
never links pseudonymous data to an account.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from charter.errors import ConfigError, InputError
from charter.gate import Event, Subject
from charter.policy import QUALIFIERS_FOR_KIND
from charter.rights.export import export_schema_text
from charter.taxonomy import Purpose

if TYPE_CHECKING:
    from charter.gate import Gate

BATCH_EVENTS = 500
"""Events offered to the gate per collect call."""
BATCH_BLOB_BYTES = 16 * 1024 * 1024
"""Blob bytes held per collect call (a single larger blob is sent on its own)."""
ONE_WAY = frozenset({"keyed_hash", "password_hash"})
_OTHER_FILES = {
    "switches.json": "switches",
    "consents.json": "consents",
    "requests.json": "requests",
}


@dataclass(frozen=True, slots=True)
class ImportedRecord:
    """What happened to one record of the archive."""

    service: str
    data_type: str
    source_record_id: str
    accepted: bool
    reason: str
    message: str
    purpose: str | None = None
    record_id: str | None = None


@dataclass
class ImportReport:
    """The outcome of an import: one entry per record of the archive, in archive order."""

    subject_id: str
    items: list[ImportedRecord] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        """How many records the gate accepted."""
        return sum(1 for i in self.items if i.accepted)

    @property
    def refused(self) -> int:
        """How many records were refused."""
        return len(self.items) - self.accepted

    def reasons(self) -> dict[str, int]:
        """Refused records by reason."""
        out: dict[str, int] = {}
        for i in self.items:
            if not i.accepted:
                out[i.reason] = out.get(i.reason, 0) + 1
        return out


def import_export(
    gate: Gate,
    archive: str | Path | IO[bytes],
    subject_id: str,
    *,
    actor: str = "subject",
) -> ImportReport:
    """
    Re-collect every record of an export archive into ``subject_id``, through the gate.

    The archive is validated in full first; the target subject's switches apply (grant them
    before importing). Returns a per-record report.

    Raises:
        InputError: the archive is not a valid Charter export (nothing was stored).
        NotFoundError: no such target subject.
    """
    target = gate.subject(subject_id)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"not a zip archive: {exc}", field="archive") from exc
    with zf:
        services = _validate(zf)
        report = ImportReport(target.id)
        for entry in services:
            doc = _load(zf, entry["file"])
            _import_service(gate, zf, target, doc, report, actor)
            del doc
    return report


# -- validation ------------------------------------------------------------------------------


def _validators() -> tuple[Any, dict[str, Any]]:
    try:
        import jsonschema  # noqa: PLC0415 - needed only here
    except ImportError as exc:  # pragma: no cover - a deployment without jsonschema
        raise ConfigError("archive validation needs the jsonschema package") from exc
    schema = json.loads(export_schema_text())
    root = jsonschema.Draft202012Validator(schema)
    defs: dict[str, Any] = {}
    for ref in ("manifest", *_OTHER_FILES.values()):
        sub = {k: v for k, v in schema.items() if k in ("$schema", "$id", "$defs")}
        sub["$ref"] = f"#/$defs/{ref}"
        defs[ref] = jsonschema.Draft202012Validator(sub)
    return root, defs


def _check(validator: Any, doc: Any, name: str) -> None:
    error = next(iter(sorted(validator.iter_errors(doc), key=lambda e: list(e.path))), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise InputError(
            f"{name} does not match the export schema at {where}: {error.message[:200]}",
            field="archive",
        )


def _load(zf: zipfile.ZipFile, name: str) -> Any:
    try:
        with zf.open(name) as f:
            return json.load(f)
    except KeyError as exc:
        raise InputError(f"the archive lacks {name}", field="archive") from exc
    except (ValueError, zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{name} is not readable JSON: {exc}", field="archive") from exc


def _validate(zf: zipfile.ZipFile) -> list[dict[str, Any]]:
    """Check the whole archive (one file in memory at a time); the manifest's services."""
    root, defs = _validators()
    names = set(zf.namelist())
    manifest = _load(zf, "export.json")
    _check(defs["manifest"], manifest, "export.json")
    subjects = {s["id"] for s in manifest["subjects"]}
    services: list[dict[str, Any]] = manifest["services"]
    seen_files: set[str] = set()
    for entry in services:
        path = entry["file"]
        if path != f"services/{entry['id']}.json" or path in seen_files:
            raise InputError(
                f"export.json names a wrong or repeated file {path!r}", field="archive"
            )
        seen_files.add(path)
        doc = _load(zf, path)
        _check(root, doc, path)
        if doc["service"] != entry["id"]:
            raise InputError(f"{path} holds service {doc['service']!r}", field="archive")
        if len(doc["records"]) != entry["records"]:
            raise InputError(
                f"{path} holds {len(doc['records'])} records, export.json says {entry['records']}",
                field="archive",
            )
        ids: set[str] = set()
        for rec in doc["records"]:
            if rec["id"] in ids:
                raise InputError(f"{path} repeats record {rec['id']!r}", field="archive")
            ids.add(rec["id"])
            if rec["subject_id"] not in subjects:
                raise InputError(
                    f"{path}: record {rec['id']!r} belongs to no subject of the export",
                    field="archive",
                )
            blob = rec["blob"]
            if blob is not None and (blob != f"blobs/{rec['id']}" or blob not in names):
                raise InputError(
                    f"{path}: record {rec['id']!r} names a missing blob", field="archive"
                )
        del doc
    extra = {n for n in names if n.startswith("services/")} - seen_files
    if extra:
        raise InputError(f"service files not in export.json: {sorted(extra)[:5]}", field="archive")
    for name, ref in _OTHER_FILES.items():
        if name in names:
            _check(defs[ref], _load(zf, name), name)
    return services


# -- import ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Pending:
    index: int
    rec: dict[str, Any]
    purposes: list[Purpose]


def _import_service(
    gate: Gate,
    zf: zipfile.ZipFile,
    target: Subject,
    doc: dict[str, Any],
    report: ImportReport,
    actor: str,
) -> None:
    service = doc["service"]
    qualifier = QUALIFIERS_FOR_KIND[target.kind].value
    todo: list[_Pending] = []
    for rec in doc["records"]:
        index = len(report.items)
        item = ImportedRecord(service, rec["data_type"], rec["id"], False, "pending", "")
        report.items.append(item)
        if rec["protection"] in ONE_WAY:
            report.items[index] = _refused(
                item, "one_way_value", "only a one-way hash was exported; the value cannot return"
            )
        elif rec["qualifier"] != qualifier:
            report.items[index] = _refused(
                item,
                "qualifier_mismatch",
                f"the record is {rec['qualifier']}; a {target.kind.value} carries {qualifier}",
            )
        else:
            todo.append(_Pending(index, rec, [Purpose(p) for p in rec["purposes"]]))
    first_refusal: dict[int, ImportedRecord] = {}
    while todo:
        retry: list[_Pending] = []
        for batch in _batches(zf, todo):
            events = [_event(zf, target, service, p) for p in batch]
            result = gate.collect(events, actor=actor)
            for p, ev, res in zip(batch, events, result.items, strict=True):
                item = ImportedRecord(
                    service,
                    p.rec["data_type"],
                    p.rec["id"],
                    res.accepted,
                    res.reason,
                    res.message,
                    ev.purpose.value,
                    res.record_id,
                )
                if res.accepted:
                    report.items[p.index] = item
                    continue
                first_refusal.setdefault(p.index, item)
                report.items[p.index] = first_refusal[p.index]
                if len(p.purposes) > 1:
                    retry.append(_Pending(p.index, p.rec, p.purposes[1:]))
            del events
        todo = retry


def _refused(item: ImportedRecord, reason: str, message: str) -> ImportedRecord:
    return ImportedRecord(
        item.service, item.data_type, item.source_record_id, False, reason, message
    )


def _batches(zf: zipfile.ZipFile, todo: list[_Pending]) -> Iterator[list[_Pending]]:
    batch: list[_Pending] = []
    size = 0
    for p in todo:
        blob = p.rec["blob"]
        n = 0 if blob is None else 1 + zf.getinfo(blob).file_size
        if batch and (len(batch) >= BATCH_EVENTS or (n and size + n > BATCH_BLOB_BYTES)):
            yield batch
            batch, size = [], 0
        batch.append(p)
        size += n
    if batch:
        yield batch


def _event(zf: zipfile.ZipFile, target: Subject, service: str, p: _Pending) -> Event:
    rec = p.rec
    blob = None if rec["blob"] is None else zf.read(rec["blob"])
    return Event(
        target.id,
        service,
        rec["data_type"],
        p.purposes[0],
        rec["value"],
        blob=blob,
        source=rec["source"],
    )
