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
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from charter.client import ApiError, CloudClient, Command, DeviceClient, Transport
from charter.client.account import StepUp
from charter.client.browser import BrowserClient
from charter.client.find_device import FindDeviceAgent
from charter.clock import Clock, system_clock
from charter.device import commands as k
from charter.device.biometrics import Biometrics
from charter.device.browser import Browser
from charter.device.commands import Handlers
from charter.device.content import ShortVideo, Wallpapers
from charter.device.db import set_setting, setting
from charter.device.enhance import Enhancements
from charter.device.hardware import HARDWARE, Hardware, write_json
from charter.device.keys import KeyStore, key_of, keys_for
from charter.device.lost import COMPONENT, LockScreen, LostDevice, SpaceState, register_handlers
from charter.device.lost import enabled as find_device_enabled
from charter.device.pay import MiPay
from charter.device.session import Session, sign_in, verify_account_password
from charter.device.space import OWNER, Notification, Space
from charter.device.spaces import Spaces
from charter.device.sync import CloudSync, Pushed, protected_cloud
from charter.device.telemetry import AppTelemetry
from charter.device.usage import UsageReporter, sender_for
from charter.device.withdrawal import apply_pending, delete_everywhere
from charter.errors import AuthError, ConfigError, InputError

CONFIG = "device.json"


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
        self.hardware = Hardware.make(data_dir)
        self.erased = False
        self.closed = False
        """Set once a remote erase wiped the device (the object is closed then)."""
        self.rang = 0
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
        self.session = Session(self.owner.conn, self.config.get("server"))
        token = self.session.token
        self.server: DeviceClient | None = None
        self.cloud: CloudClient | None = None
        self.browser_server: BrowserClient | None = None
        if token and self.config.get("server"):
            base = str(self.config["server"])
            transport = Transport(base, token, client=http, refresh=self.session.renew)
            self.server = DeviceClient(base, token, self.device_id, transport=transport)
            self.cloud = CloudClient(base, token, transport=transport)
            self.browser_server = BrowserClient(transport, self.device_id)
        self.cloud_sync = (
            CloudSync(self.owner, self.cloud, protected_cloud(self.owner.conn, self.cloud))
            if self.cloud is not None
            else None
        )
        self.usage.sink = sender_for(
            self.config, self.server.transport if self.server else None, self.device_id
        )
        self.telemetry = AppTelemetry(self.usage, self.owner.conn, clock)
        self.enhancements = Enhancements()
        t, conn = (self.server.transport if self.server else None), self.owner.conn
        self.video = ShortVideo(t, conn, self.device_id) if t else None
        self.wallpapers = Wallpapers(t, conn) if t else None
        self.pay = MiPay(t, conn, self.hardware) if t else None
        self.last_push: Pushed | None = None
        self.handlers.register(k.DELETE_SERVICE_DATA, self._delete_service_data)
        self.handlers.register(k.DELETE_ACCOUNT_DATA, self._delete_account_data)
        self.handlers.register(k.CLEAR_BROWSER_HISTORY, self._clear_browser_history)
        register_handlers(self.handlers, ring=self._ring, erase=self._remote_erase)
        self.find_device: LostDevice | None = None
        if self.server is not None and find_device_enabled(self.owner.conn):
            self.find_device = self._lost_device()
            self.components[COMPONENT] = self.find_device

    # -- making one -------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        data_dir: Path,
        *,
        password: str,
        server: str | None = None,
        token: str | None = None,
        refresh_token: str | None = None,
        device_id: str | None = None,
        clock: Clock = system_clock,
        keys: KeyStore | None = None,
        http: httpx.Client | None = None,
        find_device: bool = False,
        phone_number: str | None = None,
        identifiers: dict[str, str] | None = None,
    ) -> Device:
        """
        Set up a device (and, with a server and token, enrol it with the person's account;
        with a ``refresh_token`` too, from :func:`charter.device.session.sign_in`, the device
        renews its access token by itself;
        with ``find_device``, switch Find Device on too). ``identifiers`` are the simulated
        hardware's (made at random the first time, kept across resets).

        Raises:
            InputError: a device exists there already, or a password under 6 characters.
            ApiError: the server refused the enrolment or Find Device (nothing is left on
                the device then).
        """
        if (data_dir / CONFIG).exists():
            raise InputError(f"{data_dir} already holds a device", field="data_dir")
        if len(password) < 6:
            raise InputError("the device password has at least 6 characters", field="password")
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        Hardware.make(data_dir, identifiers)
        config = {
            "device_id": device_id or "dev-" + secrets.token_hex(8),
            "server": server.rstrip("/") if server else None,
            "boots": 1,
        }
        write_json(data_dir / CONFIG, config)
        device = cls(data_dir, clock=clock, keys=keys)
        set_setting(device.owner.conn, "password", PasswordHasher().hash(password))
        if server and token:
            device.session.keep(token, refresh_token)
            device.close()
            device = cls(data_dir, clock=clock, keys=keys, http=http)
            assert device.server is not None
            try:  # Find Device first: a device bound to another account is not enrolled
                if find_device:
                    device.enable_find_device(phone_number=phone_number)
                enrolment = device.server.register()
                device.config["subject_id"] = enrolment.subject_id
                write_json(data_dir / CONFIG, device.config)
            except BaseException:
                device.wipe_for_recovery()
                raise
        return device

    def sign_in(self, identifier: str, password: str, *, answer: StepUp | None = None) -> None:
        """
        Sign the person in again (their session ended): new tokens, kept in the owner's
        space, used from the next request on.

        Raises:
            ConfigError: the device has no server.
            ApiError: wrong identifier or password, or a locked account.
            StepUpRequiredError: a second step was asked and not answered.
        """
        server = self.config.get("server")
        if not server or self.server is None:
            raise ConfigError("this device has no server; set it up again", field="server")
        tokens = sign_in(str(server), identifier, password, answer=answer, device_id=self.device_id)
        self.session.keep(tokens.access_token, tokens.refresh_token)
        self.server.transport.headers["Authorization"] = f"Bearer {tokens.access_token}"

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
        write_json(self.data_dir / CONFIG, self.config)
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

    # -- find device --------------------------------------------------------------------------

    def _lost_device(self) -> LostDevice:
        agent = FindDeviceAgent(
            str(self.config["server"]),
            SpaceState(self.owner.conn),
            self.hardware.identifiers,
            self.hardware.fix,
            clock=self.clock,
        )
        return LostDevice(agent, self.handlers)

    def enable_find_device(self, *, phone_number: str | None = None) -> bool:
        """
        Switch Find Device on (the person's choice); whether lost mode came back (the device
        was marked lost before an erase or a reset).

        Raises:
            ConfigError: the device is not enrolled with a server.
            ApiError: the server refused (``bound_to_another_account``: the owner releases
                the device first; ``owner_keys_missing``-like codes: see the message).
        """
        token = self.session.token
        if self.server is None or not token:
            raise ConfigError(
                "Find Device needs a server: enrol the device (charter device init) first",
                field="server",
            )
        component = self.find_device or self._lost_device()
        try:
            try:
                lost = component.activate(token, phone_number=phone_number)
            except ApiError as error:  # an access token past its minutes: renew once
                if error.status != 401:
                    raise
                token = self.session.renew()
                self.server.transport.headers["Authorization"] = f"Bearer {token}"
                lost = component.activate(token, phone_number=phone_number)
        except BaseException:
            if component is not self.find_device:
                component.close()
            raise
        self.find_device = component
        self.components[COMPONENT] = component
        return lost

    def disable_find_device(self) -> None:
        """
        Switch Find Device off on this device.

        Raises:
            RefusedError: lost mode is on (``lost_mode_on``).
        """
        if self.find_device is not None:
            self.find_device.switch_off()
            self.find_device.close()
            self.find_device = None
            self.components.pop(COMPONENT, None)

    @property
    def lock_screen(self) -> LockScreen | None:
        """What the lock screen shows (the owner's message and number in lost mode)."""
        return self.find_device.lock_screen if self.find_device is not None else None

    def unlock(self, password: str) -> None:
        """
        Unlock with the device password (lost mode, if on, keeps reporting).

        Raises:
            AuthError: wrong password (``wrong_credential``).
        """
        if not self.check_password(password):
            raise AuthError("wrong device password", code="wrong_credential")
        if self.find_device is not None:
            self.find_device.unlock()

    def _ring(self) -> None:
        self.rang += 1

    def _remote_erase(self) -> None:
        self.wipe_for_recovery()
        self.erased = True

    def close(self) -> None:
        """Close every space and the connections (once)."""
        if self.closed:
            return
        self.closed = True
        if self.find_device is not None:
            self.find_device.close()
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
            apply_pending(self.owner, space)
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

    def _delete_service_data(self, command: Command) -> bool:
        if not command.service:
            return False
        return delete_everywhere(self.owner, self.open_spaces.values(), command.service)

    def _delete_account_data(self, command: Command) -> bool:
        del command
        return delete_everywhere(self.owner, self.open_spaces.values(), None)

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
        """Sync the person's cloud both ways (when the cloud is authorised): the server's
        changes come here, this device's go there; how many server changes were applied.
        Conflicts are kept for the person (:attr:`cloud_sync` ``.conflicts()``)."""
        if self.cloud_sync is None or not self.usage.switches.get("cloud.authorization", False):
            return 0
        applied = self.cloud_sync.pull()
        self.last_push = self.cloud_sync.push()
        return applied

    def run(
        self,
        stop: threading.Event,
        *,
        every: float = 5.0,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        """Stay connected until ``stop`` is set (or a remote erase): commands, switches,
        cloud, then wait; with Find Device on, the wait is a long poll for its commands."""
        while not stop.is_set() and not self.erased:
            waited = False
            try:
                self.poll()
                self.refresh_switches()
                self.sync_cloud()
                self.telemetry.tick(self.owner.apps.installed())
                self.usage.flush()
                self.owner.apps.reset_unused()
                self.owner.log.purge()
                if self.find_device is not None and self.find_device.on:
                    self.find_device.poll(wait=min(every, 30.0))
                    waited = True
            except (ApiError, httpx.TransportError) as exc:
                if on_error is not None:
                    on_error(exc)
            if not waited and not self.erased:
                stop.wait(every)

    # -- resets -----------------------------------------------------------------------------

    def factory_reset(self, account_password: str) -> None:
        """
        Reset from the settings: asks the account's password, which the server verifies
        (``POST /v1/account/reauth``), as phones do; a device with no server asks its own
        password. Then :meth:`wipe_for_recovery`.

        Raises:
            AuthError: ``account_password_refused`` (a wrong password), ``signed_out`` (the
                device holds no account session, e.g. set up with a bare token: sign in with
                :meth:`sign_in`), or ``wrong_credential`` (no server: the device password);
                nothing is wiped.
            httpx.TransportError: the server could not be reached; nothing is wiped.
        """
        if self.server is not None:
            verify_account_password(self.server.transport, account_password)
        elif not self.check_password(account_password):
            raise AuthError("wrong device password", code="wrong_credential")
        self.wipe_for_recovery()

    def wipe_for_recovery(self) -> None:
        """Wipe without asking (a remote erase, recovery mode, a failed set-up): every
        biometric feature, every space and its key (the keys first: what is left of a file
        cannot be read). The hardware stays, and with it the server's Find Device binding,
        which brings lost mode back (``lost_mode_survives_reset``)."""
        self.biometrics.wipe()
        for name in self.spaces.names():
            self.delete_space(name)
        self.close()
        for name in (OWNER, "tee"):
            self.keys.delete(name)
        for f in sorted(self.data_dir.rglob("*"), reverse=True):
            if f.is_file() and f.name != HARDWARE:
                f.unlink()
            elif f.is_dir():
                f.rmdir()
