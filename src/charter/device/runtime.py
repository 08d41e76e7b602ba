"""
:class:`Device`: the reference phone. Its data directory holds ``device.json`` (the server,
the device id, the boot counter: nothing secret), the owner's encrypted space
(``owner.db``), the biometric store (``tee.db``), private spaces (``spaces/*.db``) and, when
the OS has no keyring, the key files (``keys/``, 0600).

It talks to its server over HTTP only (:mod:`charter.client`): it enrols, receives commands
and confirms each once carried out, syncs the person's cloud, and reads the switches that
decide which usage events may leave.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from charter.client import ApiError, CloudClient, Command, DeviceClient, Transport
from charter.client.browser import BrowserClient
from charter.clock import Clock, system_clock
from charter.device import commands as k
from charter.device.biometrics import Biometrics
from charter.device.browser import Browser
from charter.device.commands import Handlers
from charter.device.db import set_setting, setting
from charter.device.keys import KeyStore, key_of, keys_for
from charter.device.space import OWNER, Notification, Space
from charter.device.spaces import Spaces
from charter.device.usage import UsageReporter
from charter.errors import AuthError, ConfigError, InputError

CONFIG = "device.json"
CLOUD = "cloud"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


class Device:
    """One device: its spaces, browser, biometrics, and its link to the server."""

    def __init__(
        self,
        data_dir: Path,
        *,
        clock: Clock = system_clock,
        keys: KeyStore | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        path = data_dir / CONFIG
        if not path.exists():
            raise ConfigError(
                f"no device in {data_dir}; run: charter device init --server URL", field="data_dir"
            )
        self.data_dir = data_dir
        self.config: dict[str, Any] = json.loads(path.read_text())
        self.clock = clock
        self.keys = keys or keys_for(data_dir)
        self.notices: list[Notification] = []
        self.owner = Space(
            OWNER, data_dir / "owner.db", key_of(self.keys, OWNER), clock, self._notice
        )
        self.spaces = Spaces(self.owner.conn, data_dir / "spaces", clock)
        self.active: Space = self.owner
        self.open_spaces: dict[str, Space] = {}
        self.biometrics = Biometrics(
            data_dir / "tee.db", key_of(self.keys, "tee"), clock, self.boots, self.check_password
        )
        self.usage = UsageReporter()
        self.handlers = Handlers()
        self.browser = Browser(self.owner, clear_elsewhere=self._clear_history_elsewhere)
        self.components: dict[str, object] = {}
        token = setting(self.owner.conn, "token")
        self.server: DeviceClient | None = None
        self.cloud: CloudClient | None = None
        self.browser_server: BrowserClient | None = None
        if token and self.config.get("server"):
            base = str(self.config["server"])
            transport = Transport(base, token, client=http)
            self.server = DeviceClient(base, token, self.device_id, transport=transport)
            self.cloud = CloudClient(base, token, transport=transport)
            self.browser_server = BrowserClient(transport, self.device_id)
        self.handlers.register(k.DELETE_SERVICE_DATA, self._delete_service_data)
        self.handlers.register(k.DELETE_ACCOUNT_DATA, self._delete_account_data)
        self.handlers.register(k.CLEAR_BROWSER_HISTORY, self._clear_browser_history)

    # -- making one -------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        data_dir: Path,
        *,
        password: str,
        server: str | None = None,
        token: str | None = None,
        device_id: str | None = None,
        clock: Clock = system_clock,
        keys: KeyStore | None = None,
        http: httpx.Client | None = None,
    ) -> Device:
        """
        Set up a device (and, with a server and token, enrol it with the person's account).

        Raises:
            InputError: a device exists there already, or a password under 6 characters.
            ApiError: the server refused the enrolment.
        """
        if (data_dir / CONFIG).exists():
            raise InputError(f"{data_dir} already holds a device", field="data_dir")
        if len(password) < 6:
            raise InputError("the device password has at least 6 characters", field="password")
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        config = {
            "device_id": device_id or "dev-" + secrets.token_hex(8),
            "server": server.rstrip("/") if server else None,
            "boots": 1,
        }
        _write_json(data_dir / CONFIG, config)
        device = cls(data_dir, clock=clock, keys=keys)
        set_setting(device.owner.conn, "password", PasswordHasher().hash(password))
        if server and token:
            set_setting(device.owner.conn, "token", token)
            device.close()
            device = cls(data_dir, clock=clock, keys=keys, http=http)
            assert device.server is not None
            enrolment = device.server.register()
            device.config["subject_id"] = enrolment.subject_id
            _write_json(data_dir / CONFIG, device.config)
        return device

    @property
    def device_id(self) -> str:
        """This device's id at the server."""
        return str(self.config["device_id"])

    @property
    def boots(self) -> int:
        """How many times the device started."""
        return int(self.config.get("boots", 1))

    def reboot(self) -> None:
        """The device restarts: the boot counter goes up; incognito ends with the browser."""
        self.browser.exit()
        self.config["boots"] = self.boots + 1
        _write_json(self.data_dir / CONFIG, self.config)
        self.biometrics.boots = self.boots

    def check_password(self, password: str) -> bool:
        """Whether this is the device password."""
        hashed = setting(self.owner.conn, "password")
        if hashed is None:
            return False
        try:
            return PasswordHasher().verify(hashed, password)
        except VerificationError:
            return False

    def close(self) -> None:
        """Close every space and the connections."""
        for space in self.open_spaces.values():
            space.close()
        self.open_spaces.clear()
        self.biometrics.close()
        self.owner.close()
        if self.server is not None:
            self.server.close()

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- spaces -----------------------------------------------------------------------------

    def _notice(self, app: str, text: str) -> None:
        self.notices.append(Notification(self.active.name, app, "Clipboard", text))

    def switch(self, name: str, credential: str | None = None) -> Space:
        """
        Switch to a space: the owner's with the device password, a private one with its own
        credential.

        Raises:
            AuthError: wrong password or credential.
        """
        if name == OWNER:
            if credential is None or not self.check_password(credential):
                raise AuthError("wrong device password", code="wrong_credential")
            self.active = self.owner
        else:
            if credential is None:
                raise AuthError("this space needs its credential", code="wrong_credential")
            space = self.open_spaces.get(name) or self.spaces.open(name, credential, self._notice)
            self.open_spaces[name] = space
            self._apply_pending(space)
            self.active = space
        self.browser.exit()
        self.browser = Browser(self.active, clear_elsewhere=self._clear_history_elsewhere)
        return self.active

    def lock_spaces(self) -> None:
        """Close every private space (their data is unreadable until the credential again)."""
        for space in self.open_spaces.values():
            space.close()
        self.open_spaces.clear()
        self.active = self.owner

    def delete_space(self, name: str) -> None:
        """Delete a private space and destroy its key."""
        space = self.open_spaces.pop(name, None)
        if space is not None:
            space.close()
        if self.active.name == name:
            self.active = self.owner
        self.spaces.delete(name)

    def shade(self) -> list[Notification]:
        """Every notification as the shade shows it (private content hidden when asked)."""
        out = self.owner.shade()
        for space in self.open_spaces.values():
            out += space.shade()
        return out + self.notices

    def _pending_deletions(self) -> list[str]:
        return list(json.loads(setting(self.owner.conn, "pending_deletions", "[]") or "[]"))

    def _apply_pending(self, space: Space) -> None:
        done = json.loads(setting(space.conn, "deletions_done", "[]") or "[]")
        for entry in self._pending_deletions():
            if entry not in done:
                if entry == "*":
                    for service in space.services():
                        space.delete_service(service)
                else:
                    space.delete_service(entry)
                done.append(entry)
        set_setting(space.conn, "deletions_done", json.dumps(done))

    # -- commands ---------------------------------------------------------------------------

    def _delete_everywhere(self, service: str | None) -> bool:
        entry = service or "*"
        pending = self._pending_deletions()
        if entry not in pending:  # spaces locked now delete it when next opened
            set_setting(self.owner.conn, "pending_deletions", json.dumps([*pending, entry]))
        services = [service] if service else self.owner.services()
        for name in services:
            self.owner.delete_service(name)
        for space in self.open_spaces.values():
            self._apply_pending(space)
        return True

    def _delete_service_data(self, command: Command) -> bool:
        if not command.service:
            return False
        return self._delete_everywhere(command.service)

    def _delete_account_data(self, command: Command) -> bool:
        del command
        return self._delete_everywhere(None)

    def _clear_browser_history(self, command: Command) -> bool:
        del command
        self.browser.clear_local()
        for space in self.open_spaces.values():
            Browser(space).clear_local()
        return True

    def _clear_history_elsewhere(self) -> None:
        hook = self.components.get("clear_history_elsewhere")
        if callable(hook):
            hook()
        elif self.browser_server is not None:
            self.browser_server.clear_history_elsewhere()

    def poll(self) -> list[Command]:
        """Carry out the commands waiting at the server and confirm each; the ones done."""
        if self.server is None:
            return []
        done = []
        for command in self.server.pending():
            if self.handlers.handle(command):
                self.server.ack(command.id)
                done.append(command)
        return done

    def refresh_switches(self) -> dict[str, bool]:
        """Read the person's switches (they decide what usage may leave and what syncs)."""
        subject = self.config.get("subject_id")
        if self.server is None or not subject:
            return {}
        switches = self.server.switches(str(subject))
        self.usage.switches = switches
        return switches

    def sync_cloud(self) -> int:
        """Bring the person's cloud items here (when the cloud is authorised); how many
        changes were applied."""
        if self.cloud is None or not self.usage.switches.get("cloud.authorization", False):
            return 0
        since = setting(self.owner.conn, "cloud_token", "0") or "0"
        applied = 0
        for change in self.cloud.all_changes(since):
            if change.state == "live":
                try:
                    self.owner.put(CLOUD, change.id, self.cloud.download(change.id))
                except ApiError as error:
                    if error.status != 404:
                        raise
            else:
                self.owner.conn.execute(
                    "delete from local_data where service = ? and key = ?", (CLOUD, change.id)
                )
            applied += 1
        set_setting(self.owner.conn, "cloud_token", self.cloud.last_token)
        return applied

    def run(
        self,
        stop: threading.Event,
        *,
        every: float = 5.0,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        """Stay connected until ``stop`` is set: commands, switches, cloud, then wait."""
        while not stop.is_set():
            try:
                self.poll()
                self.refresh_switches()
                self.sync_cloud()
                self.owner.apps.reset_unused()
                self.owner.log.purge()
            except (ApiError, httpx.TransportError) as exc:
                if on_error is not None:
                    on_error(exc)
            stop.wait(every)

    # -- resets -----------------------------------------------------------------------------

    def factory_reset(self) -> None:
        """Everything on the device goes: biometric features, every space and its key."""
        self.biometrics.wipe()
        for name in self.spaces.names():
            self.delete_space(name)
        self.close()
        for name in (OWNER, "tee"):
            self.keys.delete(name)
        for f in sorted(self.data_dir.rglob("*"), reverse=True):
            if f.is_file():
                f.unlink()
            elif f.is_dir():
                f.rmdir()
