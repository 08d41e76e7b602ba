"""
:class:`VerifiedCache`: what verifying a bearer credential found, kept for a few seconds so
that a client's next request skips the database read and the keyed hash.

Correctness comes first:

- **Revocation in this process is immediate.** Every revocation or deletion of a credential
  (API key, user token, account session and its tokens, an erased subject's tokens) calls
  :func:`revoked` when it happens and again once its transaction commits
  (:func:`revoked_on_commit`); that empties every cache of the process, so the next request
  reads the database again. A lookup that started before the commit cannot store a stale
  answer: an entry is kept only if no revocation happened while it was being verified.
- **Another process's revocation** (a second server worker on PostgreSQL, ``charter service
  revoke-key`` from the shell) is seen here within :data:`SECONDS` at most.
- **Expiry** is checked on every hit against the credential's own expiry (the Charter clock).
- At most :data:`MAX_ENTRIES` credentials per cache; the oldest go first. The keys are the
  credentials as presented (process memory only, never written anywhere).
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Generic, TypeVar

from sqlalchemy import Connection, event

V = TypeVar("V")

SECONDS = 5.0
"""How long a verified credential is trusted without reading the database again: the bound
on how late a revocation made by another process takes effect in this one."""

MAX_ENTRIES = 4096
"""Credentials kept per cache."""

_counter = itertools.count(1)
_epoch = [0]
_lock = threading.Lock()


def epoch() -> int:
    """The current revocation epoch; read it *before* verifying, pass it to ``put``."""
    return _epoch[0]


def revoked() -> None:
    """A credential was (or is about to be) revoked or deleted: forget every verified one."""
    with _lock:
        _epoch[0] = next(_counter)


def revoked_on_commit(conn: Connection) -> None:
    """:func:`revoked` now and again once ``conn``'s transaction commits, so that a lookup
    racing the revocation cannot keep the state from before it."""
    revoked()
    if not conn.info.get("charter_revoked_on_commit"):
        conn.info["charter_revoked_on_commit"] = True

        def after_commit(_conn: Connection) -> None:
            conn.info.pop("charter_revoked_on_commit", None)
            revoked()

        def after_rollback(_conn: Connection) -> None:
            conn.info.pop("charter_revoked_on_commit", None)

        event.listen(conn, "commit", after_commit, once=True)
        event.listen(conn, "rollback", after_rollback, once=True)


class VerifiedCache(Generic[V]):
    """A bounded, short-lived map from a presented credential to what verifying it found."""

    def __init__(self, seconds: float = SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[str, tuple[V, int, float]] = {}

    def get(self, credential: str) -> V | None:
        """What verifying ``credential`` found, if still trusted; else ``None``."""
        entry = self._entries.get(credential)
        if entry is None:
            return None
        value, at_epoch, born = entry
        if at_epoch != _epoch[0] or time.monotonic() - born > self.seconds:
            self._entries.pop(credential, None)
            return None
        return value

    def put(self, credential: str, value: V, at_epoch: int) -> None:
        """Keep ``value`` for ``credential``, verified under ``at_epoch`` (from :func:`epoch`
        before the verification); nothing is kept if a revocation happened meanwhile."""
        if at_epoch != _epoch[0] or self.seconds <= 0:
            return
        entries = self._entries
        if len(entries) >= self.max_entries:
            try:
                del entries[next(iter(entries))]
            except (StopIteration, KeyError, RuntimeError):
                entries.clear()
        entries[credential] = (value, at_epoch, time.monotonic())

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()
