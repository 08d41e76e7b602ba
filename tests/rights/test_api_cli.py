"""The rights router (in process, TestClient) and the rights CLI (CliRunner)."""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Iterator

import pytest
from rights_seeding import seed_subject
from typer.testing import CliRunner

from charter.api.routers import rights as rights_router
from charter.app import Charter
from charter.asgi import create_app
from charter.cli.rights import app as rights_cli
from charter.rights import Rights

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette\.testclient`")
    from fastapi.testclient import TestClient


@pytest.fixture
def client(charter: Charter) -> Iterator[TestClient]:
    app = create_app(charter)
    app.include_router(rights_router.router)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _token(charter: Charter, subject_id: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + charter.credentials.issue_user_token(subject_id).secret}


def _staff(charter: Charter) -> dict[str, str]:
    if not charter.staff.has_handle("ana"):
        charter.staff.grant(charter.gate.create_subject("account", "de").id, "ana")
    key = charter.credentials.create_api_key("privacy_center").secret
    return {"Authorization": "Bearer " + key, "X-Staff-Member": "ana"}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_user_and_staff_routes(charter: Charter, client: TestClient) -> None:
    me = seed_subject(charter, limit=6, blob=False)
    charter.rights.devices.register(me.subject_id, "dev-1")  # the device agent enrolls
    headers = _token(charter, me.subject_id)
    r = client.post(
        "/v1/me/requests", json={"kind": "complain", "message": "Too many ads."}, headers=headers
    )
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]
    r = client.post("/v1/me/exports", json={}, headers=headers)
    assert r.status_code == 201, r.text
    link = r.json()["download"]
    got = client.get(link)
    assert got.status_code == 200 and zipfile.ZipFile(io.BytesIO(got.content)).testzip() is None
    assert client.get(link).status_code == 404
    assert (
        client.post("/v1/me/withdrawals", json={"service": "themes"}, headers=headers).status_code
        == 200
    )
    commands = client.get("/v1/me/device-commands", headers=headers).json()
    assert commands and commands[0]["device_id"] == "dev-1"
    assert (
        client.post(f"/v1/me/device-commands/{commands[0]['id']}/ack", headers=headers).status_code
        == 200
    )
    assert client.get("/v1/me/policy-notices", headers=headers).status_code == 200
    staff = _staff(charter)
    queue = client.get("/v1/staff/requests", headers=staff).json()
    assert [q["id"] for q in queue] == [request_id]
    assert (
        client.post(f"/v1/staff/requests/{request_id}/assign", headers=staff).json()["state"]
        == "assigned"
    )
    shown = client.get(f"/v1/staff/requests/{request_id}", headers=staff).json()
    assert shown["texts"]["message"] == "Too many ads."
    assigned = [h for h in shown["history"] if h["state"] == "assigned"]
    assert [(h["actor"], h["assigned_to"]) for h in assigned] == [("staff:ana", "ana")]
    assert (
        client.post(
            f"/v1/staff/requests/{request_id}/close", json={"outcome": "fulfilled"}, headers=staff
        ).json()["state"]
        == "closed"
    )
    assert (
        client.get("/v1/staff/requests", headers=headers).status_code == 403
    )  # a user token is not staff
    assert (
        client.post("/v1/me/exports", json={}, headers=staff).status_code == 403
    )  # a service is not a person
    r = client.post(
        "/v1/staff/gov-requests",
        json={
            "received_on": "2026-02-01",
            "authority": "Court",
            "country": "de",
            "kind": "user_data",
            "accounts_affected": 1,
            "outcome": "rejected",
        },
        headers=staff,
    )
    assert r.status_code == 201, r.text
    assert client.get("/v1/staff/transparency/2026?format=csv", headers=staff).text.startswith(
        "year,country"
    )
    assert client.delete("/v1/me", headers=headers).status_code == 200
    assert (
        client.get("/v1/me/requests", headers=headers).status_code == 401
    )  # tokens die with the account


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_cli(charter: Charter, rights: Rights) -> None:
    data_dir = charter.settings.data_dir
    me = seed_subject(charter, limit=4, blob=False)
    req = rights.requests.file(me.subject_id, "access", message="hello")
    runner = CliRunner()
    env = {"CHARTER_DATA_DIR": str(data_dir)}
    charter.staff.grant(charter.gate.create_subject("account", "de").id, "bo")
    refused = runner.invoke(rights_cli, ["requests", "assign", req.id, "--to", "nobody"], env=env)
    assert refused.exit_code != 0  # the top-level `charter` prints the message, no traceback
    assert "no staff member has this handle" in str(refused.exception)
    result = runner.invoke(rights_cli, ["requests", "list"], env=env)
    assert result.exit_code == 0 and req.id[:10] in result.output
    assert (
        runner.invoke(
            rights_cli, ["requests", "assign", req.id, "--staff", "bo"], env=env
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(
            rights_cli, ["requests", "answer", req.id, "--text", "done", "--staff", "bo"], env=env
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(
            rights_cli, ["requests", "close", req.id, "--outcome", "fulfilled"], env=env
        ).exit_code
        == 0
    )
    result = runner.invoke(
        rights_cli,
        [
            "gov-request",
            "add",
            "--date",
            "2026-01-05",
            "--authority",
            "Court",
            "--country",
            "in",
            "--type",
            "user_data",
            "--accounts",
            "3",
            "--outcome",
            "disclosed",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        rights_cli, ["transparency", "report", "--year", "2026", "--format", "csv"], env=env
    )
    assert "2026,IN,user_data,1,3,1" in result.output
    failing = runner.invoke(
        rights_cli, ["verify-erasure", me.subject_id, "--marker", me.markers[0]], env=env
    )
    assert failing.exit_code == 1 and "residual_hits" in failing.output
    rights.delete_account(me.subject_id)
    clean = runner.invoke(
        rights_cli,
        ["verify-erasure", me.subject_id, *[a for m in me.markers for a in ("--marker", m)]],
        env=env,
    )
    assert clean.exit_code == 0, clean.output
    assert "residual_hits: 0" in clean.output
