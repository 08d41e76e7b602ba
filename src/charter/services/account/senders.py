"""
Verification-code senders: how a one-time code reaches a phone or a mailbox.

:class:`VerificationSender` is the interface; :class:`FileSender` (the default for
development: one JSON line per message in a file the operator reads, mode 0600) and
:class:`NullSender` (drops everything, for deployments without delivery) implement it.
SMTP or SMS providers plug in by implementing :meth:`VerificationSender.send`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from sqlalchemy import select

from charter.services.account import tables as at
from charter.services.account.identifiers import Identifier
from charter.services.account.keys import lookup
from charter.store.files import SubjectFiles, register_file_writer


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

    The file holds personal data (addresses and codes): it is a registered file writer
    (:mod:`charter.store.files`), so deleting an account removes the lines sent to its
    addresses and ``verify-erasure`` scans it. Production deployments use a real provider.
    Writers in every process serialise on ``flock`` of a lock file beside it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, to: Identifier, code: str, *, purpose: str) -> None:
        """Append the message to the outbox file."""
        line = json.dumps({"to": to.value, "kind": to.kind, "code": code, "purpose": purpose})
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with _locked(self.path):
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                try:
                    os.write(fd, (line + "\n").encode("utf-8"))
                finally:
                    os.close(fd)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``<path>.lock`` (across processes)."""
    fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _lookups(subject: SubjectFiles) -> set[str]:
    """The keyed hashes of the subject's sign-in addresses (still in the database)."""
    rows = subject.conn.execute(
        select(at.identifiers.c.lookup).where(at.identifiers.c.subject_id == subject.subject_id)
    )
    return {str(r.lookup) for r in rows}


def _sent_to(line: bytes, subject: SubjectFiles, lookups: set[str]) -> bool:
    try:
        message = json.loads(line)
        return lookup(subject.keyring, str(message["kind"]), str(message["to"])) in lookups
    except (ValueError, KeyError, TypeError):
        return False  # not a message line: left as it is


def erase_outbox_lines(path: Path, subject: SubjectFiles) -> int:
    """
    Remove every line of the outbox sent to one of the subject's addresses (the file is
    rewritten through a temporary file and renamed over it); returns how many went.
    """
    if path.name != OUTBOX_NAME:
        return 0
    lookups = _lookups(subject)
    if not lookups:
        return 0
    with _locked(path):
        lines = path.read_bytes().splitlines(keepends=True)
        kept = [line for line in lines if not _sent_to(line, subject, lookups)]
        if len(kept) == len(lines):
            return 0
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"".join(kept))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    return len(lines) - len(kept)


OUTBOX_NAME = "codes.jsonl"

register_file_writer(
    "verification outbox",
    (f"outbox/{OUTBOX_NAME}", f"outbox/.{OUTBOX_NAME}.lock", f"outbox/.{OUTBOX_NAME}.*.tmp"),
    holds="the addresses one-time codes were sent to, with the codes (the file sender)",
    erasure="the lines sent to the person's addresses are removed when the account is deleted",
    on_erase=erase_outbox_lines,
)


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
