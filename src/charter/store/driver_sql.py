"""
Fixed SQL statements of the hottest write paths, sent straight to the driver's cursor in the
transaction of a SQLAlchemy connection.

``Connection.exec_driver_sql`` already skips compiling, but still builds an execution context
and a result object and dispatches its events: about 15 us a statement over the driver's own
3-5 us (SQLite, measured), which a switch change pays five times, on the group commit's
thread that every change of the region waits for. :func:`execute` sends the same text with
the same parameters on the same connection, inside the same transaction, so nothing about
atomicity or durability changes:

- a driver error is raised as SQLAlchemy raises it (``sqlalchemy.exc.IntegrityError``,
  ``OperationalError``...), so callers and the API's error mapping see no difference (a
  connection lost mid-statement is not marked invalid here: the rollback that follows
  through SQLAlchemy finds it so and discards it);
- with a ``before_cursor_execute`` or ``after_cursor_execute`` listener on the engine (a test
  counting statements, an instrumentation) the statement goes through ``exec_driver_sql``
  as before, and the listener sees it.

The statement's text is in the driver's parameter style (``conn.dialect.paramstyle``): ``?``
for SQLite, ``%s`` for PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Connection

__all__ = ["Rows", "execute", "executemany", "in_paramstyle"]


class Rows:
    """The rows of a statement, as both paths give them: tuples."""

    def __init__(self, rows: Sequence[Sequence[Any]]) -> None:
        self.rows = rows

    def first(self) -> Sequence[Any] | None:
        """The first row, or None."""
        return self.rows[0] if self.rows else None

    def all(self) -> Sequence[Sequence[Any]]:
        """Every row."""
        return self.rows


def in_paramstyle(statement: str, paramstyle: str) -> str:
    """``statement``, written with ``?`` markers, in a driver's parameter style: as written for
    ``qmark`` (SQLite), with ``%s`` for ``format`` and ``pyformat`` (psycopg). The text must
    hold no other ``?`` (nor a ``%``)."""
    return statement if paramstyle == "qmark" else statement.replace("?", "%s")


def _listened(conn: Connection) -> bool:
    """Whether a cursor listener is attached (then statements go through SQLAlchemy)."""
    dispatch = conn.dispatch
    return bool(dispatch.before_cursor_execute or dispatch.after_cursor_execute)


@contextmanager
def _cursor(conn: Connection, statement: str, parameters: Sequence[Any]) -> Iterator[Any]:
    """The driver's cursor of ``conn``, closed after use; a driver error raised as
    SQLAlchemy raises it."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        yield cursor
    except conn.dialect.loaded_dbapi.Error as error:
        raise exc.DBAPIError.instance(
            statement, parameters, error, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from error
    finally:
        cursor.close()


def execute(conn: Connection, statement: str, parameters: tuple[Any, ...]) -> Rows:
    """Run ``statement`` with ``parameters`` in ``conn``'s transaction; its rows (none for a
    statement that returns none)."""
    if _listened(conn):
        result = conn.exec_driver_sql(statement, parameters)
        return Rows([tuple(row) for row in result] if result.returns_rows else [])
    with _cursor(conn, statement, parameters) as cursor:
        cursor.execute(statement, parameters)
        return Rows(cursor.fetchall() if cursor.description is not None else [])


def executemany(conn: Connection, statement: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Run ``statement`` once per row of ``rows`` (one driver ``executemany``) in ``conn``'s
    transaction; as :func:`execute`, through ``exec_driver_sql`` when a cursor listener is
    attached. No rows: nothing runs (``exec_driver_sql`` would run the statement once,
    without parameters)."""
    if not rows:
        return
    if _listened(conn):
        conn.exec_driver_sql(statement, list(rows))
        return
    with _cursor(conn, statement, rows) as cursor:
        cursor.executemany(statement, rows)
