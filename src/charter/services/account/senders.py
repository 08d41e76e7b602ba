"""
Verification-code senders: how a one-time code reaches a phone or a mailbox.

:class:`VerificationSender` is the interface; :class:`FileSender` (the default for
development: one JSON line per message in a file the operator reads, mode 0600) and
:class:`NullSender` (drops everything, for deployments without delivery) implement it.
SMTP or SMS providers plug in by implementing :meth:`VerificationSender.send`.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Protocol

from charter.services.account.identifiers import Identifier


class VerificationSender(Protocol):
    """Delivers one-time codes."""

    def send(self, to: Identifier, code: str, *, purpose: str) -> None:
        """Deliver ``code`` to ``to`` for ``purpose`` (login, verify, reset, unlock)."""


class NullSender:
    """Delivers nothing (codes are lost); for tests and deployments without delivery."""

    def send(self, to: Identifier, code: str, *, purpose: str) -> None:
        """Drop the message."""


class FileSender:
    """
    Appends each message as a JSON line to a file (created 0600): the development outbox.

    The file holds personal data (addresses and codes): keep it under the data directory
    and empty it regularly; production deployments use a real provider instead.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, to: Identifier, code: str, *, purpose: str) -> None:
        """Append the message to the outbox file."""
        line = json.dumps({"to": to.value, "kind": to.kind, "code": code, "purpose": purpose})
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, (line + "\n").encode("utf-8"))
            finally:
                os.close(fd)


class MemorySender:
    """Keeps the last code per address in memory (tests and the reference device agent)."""

    def __init__(self) -> None:
        self.sent: list[tuple[Identifier, str, str]] = []

    def send(self, to: Identifier, code: str, *, purpose: str) -> None:
        """Remember the message."""
        self.sent.append((to, code, purpose))

    def last_code(self, value: str) -> str:
        """The newest code sent to the address ``value`` (normalised form)."""
        for to, code, _purpose in reversed(self.sent):
            if to.value == value:
                return code
        raise LookupError("no code was sent to that address")
