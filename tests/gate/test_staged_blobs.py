"""Blobs sealed while they arrive (an upload's body, chunk by chunk): the same envelope and
file as whole content, adopted by a collect batch, and nothing left behind by one that is
not collected."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charter.app import Charter
from charter.crypto import FIELD_OVERHEAD, SLICE_BYTES, FieldCipher, new_data_key
from charter.errors import InputError, RefusedError
from charter.gate import Event, StagedBlob
from charter.gate.blobs import HEAD_BYTES, PENDING, new_record_id
from charter.gate.erasure import shred_subject
from charter.policy import SubjectKind
from charter.taxonomy import Purpose

A = Purpose.APP_FUNCTIONALITY


def _person(charter: Charter, *, authorized: bool = True) -> str:
    s = charter.gate.create_subject(SubjectKind.ACCOUNT, "de").id
    charter.gate.set_switches(
        s, {"cloud.authorization": authorized}, source="user", actor="subject"
    )
    return s


def _files(charter: Charter) -> list[Path]:
    return [p for p in charter.stores.blob_dir("eu").rglob("*") if p.is_file()]


def _stage(charter: Charter, s: str, content: bytes, cuts: list[int]) -> StagedBlob:
    staged = charter.gate.stage_blob(s)
    at = 0
    for cut in sorted(cuts):
        staged.write(content[at:cut])
        at = max(at, cut)
    staged.write(content[at:])
    return staged


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    size=st.sampled_from(
        [HEAD_BYTES - 1, 5000, SLICE_BYTES - 3, SLICE_BYTES + 17, 3 * SLICE_BYTES]
    ),
    cuts=st.lists(st.integers(0, 3 * SLICE_BYTES), max_size=6),
)
def test_chunks_of_any_lengths_make_the_same_blob(
    charter: Charter, size: int, cuts: list[int]
) -> None:
    """However the body is cut, the stored blob reads back byte for byte, one envelope long,
    its file in its place and no intent left in ``.pending/``."""
    s = _person(charter)
    content = os.urandom(size)
    staged = _stage(charter, s, content, [c for c in cuts if c <= size])
    assert staged.head == content[:HEAD_BYTES]
    result = charter.gate.collect([Event(s, "cloud", "photos_videos", A, blob=staged)], actor="t")
    assert result.refused == 0
    record_id = result.items[0].record_id or ""
    assert record_id == staged.record_id
    assert staged.size == size
    read = charter.gate.read_blob(s, record_id, service="cloud", purpose=A, actor="t")
    assert read == content
    path = charter.stores.blob_dir("eu") / staged.name
    assert path.stat().st_size == size + FIELD_OVERHEAD
    assert not any((charter.stores.blob_dir("eu") / PENDING).glob("*"))


def test_a_refused_event_leaves_its_staged_file_to_discard(charter: Charter) -> None:
    """The gate decides on a staged blob as on any other: without the service's
    authorization nothing is stored, and discarding removes the file it was sealed into."""
    s = _person(charter, authorized=False)
    staged = _stage(charter, s, os.urandom(300_000), [70_000])
    result = charter.gate.collect([Event(s, "cloud", "photos_videos", A, blob=staged)], actor="t")
    assert result.refused == 1
    assert staged.path.exists()  # not adopted: the caller's to discard
    staged.discard()
    assert _files(charter) == []


def test_a_blob_sealed_under_another_key_is_refused(charter: Charter) -> None:
    """A staged blob whose key is not the subject's key now (rotated or replaced while the
    body arrived) would be unreadable: the event is refused with ``key_changed``."""
    s = _person(charter)
    charter.gate.stage_blob(s).discard()  # the subject's key exists
    record_id = new_record_id(charter.clock())
    stale = StagedBlob(charter.stores.blob_dir("eu"), FieldCipher(new_data_key()), s, record_id)
    stale.write(os.urandom(10_000))
    result = charter.gate.collect([Event(s, "cloud", "photos_videos", A, blob=stale)], actor="t")
    assert [(i.accepted, i.reason) for i in result.items] == [(False, "key_changed")]
    stale.discard()
    assert _files(charter) == []


def test_a_staged_blob_belongs_to_its_subject(charter: Charter) -> None:
    s, other = _person(charter), _person(charter)
    staged = _stage(charter, s, os.urandom(9000), [])
    result = charter.gate.collect(
        [Event(other, "cloud", "photos_videos", A, blob=staged)], actor="t"
    )
    assert result.items[0].accepted is False
    assert "another subject" in result.items[0].message
    staged.discard()


def test_a_shredded_subject_cannot_stage(charter: Charter) -> None:
    """No new data key is made for a subject whose key was destroyed."""
    s = _person(charter)
    shred_subject(charter.gate, s, actor="admin")
    with pytest.raises(RefusedError) as info:
        charter.gate.stage_blob(s)
    assert info.value.code == "subject_inactive"
    with charter.stores.region("eu").connect() as conn:
        assert charter.gate.keys.cipher(conn, s, "eu") is None


def test_a_sealed_blob_takes_no_more(charter: Charter) -> None:
    s = _person(charter)
    staged = _stage(charter, s, b"x" * 5000, [])
    staged.close()
    with pytest.raises(InputError):
        staged.write(b"more")
    staged.discard()
    assert _files(charter) == []
