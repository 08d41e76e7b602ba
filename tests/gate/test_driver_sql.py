"""
Statements sent straight to the driver (:mod:`charter.store.driver_sql`, the switch change's
path) behave as SQLAlchemy's ``exec_driver_sql`` does, on SQLite and PostgreSQL: the same
rows, the same errors, in the same transaction; and a listener on the engine still sees them.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charter.app import Charter
from charter.store.driver_sql import execute, executemany

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**62), max_value=2**62),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
)


def _engine(charter: Charter) -> sa.Engine:
    return charter.gate.stores.region("eu")


def _sql(conn: sa.Connection, text: str) -> str:
    return text if conn.dialect.paramstyle == "qmark" else text.replace("?", "%s")


def _table(conn: sa.Connection) -> None:
    conn.exec_driver_sql("CREATE TEMPORARY TABLE t (k TEXT PRIMARY KEY, v TEXT, n BIGINT)")


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: "\x00" not in k),
                            st.tuples(VALUES, st.integers(-(2**62), 2**62)), max_size=8))  # fmt: skip
def test_rows_are_those_sqlalchemy_gives(charter: Charter, rows: dict[str, Any]) -> None:
    with _engine(charter).connect() as conn, conn.begin():
        _table(conn)
        for key, (value, number) in rows.items():
            text = None if value is None else str(value)
            execute(
                conn, _sql(conn, "INSERT INTO t (k, v, n) VALUES (?, ?, ?)"), (key, text, number)
            )
        select = _sql(conn, "SELECT k, v, n FROM t ORDER BY k")
        ours = list(execute(conn, select, ()).all())
        theirs = [tuple(row) for row in conn.exec_driver_sql(select)]
        assert [tuple(row) for row in ours] == theirs
        assert len(ours) == len(rows)
        conn.rollback()


def test_a_statement_without_rows_gives_none(charter: Charter) -> None:
    with _engine(charter).connect() as conn, conn.begin():
        _table(conn)
        done = execute(conn, _sql(conn, "INSERT INTO t (k, v, n) VALUES (?, ?, ?)"), ("a", "b", 1))
        assert done.first() is None and list(done.all()) == []
        conn.rollback()


def test_a_driver_error_is_sqlalchemys_and_the_transaction_rolls_back(charter: Charter) -> None:
    engine = _engine(charter)
    with engine.connect() as conn:
        with conn.begin():
            _table(conn)
        insert = _sql(conn, "INSERT INTO t (k, v, n) VALUES (?, ?, ?)")
        with pytest.raises(sa.exc.IntegrityError), conn.begin():
            execute(conn, insert, ("same", "first", 1))
            execute(conn, insert, ("same", "second", 2))  # the primary key again
        with conn.begin():
            assert list(execute(conn, "SELECT k FROM t", ()).all()) == []  # the first is gone


def test_a_listener_on_the_engine_sees_each_statement(charter: Charter) -> None:
    engine = _engine(charter)
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        with engine.connect() as conn, conn.begin():
            _table(conn)
            insert = _sql(conn, "INSERT INTO t (k, v, n) VALUES (?, ?, ?)")
            execute(conn, insert, ("a", "b", 1))
            assert execute(conn, "SELECT k, v, n FROM t", ()).first() == ("a", "b", 1)
            conn.rollback()
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
    assert insert in seen and "SELECT k, v, n FROM t" in seen


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: "\x00" not in k),
                            st.tuples(VALUES, st.integers(-(2**62), 2**62)), max_size=8))  # fmt: skip
def test_executemany_writes_the_rows_exec_driver_sql_writes(
    charter: Charter, rows: dict[str, Any]
) -> None:
    values = [(k, None if v is None else str(v), n) for k, (v, n) in rows.items()]
    select = "SELECT k, v, n FROM t ORDER BY k"
    with _engine(charter).connect() as conn, conn.begin():
        _table(conn)
        insert = _sql(conn, "INSERT INTO t (k, v, n) VALUES (?, ?, ?)")
        executemany(conn, insert, values)
        ours = [tuple(row) for row in conn.exec_driver_sql(select)]
        conn.exec_driver_sql("DELETE FROM t")
        if values:  # (exec_driver_sql runs a statement given no rows once, without parameters)
            conn.exec_driver_sql(insert, values)
        theirs = [tuple(row) for row in conn.exec_driver_sql(select)]
        assert ours == theirs and len(ours) == len(rows)
        conn.rollback()


def test_executemany_raises_sqlalchemys_error_and_a_listener_sees_it(charter: Charter) -> None:
    engine = _engine(charter)
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    with engine.connect() as conn:
        with conn.begin():
            _table(conn)
        insert = _sql(conn, "INSERT INTO t (k, v, n) VALUES (?, ?, ?)")
        with pytest.raises(sa.exc.IntegrityError), conn.begin():
            executemany(conn, insert, [("same", "first", 1), ("same", "second", 2)])
        with conn.begin():
            assert list(execute(conn, "SELECT k FROM t", ()).all()) == []
        assert insert not in seen
        sa.event.listen(engine, "before_cursor_execute", before)
        try:
            with conn.begin():
                executemany(conn, insert, [("a", "b", 1), ("c", "d", 2)])
                assert execute(conn, "SELECT count(*) FROM t", ()).first() == (2,)
                conn.rollback()
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)
    assert insert in seen
