"""
T17: an export round-trips on re-import. Every record is re-collected through the gate into
a new subject (whose switches apply), a tampered archive is refused with nothing stored, and
a record the gate refuses is reported with its reason.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from typing import Any

import pytest
from rights_seeding import everything_on, seed_subject

from charter.app import Charter
from charter.errors import InputError
from charter.gate import export as gx
from charter.policy import SubjectKind
from charter.rights import Rights
from charter.rights.portability import ONE_WAY

Key = tuple[str, str, tuple[str, ...], str, bytes | None]


def _archive(rights: Rights, subject_id: str) -> bytes:
    return b"".join(rights.stream(subject_id))


def _records(data: bytes) -> list[dict[str, Any]]:
    zf = zipfile.ZipFile(io.BytesIO(data))
    out = []
    for entry in json.loads(zf.read("export.json"))["services"]:
        doc = json.loads(zf.read(entry["file"]))
        for rec in doc["records"]:
            rec["_service"] = doc["service"]
            rec["_blob"] = zf.read(rec["blob"]) if rec["blob"] else None
            out.append(rec)
    return out


def _multiset(records: list[dict[str, Any]]) -> Counter[Key]:
    return Counter(
        (
            r["_service"],
            r["data_type"],
            tuple(r["purposes"]),
            json.dumps(r["value"], sort_keys=True),
            r["_blob"],
        )
        for r in records
    )


def _count(charter: Charter, subject_id: str) -> int:
    return sum(gx.count_records(charter.gate, charter.gate.subject(subject_id)).values())


def _new_account(charter: Charter, market: str = "in") -> str:
    subject = charter.gate.create_subject(SubjectKind.ACCOUNT, market)
    everything_on(charter, subject.id)  # the same switches as the seeded subject
    return subject.id


def test_export_round_trips_on_reimport(charter: Charter, rights: Rights) -> None:
    me = seed_subject(charter)
    original = _archive(rights, me.subject_id)
    before = _records(original)
    assert {r["_service"] for r in before} == me.services
    assert any(r["_blob"] for r in before)
    target = _new_account(charter)

    report = rights.import_export(io.BytesIO(original), target, actor="subject")

    assert len(report.items) == len(before)
    importable = [r for r in before if r["protection"] not in ONE_WAY]
    one_way = [r for r in before if r["protection"] in ONE_WAY]
    assert report.accepted == len(importable)
    assert report.reasons() == ({"one_way_value": len(one_way)} if one_way else {})
    after = _records(_archive(rights, target))
    assert all(r["subject_id"] == target for r in after)
    assert _multiset(after) == _multiset(importable)  # 100% of what can be re-collected
    assert {i.source_record_id for i in report.items if i.accepted} == {r["id"] for r in importable}
    print(f"round trip: {len(after)}/{len(importable)} records ({len(one_way)} one-way hashes)")


def test_a_tampered_archive_is_refused_and_nothing_is_stored(
    charter: Charter, rights: Rights, tmp_path: Any
) -> None:
    me = seed_subject(charter, limit=6)
    original = zipfile.ZipFile(io.BytesIO(_archive(rights, me.subject_id)))
    manifest = json.loads(original.read("export.json"))
    victim = manifest["services"][-1]["file"]
    doc = json.loads(original.read(victim))
    doc["records"][-1]["purposes"] = ["surveillance"]  # not a purpose of the schema
    doc["records"][-1]["admin"] = True
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tampered, "w") as out:
        for name in original.namelist():
            data = json.dumps(doc).encode() if name == victim else original.read(name)
            out.writestr(name, data)
    target = _new_account(charter)

    with pytest.raises(InputError) as caught:
        rights.import_export(tampered, target)
    assert victim in caught.value.message
    assert _count(charter, target) == 0

    with pytest.raises(InputError):
        rights.import_export(io.BytesIO(b"not a zip at all"), target)
    foreign = io.BytesIO()
    with zipfile.ZipFile(foreign, "w") as out:
        out.writestr("export.json", json.dumps({"format": "someone-else/2"}))
    with pytest.raises(InputError):
        rights.import_export(io.BytesIO(foreign.getvalue()), target)
    assert _count(charter, target) == 0


def test_a_refused_record_is_reported_and_not_stored(charter: Charter, rights: Rights) -> None:
    me = seed_subject(charter)
    original = _archive(rights, me.subject_id)
    before = [r for r in _records(original) if r["protection"] not in ONE_WAY]
    services = {r["_service"] for r in before}
    off = next(s for s in sorted(services) if f"{s}.authorization" in charter.compiled.defaults)
    target = _new_account(charter)
    charter.gate.set_switches(
        target, {f"{off}.authorization": False}, source="user", actor="subject"
    )

    report = rights.import_export(io.BytesIO(original), target)

    refused = [i for i in report.items if not i.accepted and i.reason != "one_way_value"]
    assert refused and {i.service for i in refused} == {off}
    assert {i.reason for i in refused} == {"consent_required"}
    assert all(i.record_id is None and i.message for i in refused)
    after = _records(_archive(rights, target))
    assert off not in {r["_service"] for r in after}
    assert _multiset(after) == _multiset([r for r in before if r["_service"] != off])
