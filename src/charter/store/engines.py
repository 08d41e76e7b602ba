"""
Database engines with Charter's durability settings, checked at start-up.

SQLite: WAL journal, ``synchronous=FULL``, ``foreign_keys=ON``, ``secure_delete=ON`` on every
connection, and ``BEGIN IMMEDIATE`` for write transactions so writers queue instead of
failing (in one process, on a lock: :class:`_WriterConnection`). PostgreSQL: Charter refuses to start when ``fsync``, ``full_page_writes`` or
``synchronous_commit`` is off, since acknowledged writes could then be lost.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from charter.errors import ConfigError
from charter.store.driver_sql import execute

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
    "PRAGMA busy_timeout=30000",
    "PRAGMA wal_autocheckpoint=10000",
)
"""Set on every SQLite connection. ``wal_autocheckpoint``: the WAL is copied back into the
database once it holds 10,000 pages (40 MiB) instead of SQLite's 1,000. A collect batch
dirties hundreds of pages (a record lands at the end of its subject's key range, so a batch
over 100 subjects touches a few leaves each), and at 1,000 a checkpoint ran every second or
third commit, each rewriting pages the next batches dirty again; ten times the interval
writes each hot page back once per many batches (collect in process +5% on a warm VM, +10%
on a freshly booted one, in interleaved runs). Erasure and purge still truncate the WAL at
once (:func:`checkpoint`)."""

REQUIRED_SQLITE = {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "secure_delete": 1}
REQUIRED_POSTGRES = ("fsync", "full_page_writes", "synchronous_commit")


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite+pysqlite:///{path}"


def make_engine(url: str) -> Engine:
    """
    An engine for ``url`` with Charter's durability settings, verified.

    Raises:
        ConfigError: the URL is malformed, or the database is configured unsafely.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(
            "malformed database URL; expected e.g. sqlite+pysqlite:///path.db or postgresql+psycopg://user@host/db"
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(url)
    elif parsed.get_backend_name() == "postgresql":
        engine = create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)
    else:
        raise ConfigError(
            f"unsupported database backend {parsed.get_backend_name()!r}; use sqlite or postgresql"
        )
    try:
        check_durability(engine)
    except BaseException:
        engine.dispose()  # refused: leave no connection open
        raise
    return engine


WRITER_WAIT_SECONDS = 30.0
"""How long a writer waits for the in-process writer lock before leaving the wait to
SQLite's own busy handler (the ``timeout`` of the connection, also 30 s)."""


class _WriterConnection(sqlite3.Connection):
    """
    A SQLite connection whose write transactions queue on a lock shared by the engine's
    connections in this process, taken before ``BEGIN IMMEDIATE`` and released once the
    ``COMMIT`` or ``ROLLBACK`` has returned. SQLite lets only one writer in at a time and
    makes the others poll with growing sleeps (up to 100 ms each); a writer queued on the
    lock starts the moment the previous one is done. Other processes (workers, the CLI)
    still meet SQLite's busy handler, as before.
    """

    writer_lock: threading.Lock
    holding = False

    def acquire_writer(self) -> None:
        """Wait for the writer lock (then leave it to SQLite, past the wait)."""
        self.holding = self.writer_lock.acquire(timeout=WRITER_WAIT_SECONDS)

    def release_writer(self) -> None:
        """Release the writer lock if this connection holds it."""
        if self.holding:
            self.holding = False
            self.writer_lock.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            if not self.in_transaction:
                self.release_writer()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            if not self.in_transaction:
                self.release_writer()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.release_writer()


def _sqlite_engine(url: str) -> Engine:
    connection_class = type(
        "WriterConnection", (_WriterConnection,), {"writer_lock": threading.Lock()}
    )
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30, "factory": connection_class},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front (no deadlock-prone lock upgrades); readers opt out
        # with execution_options(readonly=True) and read a WAL snapshot without blocking.
        # (sent straight to the driver: every write transaction, each group commit's
        # among them, begins here)
        if conn.get_execution_options().get("readonly"):
            execute(conn, "BEGIN", ())
            return
        dbapi_conn = conn.connection.dbapi_connection
        if isinstance(dbapi_conn, _WriterConnection):
            dbapi_conn.acquire_writer()
        try:
            execute(conn, "BEGIN IMMEDIATE", ())
        except BaseException:
            if isinstance(dbapi_conn, _WriterConnection):
                dbapi_conn.release_writer()
            raise

    return engine


def check_durability(engine: Engine) -> dict[str, Any]:
    """
    Read the durability settings of a database and refuse unsafe ones.

    Returns:
        The settings read, by name.

    Raises:
        ConfigError: a required setting is off.
    """
    found: dict[str, Any] = {}
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            for name, wanted in REQUIRED_SQLITE.items():
                value = raw.cursor().execute(f"PRAGMA {name}").fetchone()[0]
                found[name] = value
                if str(value).lower() != str(wanted):
                    raise ConfigError(f"SQLite {name} is {value!r}, Charter requires {wanted!r}")
        finally:
            raw.close()
        return found
    with engine.connect() as conn:
        for name in REQUIRED_POSTGRES:
            value = conn.execute(text(f"SHOW {name}")).scalar()
            found[name] = value
            if str(value).lower() in ("off", "false", "0"):
                raise ConfigError(
                    f"PostgreSQL {name} is off; acknowledged writes could be lost. Turn {name} on and restart the server."
                )
        conn.rollback()
    return found


def compact(engine: Engine) -> None:
    """After an account's erasure: rebuild an SQLite database (``VACUUM``) and truncate its
    WAL, so no copy of the erased rows survives in a page's unused space (a B-tree keyed by
    text can leave one when pages are rebalanced, which ``secure_delete`` does not zero).
    Costs one rewrite of the file; a no-op on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        checkpoint(engine)
        raw = engine.raw_connection()
        try:
            raw.cursor().execute("VACUUM")
        finally:
            raw.close()
    checkpoint(engine)


def checkpoint(engine: Engine) -> None:
    """After purges and erasures: truncate SQLite's WAL so deleted bytes do not survive there."""
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
