"""
T7 (reduced): a snapshot copy of the region's SQLite file taken before an account
deletion; after the deletion, a KEK rotation with rewrap and the retirement of the old KEK,
not one record of the deleted user decrypts from the snapshot (its wrapped data key there
is wrapped by a destroyed KEK), while survivors stay readable in the live database.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from rights_seeding import seed_subject

from charter.app import Charter
from charter.crypto import FieldCipher, record_aad, unwrap_data_key
from charter.errors import IntegrityError
from charter.gate import jobs
from charter.rights import Rights
from charter.store.engines import checkpoint
from charter.taxonomy import Purpose


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_snapshot_records_unrecoverable_after_kek_retirement(
    charter: Charter, rights: Rights, tmp_path: Path
) -> None:
    victim = seed_subject(charter, limit=15)
    survivor = seed_subject(charter, limit=15)
    engine = charter.stores.region("india")
    checkpoint(engine)
    snapshot = tmp_path / "snapshot.db"
    src = sqlite3.connect(str(charter.settings.data_dir / "regions" / "india.db"))
    dst = sqlite3.connect(str(snapshot))
    src.backup(dst)
    src.close()
    rights.delete_account(victim.subject_id)
    report = jobs.rotate_keys(charter.gate)
    charter.keyring.retire(report.new_version - 1)
    charter.gate.keys.forget_all()

    rows = dst.execute(
        "SELECT id, service, data_type, value FROM records WHERE subject_id = ? AND protection = 'field_encryption'",
        (victim.subject_id,),
    ).fetchall()
    wrapped = dst.execute(
        "SELECT wrapped FROM data_keys WHERE subject_id = ?", (victim.subject_id,)
    ).fetchone()[0]
    dst.close()
    assert rows
    with pytest.raises(IntegrityError):
        unwrap_data_key(charter.keyring, wrapped, subject_id=victim.subject_id, region="india")
    live_keys = []
    with engine.connect() as conn:
        for sid, w in conn.exec_driver_sql("SELECT subject_id, wrapped FROM data_keys").fetchall():
            live_keys.append(
                FieldCipher(unwrap_data_key(charter.keyring, w, subject_id=sid, region="india"))
            )
    decrypted = 0
    for rid, service, data_type, value in rows:
        for key in live_keys:
            try:
                key.decrypt(
                    value,
                    aad=record_aad(
                        subject_id=victim.subject_id,
                        service=service,
                        data_type=data_type,
                        record_id=rid,
                    ),
                )
                decrypted += 1
            except IntegrityError:
                pass
    assert decrypted == 0
    print(f"records_decryptable_from_snapshot: {decrypted} count")
    assert (
        charter.gate.read(
            survivor.subject_id, service="cloud", purpose=Purpose.APP_FUNCTIONALITY, actor="t"
        )
        is not None
    )
