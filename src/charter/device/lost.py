"""
A lost device: Find Device embedded in the device runtime as a component.

:class:`LostDevice` wraps the reference find-device client
(:class:`~charter.client.find_device.FindDeviceAgent`) with its state, the device's Ed25519
key among it, inside the owner's encrypted space (:class:`SpaceState`), never in a file of
its own. Each command the agent checked (owner signature, device, nonce, expiry) and
acknowledged goes on to the device's handler of ``find_device.<kind>``: locate answers with
a sealed position from the device's location provider and nothing else (rule
``locate_on_request_only``); lost mode reports on its interval (``tick``,
``lost_mode_periodic_location``); lock and lost mode show the owner's message and number on
the lock screen; erase crypto-erases the device; switching off is refused while lost mode
is on (``off_requires_leaving_lost_mode``); after an erase or a factory reset, enabling
Find Device again finds the server's binding and takes lost mode back
(``lost_mode_survives_reset``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from charter.client import Command
from charter.client.find_device import FindDeviceAgent, LostModeOnError
from charter.device.commands import Handlers
from charter.device.db import Connection, set_setting, setting
from charter.errors import RefusedError

COMPONENT = "find_device"
STATE = "find_device_state"
KINDS = ("locate", "ring", "lock", "erase", "lost_mode_on", "lost_mode_off")
"""The commands an owner signs; each reaches the device's handler of ``find_device.<kind>``."""


def kind_of(command: str) -> str:
    """The handler kind a find-device command goes to."""
    return f"{COMPONENT}.{command}"


class SpaceState:
    """The agent's state in the owner's encrypted space (its key dies with the space's)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def load(self) -> bytes | None:
        found = setting(self.conn, STATE)
        return found.encode() if found else None

    def save(self, data: bytes) -> None:
        set_setting(self.conn, STATE, data.decode())

    def destroy(self) -> None:
        self.conn.execute("delete from settings where key = ?", (STATE,))


def enabled(conn: Connection) -> bool:
    """Whether Find Device is on in this space (an agent state is kept there)."""
    return setting(conn, STATE) is not None


@dataclass(frozen=True, slots=True)
class LockScreen:
    """What the lock screen shows: the owner's message and number in lost mode."""

    message: str
    phone: str
    lost: bool


class LostDevice:
    """The device's Find Device: polls, answers, reports on the interval, shows the lock
    screen, and hands each carried-out command to the device's handlers."""

    def __init__(self, agent: FindDeviceAgent, handlers: Handlers) -> None:
        self.agent = agent
        self.handlers = handlers

    @property
    def device_id(self) -> str | None:
        """The device's id in Find Device."""
        return self.agent.device_id

    @property
    def on(self) -> bool:
        """Whether Find Device is on (the agent holds an activated state)."""
        return bool(self.agent.state)

    @property
    def lock_screen(self) -> LockScreen | None:
        """The lock screen, or None when the device is not locked."""
        lost = self.agent.lost
        if lost:
            return LockScreen(lost["message"], lost["phone"], lost=True)
        if self.agent.locked:
            return LockScreen("", "", lost=False)
        return None

    def activate(self, token: str, *, phone_number: str | None = None) -> bool:
        """Switch Find Device on with the person's token; whether lost mode came back (the
        device was marked lost before an erase or a reset)."""
        answer = self.agent.activate(token, phone_number=phone_number)
        return bool(answer.get("lost"))

    def poll(self, wait: float = 0) -> list[tuple[str, str]]:
        """Fetch (long-polling up to ``wait`` seconds), check and carry out the owner's
        commands, then send a lost-mode report when its interval has come."""
        done = self.agent.poll(wait)
        for kind, outcome in done:
            if outcome == "done":
                self.handlers.handle(Command("", self.device_id or "", kind_of(kind), None, ""))
        if self.on:
            self.tick()
        return done

    def tick(self) -> int:
        """In lost mode, report the position when the interval has come; reports sent."""
        return self.agent.tick()

    def unlock(self) -> None:
        """Take the lock screen away (the caller checked the device password)."""
        self.agent.unlock()

    def switch_off(self) -> None:
        """
        Switch Find Device off on this device.

        Raises:
            RefusedError: lost mode is on (``lost_mode_on``): the owner leaves it first.
        """
        try:
            self.agent.switch_off()
        except LostModeOnError:
            raise RefusedError(
                "Find Device stays on while the device is in lost mode; the owner turns lost "
                "mode off from their account first",
                code="lost_mode_on",
            ) from None
        self.agent.factory_reset()  # the device key and state go; the server marked it off

    def close(self) -> None:
        """Close the connection pool."""
        self.agent.close()


def register_handlers(
    handlers: Handlers, *, ring: Callable[[], None], erase: Callable[[], None]
) -> None:
    """The device's side of each find-device command (the agent already checked, acted on
    its own state and acknowledged)."""

    def ringing(command: Command) -> bool:
        del command
        ring()
        return True

    def erasing(command: Command) -> bool:
        del command
        erase()
        return True

    def shown(command: Command) -> bool:  # the lock screen reads the agent's state
        del command
        return True

    for kind in KINDS:
        fn = ringing if kind == "ring" else erasing if kind == "erase" else shown
        handlers.register(kind_of(kind), fn)


def describe(screen: LockScreen | None) -> str:
    """The lock screen as text (the CLI prints it)."""
    if screen is None:
        return "unlocked"
    if screen.lost:
        return json.dumps({"lost": True, "message": screen.message, "call": screen.phone})
    return "locked"
