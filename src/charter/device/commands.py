"""
What a device does with each kind of command from the server, registered by kind: a
withdrawal (``delete_service_data``) or an account deletion (``delete_account_data``)
deletes local data; ``clear_browser_history`` clears the history (sent by another device of
the person); find-device commands plug in the same way (:meth:`Handlers.register`).

A handler returns True once the command is carried out; only then is it confirmed to the
server. A kind with no handler stays pending at the server.
"""

from __future__ import annotations

from collections.abc import Callable

from charter.client import Command
from charter.errors import InputError

Handler = Callable[[Command], bool]

DELETE_SERVICE_DATA = "delete_service_data"
DELETE_ACCOUNT_DATA = "delete_account_data"
CLEAR_BROWSER_HISTORY = "clear_browser_history"


class Handlers:
    """Command handlers by kind."""

    def __init__(self) -> None:
        self.by_kind: dict[str, Handler] = {}

    def register(self, kind: str, handler: Handler) -> None:
        """
        Handle a kind of command.

        Raises:
            InputError: the kind already has a handler.
        """
        if kind in self.by_kind:
            raise InputError(f"{kind} already has a handler", field="kind")
        self.by_kind[kind] = handler

    def handle(self, command: Command) -> bool:
        """Carry a command out; False when no handler knows its kind or it did not finish."""
        handler = self.by_kind.get(command.kind)
        return handler is not None and handler(command)
