"""
A streamed upload is checked when its body is announced (:meth:`CloudSync.stage`) and again
in the transaction that writes its item: a switch-off or a quota used up while the body
arrived refuses it there, and it leaves no item, no record and no file.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from test_sync import live_records, person

from charter.app import Charter
from charter.errors import RefusedError
from charter.services.cloud import PLANS
from charter.services.cloud.tables import accounts

SIZE = 300_000


def _blob_files(charter: Charter) -> list[str]:
    root = charter.settings.data_dir
    return [p.name for p in root.rglob("*") if p.is_file() and "blobs" in p.parts]


def _switch_off(charter: Charter, subject: str) -> str:
    charter.cloud.set_sync(subject, "gallery", False)
    return "sync_off"


def _use_up_quota(charter: Charter, subject: str) -> str:
    """Another device's uploads committed meanwhile: the plan is all but full."""
    left = SIZE // 2
    with charter.stores.control().begin() as conn:
        charter.cloud.ensure_account(conn, subject)
        conn.execute(
            update(accounts)
            .where(accounts.c.subject_id == subject)
            .values(used_bytes=PLANS["free"].quota_bytes - left)
        )
    return "quota_exceeded"


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    change=st.sampled_from([_switch_off, _use_up_quota]),
    chunk=st.integers(min_value=1000, max_value=SIZE),
)
def test_a_change_while_the_body_arrives_refuses_the_upload_and_leaves_nothing(
    charter: Charter, change: object, chunk: int
) -> None:
    subject = person(charter)
    before = _blob_files(charter)
    content = os.urandom(SIZE)
    staged = charter.cloud.stage(subject, "gallery", SIZE)  # checked: on, and it fits
    for at in range(0, SIZE, chunk):
        staged.write(content[at : at + chunk])
    code = change(charter, subject)  # type: ignore[operator]
    with pytest.raises(RefusedError) as refused:
        charter.cloud.upload(subject, "gallery", staged)
    assert refused.value.code == code
    assert charter.cloud.changes(subject)[0] == []
    assert live_records(charter, subject) == 0
    assert _blob_files(charter) == before
