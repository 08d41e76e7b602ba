"""Blobs: small ones kept in their record (one commit), larger ones as files made durable
together before the batch commits, and files of a batch a crash interrupted swept away."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charter.app import Charter
from charter.crypto import FIELD_OVERHEAD
from charter.gate import Event, jobs
from charter.gate.blobs import INLINE, INLINE_MAX, PENDING, BlobBatch
from charter.gate.export import iter_records
from charter.gate.export import read_blob as export_blob
from charter.gate.items import item_metadata, own_blob
from charter.policy import SubjectKind
from charter.store import schema as t
from charter.taxonomy import Purpose
from charter.testing import FakeClock

A = Purpose.APP_FUNCTIONALITY


def _person(charter: Charter) -> str:
    s = charter.gate.create_subject(SubjectKind.ACCOUNT, "de").id
    charter.gate.set_switches(s, {"cloud.authorization": True}, source="user", actor="subject")
    return s


def _files(charter: Charter) -> list[Path]:
    return [p for p in charter.stores.blob_dir("eu").rglob("*") if p.is_file()]


def _blob(charter: Charter, s: str, record_id: str) -> bytes:
    return charter.gate.read_blob(s, record_id, service="cloud", purpose=A, actor="t")


def test_small_blobs_stay_in_their_record_and_read_everywhere(charter: Charter) -> None:
    gate = charter.gate
    s = _person(charter)
    small = [b"CARD-%d-" % n * 10 for n in range(3)] + [b"E" * INLINE_MAX]
    large = b"PHOTO" * 2000
    result = gate.collect(
        [Event(s, "cloud", "contacts", A, blob=c) for c in small]
        + [Event(s, "cloud", "photos_videos", A, blob=large)],
        actor="t",
    )
    ids = [i.record_id or "" for i in result.items]
    assert result.refused == 0
    files = _files(charter)
    assert len(files) == 1 and files[0].name == ids[-1]  # only the large one is a file
    with charter.stores.region("eu").connect() as conn:
        stored = dict(
            conn.execute(
                t.records.select().with_only_columns(t.records.c.id, t.records.c.blob)
            ).all()
        )
    assert [stored[i] for i in ids[:4]] == [INLINE] * 4 and stored[ids[4]] != INLINE
    for record_id, content in zip(ids, [*small, large], strict=True):
        assert _blob(charter, s, record_id) == content
    # readers of values see no value, and a blob
    read = {r.id: r for r in gate.read(s, service="cloud", purpose=A, actor="t")}
    assert all(read[i].value is None and read[i].has_blob for i in ids)
    subject = gate.subject(s)
    assert not any(m.has_value for m in item_metadata(gate, subject, service="cloud"))
    exported = {r.id: r for r in iter_records(gate, subject, service="cloud")}
    assert all(exported[i].value is None for i in ids)
    assert export_blob(gate, subject, exported[ids[0]]) == small[0]
    assert own_blob(gate, subject, ids[1])[1] == small[1]
    # deleting them leaves nothing, file or row
    assert gate.delete_records(s, ids, service="cloud", actor="t", why="test") == 5
    assert _files(charter) == []


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sizes=st.lists(st.integers(0, 3 * INLINE_MAX), min_size=1, max_size=8))
def test_any_sizes_round_trip(charter: Charter, sizes: list[int]) -> None:
    s = _person(charter)
    contents = [bytes([n % 251]) * size for n, size in enumerate(sizes)]
    result = charter.gate.collect(
        [Event(s, "cloud", "notes", A, blob=c) for c in contents], actor="t"
    )
    assert result.refused == 0
    for item, content in zip(result.items, contents, strict=True):
        assert _blob(charter, s, item.record_id or "") == content
    assert not any((charter.stores.blob_dir("eu") / PENDING).glob("*"))  # intents gone


def test_blobs_of_many_slices_are_written_in_order(charter: Charter) -> None:
    """A blob larger than the slice it is encrypted and written in (1 MiB, each slice
    written by another thread) reads back whole, byte for byte, and opens as one envelope."""
    s = _person(charter)
    contents = [os.urandom(size) for size in ((1 << 20) + 1, 3 * (1 << 20) - 7)]
    result = charter.gate.collect(
        [Event(s, "cloud", "photos_videos", A, blob=c) for c in contents], actor="t"
    )
    assert result.refused == 0
    for item, content in zip(result.items, contents, strict=True):
        assert _blob(charter, s, item.record_id or "") == content
    sizes = sorted(p.stat().st_size for p in _files(charter))
    assert sizes == sorted(len(c) + FIELD_OVERHEAD for c in contents)


def test_interrupted_batch_is_swept_and_committed_blobs_stay(
    charter: Charter, clock: FakeClock
) -> None:
    gate = charter.gate
    s = _person(charter)
    kept = gate.collect([Event(s, "cloud", "photos_videos", A, blob=b"K" * 9000)], actor="t")
    kept_id = kept.items[0].record_id or ""
    blob_dir = charter.stores.blob_dir("eu")
    pending = blob_dir / PENDING
    assert {p.name for p in _files(charter)} == {kept_id} and not list(pending.iterdir())
    # A crash after the commit, before the file moved to its place: it still reads.
    kept_path = blob_dir / s[2:4] / kept_id
    kept_path.rename(pending / f"{s[2:4]}-{kept_id}")
    assert _blob(charter, s, kept_id) == b"K" * 9000
    # A batch whose files are durable, stopped before its records commit (a crash there).
    batch = BlobBatch(charter.stores, "eu")
    with charter.stores.region("eu").begin() as conn:
        cipher = gate.keys.cipher(conn, s, "eu", create=True)
    assert cipher is not None
    orphan_id = f"{clock.now:016x}" + "00" * 8
    name, inline = batch.seal(cipher, s, orphan_id, b"O" * 9000, inline=True)
    assert inline is None
    batch.write()
    assert len(list(pending.iterdir())) == 2 and not (blob_dir / name).exists()
    assert jobs.purge_expired(gate).blobs == 0  # too young: its batch may still be running
    clock.advance(seconds=2 * 3600)
    assert jobs.purge_expired(gate).blobs == 2  # one settled, one removed
    assert not list(pending.iterdir()) and kept_path.exists()
    assert _blob(charter, s, kept_id) == b"K" * 9000
    assert {p.name for p in _files(charter)} == {kept_id}


def test_failed_batch_leaves_no_file(charter: Charter) -> None:
    gate = charter.gate
    s = _person(charter)
    batch = BlobBatch(charter.stores, "eu")
    with charter.stores.region("eu").begin() as conn:
        cipher = gate.keys.cipher(conn, s, "eu", create=True)
    assert cipher is not None
    for n in range(3):
        batch.seal(cipher, s, f"{n:032x}", b"F" * 9000, inline=False)
    batch.write()
    assert len(_files(charter)) == 3
    batch.discard()
    assert _files(charter) == []
