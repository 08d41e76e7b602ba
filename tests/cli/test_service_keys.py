"""
``charter service key create|list|revoke`` (issue 11: service credentials could not be
made without Python). The key is printed once and works; the list never shows a secret;
a revoked key stops at once; an unknown service is refused. SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from charter.app import Charter
from charter.cli import app as charter_cli
from charter.errors import AuthError


def _env(charter: Charter) -> dict[str, str]:
    s = charter.settings
    env = {"CHARTER_DATA_DIR": str(s.data_dir)}
    if s.control_url:
        env["CHARTER_CONTROL_DATABASE_URL"] = s.control_url
        env |= {f"CHARTER_DATABASE_URL_{r.upper()}": u for r, u in s.region_urls.items()}
    return env


def test_create_list_revoke(charter: Charter) -> None:
    runner = CliRunner()
    env = _env(charter)
    made = runner.invoke(charter_cli, ["service", "key", "create", "cloud"], env=env)
    assert made.exit_code == 0, made.output
    secret = made.output.strip().splitlines()[-1]
    assert secret.startswith("ck_")
    assert charter.credentials.verify_api_key(secret) == "cloud"  # it works
    key_id = secret.split("_")[1]

    listed = runner.invoke(charter_cli, ["service", "key", "list"], env=env)
    assert listed.exit_code == 0
    assert key_id in listed.output and "active" in listed.output
    assert secret.split("_", 2)[2] not in listed.output  # never the secret again

    revoked = runner.invoke(charter_cli, ["service", "key", "revoke", key_id], env=env)
    assert revoked.exit_code == 0, revoked.output
    with pytest.raises(AuthError):
        charter.credentials.verify_api_key(secret)
    again = runner.invoke(charter_cli, ["service", "key", "list", "--service", "cloud"], env=env)
    assert "revoked" in again.output


def test_an_unknown_service_is_refused(charter: Charter) -> None:
    refused = CliRunner().invoke(
        charter_cli, ["service", "key", "create", "no_such_service"], env=_env(charter)
    )
    assert refused.exit_code != 0
    assert charter.credentials.list_api_keys() == []
