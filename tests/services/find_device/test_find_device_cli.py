"""
``charter find-device`` (Typer's CliRunner) against a served deployment, with a simulated
device (the reference client) answering in a thread: keygen (wrapped for the web too),
devices, locate opened with the key file, ring, lost mode, erase needing --yes, history
opened locally, import of the web's keys, readable errors.
"""

from __future__ import annotations

import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fd_support import BERLIN, device, owner, served
from typer.testing import CliRunner

from charter.app import Charter
from charter.cli import app
from charter.client.find_device import FindDeviceAgent
from charter.client.find_device_crypto import OwnerKeyFile

PASSPHRASE = "a long enough passphrase"
runner = CliRunner()


@contextmanager
def answering(phone: FindDeviceAgent) -> Iterator[list[tuple[str, str]]]:
    """The device long-polls in a thread while the command line waits for its answer."""
    done: list[tuple[str, str]] = []
    thread = threading.Thread(target=lambda: done.extend(phone.poll(wait=30)))
    thread.start()
    try:
        yield done
    finally:
        thread.join()


def test_owner_commands_over_http_with_the_key_file(charter: Charter, tmp_path: Path) -> None:
    subject = charter.gate.create_subject("account", "de", actor="test").id
    token = charter.credentials.issue_user_token(subject, actor="test").secret
    keyfile = tmp_path / "owner" / "fd.key"
    with served(charter) as url:
        env = {"CHARTER_SERVER": url, "CHARTER_TOKEN": token, "CHARTER_FD_KEYS": str(keyfile)}
        made = runner.invoke(
            app, ["find-device", "keygen", "--wrap"], env=env, input=f"{PASSPHRASE}\n" * 2
        )
        assert made.exit_code == 0, made.output
        assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
        keys = OwnerKeyFile.load(keyfile)
        stored = charter.find_device.owner_keys(subject)
        assert stored is not None and stored.seal_public == keys.seal_public
        assert stored.wrapped is not None
        assert OwnerKeyFile.unwrap(stored.wrapped, PASSPHRASE).sign_public == keys.sign_public
        again = runner.invoke(app, ["find-device", "keygen"], env=env)
        assert again.exit_code == 2 and "never overwritten" in again.output

        phone = device(charter, url, tmp_path)
        phone.activate(token)
        fd_id = phone.device_id or ""
        listed = runner.invoke(app, ["find-device", "devices"], env=env)
        assert listed.exit_code == 0 and fd_id in listed.output

        with answering(phone) as done:
            located = runner.invoke(app, ["find-device", "locate", fd_id], env=env)
        assert done == [("locate", "done")]
        assert located.exit_code == 0, located.output
        assert f"{BERLIN.lat}, {BERLIN.lon}" in located.output
        assert "signed by the device" in located.output

        with answering(phone) as done:
            rang = runner.invoke(app, ["find-device", "ring", fd_id], env=env)
        assert rang.exit_code == 0 and "ring: done" in rang.output and phone.rang == 1

        with answering(phone) as done:
            lost = runner.invoke(
                app,
                [
                    "find-device",
                    "lost-mode",
                    "on",
                    fd_id,
                    "--message",
                    "Call me",
                    "--phone",
                    "+49 1",
                ],
                env=env,
            )
        assert lost.exit_code == 0 and "lost mode on: done" in lost.output, lost.output
        assert phone.lost is not None and phone.lost["message"] == "Call me"

        unconfirmed = runner.invoke(app, ["find-device", "erase", fd_id], env=env)
        assert unconfirmed.exit_code == 2 and "--yes" in unconfirmed.output
        assert [c.kind for c in charter.find_device.commands.history(subject)].count("erase") == 0

        shown = runner.invoke(app, ["find-device", "history"], env=env)
        assert shown.exit_code == 0
        assert shown.output.count(f"{BERLIN.lat}, {BERLIN.lon}") == 2  # the locate, one lost
        assert "lost_mode_on" in shown.output and "ring" in shown.output

        unknown = runner.invoke(app, ["find-device", "ring", "fd_" + "0" * 32], env=env)
        assert unknown.exit_code == 1 and "no such device" in unknown.output

        copy = tmp_path / "copy.key"
        imported = runner.invoke(
            app,
            ["find-device", "import-web", "--keys", str(copy)],
            env=env,
            input=f"{PASSPHRASE}\n",
        )
        assert imported.exit_code == 0, imported.output
        assert OwnerKeyFile.load(copy).seal_public == keys.seal_public
        wrong = runner.invoke(
            app,
            ["find-device", "import-web", "--keys", str(tmp_path / "x.key")],
            env=env,
            input="not the passphrase\n",
        )
        assert wrong.exit_code == 1 and "does not open" in wrong.output
        assert not (tmp_path / "x.key").exists()

        rewrapped = runner.invoke(
            app, ["find-device", "wrap"], env=env, input="another passphrase!\n" * 2
        )
        assert rewrapped.exit_code == 0, rewrapped.output
        stored = charter.find_device.owner_keys(subject)
        assert stored is not None and stored.wrapped is not None
        again_keys = OwnerKeyFile.unwrap(stored.wrapped, "another passphrase!")
        assert again_keys.seal_public == keys.seal_public == stored.seal_public

    missing = runner.invoke(
        app, ["find-device", "devices", "--keys", str(tmp_path / "none.key")], env=env
    )
    assert missing.exit_code == 1 and "keygen" in missing.output


def test_staff_purge_destroys_history_off_for_30_days(charter: Charter, tmp_path: Path) -> None:
    if charter.stores.control().dialect.name != "sqlite":
        pytest.skip("the command opens the deployment from its data directory (SQLite)")
    with served(charter) as url:
        alice = owner(charter, url)
        phone = device(charter, url, tmp_path)
        phone.activate(alice.token)
        alice.api.send(phone.device_id or "", "locate")
        phone.poll()
        alice.api.switch_off(phone.device_id or "")
    # Switched off on the fake clock (2026-01-01); the command runs on the real one, which
    # is more than 30 days later.
    data_dir = str(charter.settings.data_dir)
    purged = runner.invoke(app, ["find-device", "purge", "--data-dir", data_dir])
    assert purged.exit_code == 0, purged.output
    assert "destroyed 1 sealed positions" in purged.output
    assert charter.find_device.reports.list(alice.subject_id) == []
