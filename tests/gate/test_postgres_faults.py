"""T22 completed on a real, throwaway PostgreSQL cluster (initdb of the installed server):
a server with ``fsync=off`` is refused at start; a postmaster killed during collects over
HTTP gives clear 503s, then recovery without a restart of Charter, nothing acknowledged lost."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from charter.app import Charter
from charter.errors import ConfigError
from charter.taxonomy import Purpose
from charter.testing import open_test_charter, settings_for
from support.live import live_server
from support.pg_cluster import TempCluster


@pytest.fixture
def cluster() -> Iterator[TempCluster]:
    made = TempCluster()
    try:
        yield made
    finally:
        made.remove()


def _databases(cluster: TempCluster, *names: str) -> dict[str, str]:
    admin = create_engine(cluster.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    base = make_url(cluster.url)
    return {n: base.set(database=n).render_as_string(hide_password=False) for n in names}


def test_a_server_with_fsync_off_is_refused(cluster: TempCluster, tmp_path: Path) -> None:
    cluster.start(fsync="off")
    urls = _databases(cluster, "control")
    # Refused when the control database is first opened: at start, by a service that
    # opens it while it is built, or else at the first use.
    with pytest.raises(ConfigError, match="fsync"):
        charter = open_test_charter(tmp_path / "data", {"control": urls["control"]})
        try:
            charter.stores.control()
        finally:
            charter.close()


def test_killed_postmaster_gives_503s_then_recovers_losing_nothing(
    cluster: TempCluster, tmp_path: Path
) -> None:
    cluster.start()
    urls = _databases(cluster, "control", "eu")
    data = tmp_path / "data"
    charter = open_test_charter(data, urls)
    key = charter.credentials.create_api_key("cloud").secret
    subject = charter.gate.create_subject("account", "de").id
    charter.gate.set_switches(
        subject, {"cloud.authorization": True}, source="user", actor="subject"
    )
    charter.close()
    env = {"CHARTER_CONTROL_DATABASE_URL": urls["control"], "CHARTER_DATABASE_URL_EU": urls["eu"]}
    acknowledged: list[str] = []
    refusals: list[httpx.Response] = []
    other: list[int] = []
    before, down, after = threading.Event(), threading.Event(), threading.Event()
    stop = threading.Event()

    with live_server(data, env) as (base, _):

        def collect_forever() -> None:
            with httpx.Client(base_url=base, timeout=60) as http:
                n = 0
                while not stop.is_set():
                    n += 1
                    value = f"note-{n}"
                    event = {
                        "subject_id": subject,
                        "data_type": "notes",
                        "purpose": "app_functionality",
                        "value": value,
                    }
                    answer = http.post(
                        "/v1/collect",
                        json={"events": [event]},
                        headers={"Authorization": f"Bearer {key}"},
                    )
                    if answer.status_code == 200 and answer.json()["accepted"] == 1:
                        acknowledged.append(value)
                    elif answer.status_code == 503:
                        refusals.append(answer)
                    else:
                        other.append(answer.status_code)
                    if len(acknowledged) >= 10:
                        before.set()
                    if len(refusals) >= 3:
                        down.set()
                    if down.is_set() and len(acknowledged) >= 30:
                        after.set()

        worker = threading.Thread(target=collect_forever)
        worker.start()
        try:
            assert before.wait(120), "no collects acknowledged before the kill"
            cluster.kill()
            assert down.wait(120), "no 503s while the database was down"
            cluster.start()
            assert after.wait(120), "collects did not resume after the database came back"
        finally:
            stop.set()
            worker.join(120)
    assert other == []
    body = refusals[0].json()["error"]
    assert body["code"] == "database_unavailable" and refusals[0].headers["Retry-After"].isdigit()
    reopened = Charter.open(settings_for(data, urls))
    try:
        stored = {
            r.value
            for r in reopened.gate.read(
                subject, service="cloud", purpose=Purpose.APP_FUNCTIONALITY, actor="test"
            )
        }
    finally:
        reopened.close()
    assert set(acknowledged) <= stored
