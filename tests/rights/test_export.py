"""
R1 / T17: the export holds every record of the subject (and of the pseudonymous ids its
device presents) and nothing of anyone else, validates against the published JSON Schema,
and download links are single-use and expiring.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import jsonschema
import pytest
from rights_seeding import seed_subject

from charter.app import Charter
from charter.errors import NotFoundError, RefusedError
from charter.policy import SubjectKind
from charter.rights import Rights
from charter.rights.export import DOWNLOAD_TTL_DAYS, export_schema_text
from charter.testing import FakeClock

DOCS_SCHEMA = Path(__file__).parents[2] / "docs" / "schemas" / "export.schema.json"


def _validator(ref: str | None = None) -> jsonschema.Draft202012Validator:
    schema = json.loads(export_schema_text())
    if ref is not None:
        schema = {**schema, "$ref": f"#/$defs/{ref}"}
        for key in ("required", "properties", "additionalProperties", "type"):
            schema.pop(key, None)
    return jsonschema.Draft202012Validator(schema)


def test_published_schema_matches_the_shipped_one() -> None:
    assert json.loads(DOCS_SCHEMA.read_text(encoding="utf-8")) == json.loads(export_schema_text())


def test_export_is_complete_and_only_the_subjects_own(
    charter: Charter, rights: Rights, clock: FakeClock
) -> None:
    me = seed_subject(charter)
    device = seed_subject(charter, SubjectKind.APP_INSTANCE)
    other = seed_subject(charter)
    stranger_device = seed_subject(charter, SubjectKind.APP_INSTANCE)
    rights.consents.record(me.subject_id, "general", method="privacy_center")
    every = {s.id for s in charter.catalog if s.inventory and not s.on_device_only}
    assert every - (me.services | device.services) <= {
        "privacy_center",
        "browser",
        "video",
        "get_apps",
    }
    _rid, ticket = rights.export(me.subject_id, pseudonyms=[device.subject_id])
    data = b"".join(rights.download(ticket.token))
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = set(zf.namelist())
    assert {
        "export.json",
        "index.html",
        "switches.json",
        "consents.json",
        "requests.json",
        "export.schema.json",
    } <= names
    manifest = json.loads(zf.read("export.json"))
    _validator("manifest").validate(manifest)
    found: dict[str, dict[str, object]] = {}
    for entry in manifest["services"]:
        doc = json.loads(zf.read(entry["file"]))
        _validator().validate(doc)
        assert len(doc["records"]) == entry["records"]
        for rec in doc["records"]:
            found[rec["id"]] = rec
    expected = set(me.record_ids) | set(device.record_ids)
    assert set(found) == expected  # 100% of the subject's records, 0 of anyone else's
    text = data.decode("latin-1")
    for m in other.markers + stranger_device.markers:
        assert m not in text
    revealed = [
        r
        for r in found.values()
        if r["protection"] in ("plain", "field_encryption") and r["value"] is not None
    ]
    assert len(revealed) >= 20
    assert all(r["value"]["m"] in me.markers + device.markers for r in revealed)  # type: ignore[index]
    blob_records = [r for r in found.values() if r["blob"]]
    assert blob_records and zf.read(blob_records[0]["blob"]).startswith(b"BLOBMK")
    for name, ref in (
        ("switches.json", "switches"),
        ("consents.json", "consents"),
        ("requests.json", "requests"),
    ):
        _validator(ref).validate(json.loads(zf.read(name)))
    assert json.loads(zf.read("consents.json"))["consents"][0]["scope"] == "general"
    index = zf.read("index.html").decode()
    assert revealed[0]["value"]["m"] in index  # type: ignore[index]
    assert me.subject_id in index
    print(f"completeness: {100 * len(set(found) & expected) / len(expected):.1f} %")


def test_download_links_are_single_use_and_expire(
    charter: Charter, rights: Rights, clock: FakeClock
) -> None:
    me = seed_subject(charter, limit=3, blob=False)
    _r, first = rights.export(me.subject_id)
    assert b"".join(rights.download(first.token))[:2] == b"PK"
    with pytest.raises(NotFoundError):
        rights.download(first.token)
    _r, second = rights.export(me.subject_id)
    clock.advance(days=DOWNLOAD_TTL_DAYS, micros=1)
    with pytest.raises(NotFoundError):
        rights.download(second.token)
    assert rights.exports.recover() >= 1
    assert not list((charter.settings.data_dir / "exports").glob("*.zip"))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_account_cannot_be_presented_as_a_pseudonym(charter: Charter, rights: Rights) -> None:
    me = seed_subject(charter, limit=2, blob=False)
    other = seed_subject(charter, limit=2, blob=False)
    with pytest.raises(RefusedError):
        rights.export(me.subject_id, pseudonyms=[other.subject_id])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_stream_starts_before_the_whole_archive_is_built(charter: Charter, rights: Rights) -> None:
    me = seed_subject(charter)
    stream = rights.stream(me.subject_id)
    first = next(stream)
    assert first.startswith(b"PK")
    rest = b"".join(stream)
    assert zipfile.ZipFile(io.BytesIO(first + rest)).testzip() is None
