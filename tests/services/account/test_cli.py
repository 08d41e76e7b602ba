"""The ``charter account`` and ``charter oauth`` commands, through Typer's runner."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from charter.app import Charter
from charter.cli.account import app, oauth_app
from charter.config import Settings
from charter.services.account import FAST_FOR_TESTS, AccountService


def test_account_and_oauth_commands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Charter.init(data)
    runner = CliRunner()
    created = runner.invoke(
        app,
        ["create", "-i", "dora@example.org", "-c", "fr", "--password-stdin", "-d", str(data)],
        input="plum orchard at dusk\n",
    )
    assert created.exit_code == 0, created.output
    account_id = created.output.strip().splitlines()[-1]
    assert account_id.startswith("s_") and "plum" not in created.output
    for action, status in (
        ("freeze", "frozen"),
        ("unfreeze", "active"),
        ("block", "blocked"),
        ("unblock", "active"),
    ):
        result = runner.invoke(app, [action, account_id, "-d", str(data)])
        assert result.exit_code == 0 and status in result.output
    charter = Charter.open(Settings(data_dir=data))
    service = AccountService(charter.gate, profile=FAST_FOR_TESTS)
    assert service.status(account_id)["status"] == "active"
    charter.close()
    added = runner.invoke(
        oauth_app,
        [
            "client",
            "add",
            "-n",
            "Lamp",
            "-r",
            "https://lamp.example/cb",
            "--confidential",
            "-d",
            str(data),
        ],
    )
    assert added.exit_code == 0 and "client_secret" in added.output
    client_id = next(
        line.split(": ")[1] for line in added.output.splitlines() if line.startswith("client_id")
    )
    assert client_id in runner.invoke(oauth_app, ["client", "list", "-d", str(data)]).output
    assert runner.invoke(oauth_app, ["client", "remove", client_id, "-d", str(data)]).exit_code == 0
    assert runner.invoke(oauth_app, ["keys", "rotate", "-d", str(data)]).exit_code == 0
    assert isinstance(app, typer.Typer)
