"""
Two Charter instances on one deployment (as ``charter serve`` and a ``charter`` command in
another process are): what one changes, the other sees at once. Regression for issue 11:
``charter delete-account`` beside a running server left the server answering 200 "active"
for the erased subject and 500 (IntegrityError) to a switch change.

And the class behind it: a database constraint violation is never a 500 but a 409
``conflict`` in the one error shape.
"""

from __future__ import annotations

import warnings

import pytest
from api_support import Api
from fastapi import FastAPI
from sqlalchemy import Column, Engine, Integer, MetaData, Table, create_engine, insert

from charter.api import errors as api_errors
from charter.app import Charter
from charter.clock import Clock
from charter.store.faults import is_constraint_violation

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient

NOTE = {"data_type": "notes", "purpose": "app_functionality"}


def _other_process(charter: Charter, clock: Clock) -> Charter:
    """A second instance on the same data directory and databases (no shared memory)."""
    return Charter.open(charter.settings, clock=clock)


def test_an_account_deleted_elsewhere_is_gone_for_the_server(api: Api, charter: Charter) -> None:
    cloud = api.key("cloud")
    sid = api.subject(cloud)
    user = api.token(sid)
    api.switch(sid, {"cloud.authorization": True}, user)
    stored = api.collect([{"subject_id": sid, **NOTE, "value": "x"}], cloud)
    assert stored["accepted"] == 1  # the server now caches the subject and its data key
    assert api.client.get(f"/v1/subjects/{sid}", headers=cloud).json()["status"] == "active"

    other = _other_process(charter, charter.clock)
    try:
        other.rights.delete_account(sid, actor="admin")
    finally:
        other.close()

    seen = api.client.get(f"/v1/subjects/{sid}", headers=cloud)
    assert seen.status_code == 404, seen.text
    change = api.client.put(
        f"/v1/subjects/{sid}/switches",
        json={"changes": {"cloud.authorization": False}},
        headers=cloud,
    )
    assert change.status_code == 404, change.text
    assert change.json()["error"]["field"] == "subject_id"
    late = api.collect([{"subject_id": sid, **NOTE, "value": "late"}], cloud)
    assert late["accepted"] == 0
    assert late["items"][0]["reason"] in {"subject_inactive", "unknown_subject"}


def test_a_key_shredded_elsewhere_is_never_used_from_the_cache(charter: Charter) -> None:
    subject = charter.gate.create_subject("account", "de")
    region = subject.region
    engine = charter.stores.region(region)
    with engine.begin() as conn:
        first = charter.gate.keys.cipher(conn, subject.id, region, create=True)
    assert first is not None
    other = _other_process(charter, charter.clock)
    try:
        with other.stores.region(region).begin() as conn:
            assert other.gate.keys.destroy(conn, subject.id) == 1
    finally:
        other.close()
    with engine.begin() as conn:
        assert charter.gate.keys.cipher(conn, subject.id, region) is None


def test_a_status_change_elsewhere_is_seen(charter: Charter) -> None:
    subject = charter.gate.create_subject("app_instance", "de")
    assert charter.gate.subject(subject.id).status == "active"
    other = _other_process(charter, charter.clock)
    try:
        other.gate.reset_pseudonym(subject.id)
    finally:
        other.close()
    assert charter.gate.subject(subject.id).status == "reset"


def _violation_app(url: str) -> tuple[FastAPI, MetaData, Engine]:
    meta = MetaData()
    table = Table("cross_process_probe", meta, Column("id", Integer, primary_key=True))
    engine = create_engine(url)
    meta.create_all(engine)
    app = FastAPI()
    api_errors.install(app)

    @app.post("/twice")
    def twice() -> dict[str, str]:
        with engine.begin() as conn:
            conn.execute(insert(table).values(id=1))
            conn.execute(insert(table).values(id=1))
        return {}

    return app, meta, engine


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_constraint_violation_is_a_409_in_the_one_shape(
    kind: str, tmp_path: object, pg_databases: dict[str, str]
) -> None:
    if kind == "postgres":
        if not pg_databases:
            pytest.skip("CHARTER_TEST_POSTGRES_URL is not set")
        url = pg_databases["control"]
    else:
        url = f"sqlite+pysqlite:///{tmp_path}/v.db"
    app, meta, engine = _violation_app(url)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.post("/twice")
    finally:
        meta.drop_all(engine)
        engine.dispose()
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert "reload" in response.json()["error"]["message"]


def test_only_constraint_violations_count_as_conflicts() -> None:
    assert not is_constraint_violation(ValueError("unique"))
    assert not is_constraint_violation(RuntimeError())
