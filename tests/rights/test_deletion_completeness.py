"""
T1 (reduced for CI): users with unique markers in every personal field, blobs, request
messages and an export; half are deleted; the raw bytes of every database file, WAL, SHM,
blob and export hold none of their markers in any encoding; no row references them; their
captured ciphertexts decrypt with no remaining key; survivors' data still decrypts.
Also: verify_erasure finds planted residue, and nothing after deletion.
"""

from __future__ import annotations

import pytest
from rights_seeding import Seeded, scan, seed_subject
from sqlalchemy import select

from charter.app import Charter
from charter.crypto import FieldCipher, record_aad, unwrap_data_key
from charter.errors import InputError, IntegrityError
from charter.gate.export import count_records
from charter.policy import SubjectKind
from charter.rights import Rights
from charter.rights import tables as rt
from charter.store import schema as t

USERS = 6


def _ciphertexts(charter: Charter, subject_id: str) -> list[tuple[str, str, str, bytes]]:
    r = t.records
    with charter.stores.region("india").connect() as conn:
        rows = conn.execute(
            select(r.c.id, r.c.service, r.c.data_type, r.c.value).where(
                r.c.subject_id == subject_id, r.c.protection == "field_encryption"
            )
        ).all()
    return [(x.id, x.service, x.data_type, x.value) for x in rows]


def _remaining_keys(charter: Charter) -> list[FieldCipher]:
    with charter.stores.region("india").connect() as conn:
        rows = conn.execute(select(t.data_keys.c.subject_id, t.data_keys.c.wrapped)).all()
    return [
        FieldCipher(unwrap_data_key(charter.keyring, w, subject_id=s, region="india"))
        for s, w in rows
    ]


def _try_decrypt(cipher: FieldCipher, subject_id: str, item: tuple[str, str, str, bytes]) -> bool:
    rid, service, data_type, value = item
    try:
        cipher.decrypt(
            value,
            aad=record_aad(
                subject_id=subject_id, service=service, data_type=data_type, record_id=rid
            ),
        )
    except IntegrityError:
        return False
    return True


def test_deletion_leaves_no_residue(charter: Charter, rights: Rights, backend: str) -> None:
    users: list[Seeded] = []
    for _ in range(USERS):
        s = seed_subject(charter, limit=19)
        msg = "MSG" + s.markers[0][2:]
        rights.requests.file(s.subject_id, "complain", message=msg)
        s.markers.append(msg)
        rights.export(s.subject_id)
        users.append(s)
    assert all(len(u.markers) >= 20 for u in users)
    deleted, kept = users[:3], users[3:]
    captured = {u.subject_id: _ciphertexts(charter, u.subject_id) for u in deleted}
    assert all(captured.values())
    for u in deleted:
        rights.delete_account(u.subject_id)

    # 0 rows referencing deleted ids, in any table of any database; verify_erasure agrees
    for u in deleted:
        report = rights.verify_erasure(u.subject_id, record_ids=u.record_ids, markers=u.markers)
        assert report.clean, report.findings[:5]
        if backend == "postgres":
            assert report.notes
    # raw bytes (embedded SQLite deployment): DB, -wal, -shm, blobs, exports
    if backend == "sqlite":
        scanned, hits = scan(charter.settings.data_dir, [m for u in deleted for m in u.markers])
        assert scanned > 0
        assert hits == []
        # sanity: the scanner sees survivors' plain values
        _s, survivor_hits = scan(charter.settings.data_dir, [m for u in kept for m in u.markers])
        assert survivor_hits
        print(
            f"markers_seeded: {sum(len(u.markers) for u in users)} count\nbytes_scanned: {scanned} bytes\nresidual_hits: {len(hits)} count"
        )
    # captured ciphertexts fail with every remaining key; survivors still decrypt
    keys = _remaining_keys(charter)
    assert len(keys) >= len(kept)
    for sid, items in captured.items():
        assert not any(_try_decrypt(k, sid, item) for k in keys for item in items)
    for u in kept:
        assert count_records(charter.gate, charter.gate.subject(u.subject_id))
        for item in _ciphertexts(charter, u.subject_id):
            assert any(_try_decrypt(k, u.subject_id, item) for k in keys)
    # the rights tables keep only anonymized traces
    with charter.stores.control().connect() as conn:
        erased = conn.execute(
            select(rt.counters.c.count).where(rt.counters.c.name == "accounts_erased")
        ).scalar_one()
    assert erased == 3


def test_verify_erasure_finds_planted_residue(
    charter: Charter, rights: Rights, backend: str
) -> None:
    s = seed_subject(charter, limit=5)
    before = rights.verify_erasure(s.subject_id, record_ids=s.record_ids, markers=s.markers)
    assert not before.clean  # the live subject is everywhere
    rights.delete_account(s.subject_id)
    assert rights.verify_erasure(s.subject_id, record_ids=s.record_ids, markers=s.markers).clean
    # plant residue: a log line, a stray row
    logs = charter.settings.data_dir / "logs"
    logs.mkdir()
    (logs / "charter.log").write_text(
        f"debug subject={s.subject_id} value={s.markers[0]}\n", encoding="utf-16"
    )
    with charter.stores.control().begin() as conn:
        conn.execute(
            rt.devices.insert().values(subject_id=s.subject_id, device_id="stray", registered_at=0)
        )
    report = rights.verify_erasure(s.subject_id, record_ids=s.record_ids, markers=s.markers)
    where = {f.where for f in report.findings}
    assert any("rights_devices.subject_id" in w for w in where)
    assert any("logs/charter.log" in w for w in where)
    assert {f.needle for f in report.findings} >= {"subject_id", "marker[0]"}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_pseudonymous_subject_cannot_be_deleted_as_account(
    charter: Charter, rights: Rights
) -> None:
    s = charter.gate.create_subject(SubjectKind.APP_INSTANCE, "de")
    with pytest.raises(InputError):
        rights.delete_account(s.id)
