"""
The table registry: every table on the shared metadata is registered, every column of it is
classified (personal, reference or neither) and every classified column exists; account
erasure deletes the rows of the ``Erase.DELETE`` tables of one subject and no one else's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

import charter.app  # noqa: F401 - the composition root imports every module that declares tables
from charter.app import Charter
from charter.rights.verify import verify_erasure
from charter.store.registry import (
    DATABASES,
    Erase,
    Registered,
    erase_subject_rows,
    registered,
)
from charter.store.schema import metadata

KNOWN = {"subjects", "records", "rights_requests", "acct_sessions", "oauth_grants", "web_staff"}
"""Tables of every layer (gate, rights, services): the composition root declared them all."""


def problems(tables: Iterable[Table], entries: Mapping[str, Registered]) -> list[str]:
    """Every table not registered, column not classified, or registered column missing."""
    found: list[str] = []
    declared = {t.name: t for t in tables}
    for name, table in declared.items():
        entry = entries.get(name)
        if entry is None:
            found.append(f"{name}: table not registered with register_table")
            continue
        if entry.table is not table:
            found.append(f"{name}: the registered table is not the one declared on metadata")
        columns = set(table.c.keys())
        found += [
            f"{name}.{column.name}: column not classified as personal, reference or neither"
            for column in table.columns
            if column.name not in entry.columns
        ]
        found += [
            f"{name}.{c}: registered, but the table has no such column"
            for c in sorted(entry.columns - columns)
        ]
    for name in sorted(set(entries) - set(declared)):
        found.append(f"{name}: registered, but not declared on metadata")
    return found


def entries() -> dict[str, Registered]:
    return {e.table.name: e for e in registered()}


def test_every_table_is_registered_and_every_column_classified() -> None:
    assert set(metadata.tables) >= KNOWN
    assert problems(metadata.sorted_tables, entries()) == []


def test_the_check_names_each_table_and_column() -> None:
    meta = MetaData()
    table = Table(
        "t",
        meta,
        Column("id", Integer, primary_key=True),
        Column("subject_id", String),
        Column("note", String),
    )
    Table("u", meta, Column("id", Integer, primary_key=True))
    stray = Table("v", MetaData(), Column("id", Integer, primary_key=True))
    entry = Registered(table, "subject_id", {}, ("subject_id",), ("id", "ghost"), Erase.DELETE)
    other = Registered(stray, None, {}, (), ("id",), Erase.NONE)
    assert problems(meta.sorted_tables, {"t": entry, "v": other}) == [
        "t.note: column not classified as personal, reference or neither",
        "t.ghost: registered, but the table has no such column",
        "u: table not registered with register_table",
        "v: registered, but not declared on metadata",
    ]


def test_classifications_are_coherent() -> None:
    bad: list[str] = []
    for entry in registered():
        name = entry.table.name
        groups = [set(entry.personal), set(entry.reference), set(entry.neither)]
        twice = (groups[0] & groups[1]) | (groups[0] & groups[2]) | (groups[1] & groups[2])
        bad += [f"{name}.{c}: classified twice" for c in sorted(twice)]
        bad += [
            f"{name}.{c}: personal, but how it is protected is not said"
            for c, how in entry.personal.items()
            if not how.strip()
        ]
        if entry.subject_column is not None and entry.subject_column not in entry.reference:
            bad.append(
                f"{name}.{entry.subject_column}: subject column not classified as a reference"
            )
        if entry.database not in DATABASES:
            bad.append(f"{name}: unknown database {entry.database!r}")
        if (
            entry.erase in (Erase.DELETE, Erase.CLEAR)
            and entry.on_erase is None
            and entry.subject_column is None
        ):
            bad.append(f"{name}: erase={entry.erase.value} without a subject column or hook")
    assert bad == []


# -- erase_subject_rows on a real database ---------------------------------------------------


def _row(table: Table, subject_column: str | None, subject_id: str, tag: str) -> dict[str, Any]:
    """A row of ``table`` for ``subject_id``; every other value starts with ``tag`` (unique)."""
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.name == subject_column:
            row[column.name] = subject_id
            continue
        kind = column.type.python_type
        if kind is str:
            row[column.name] = f"{tag}-{column.name}"[: getattr(column.type, "length", None) or 64]
        elif kind is bool:
            row[column.name] = False
        elif kind is int:
            row[column.name] = 0
        elif kind is bytes:
            row[column.name] = b"\x00"
        else:  # pragma: no cover - a new column type: teach this test to fill it
            raise AssertionError(f"{table.name}.{column.name}: no test value for {kind}")
    if table.name == "acct_tokens":  # tokens name their session, not a subject
        row["session_id"] = f"{tag}-id"
    return row


def _count(conn: Any, entry: Registered, subject_id: str, tag: str) -> int:
    table = entry.table
    if entry.subject_column is not None:
        where = table.c[entry.subject_column] == subject_id
    else:
        where = table.c.session_id == f"{tag}-id"
    return int(conn.execute(select(func.count()).select_from(table).where(where)).scalar_one())


def test_erase_subject_rows_deletes_one_subjects_rows_only(charter: Charter) -> None:
    tables = [e for e in registered() if e.erase is Erase.DELETE and e.database == "control"]
    names = {e.table.name for e in tables}
    assert {"acct_accounts", "acct_sessions", "acct_tokens", "web_staff"} <= names
    gone, kept = "s_" + "a" * 32, "s_" + "b" * 32
    engine = charter.stores.control()
    with engine.begin() as conn:
        for entry in tables:
            for subject_id, tag in ((gone, "a"), (kept, "b")):
                conn.execute(
                    insert(entry.table).values(
                        _row(entry.table, entry.subject_column, subject_id, tag)
                    )
                )
    with engine.connect() as conn:
        assert all(_count(conn, e, gone, "a") == 1 for e in tables)
    with engine.begin() as conn:
        removed = erase_subject_rows(conn, gone)
    assert removed == len(tables)
    with engine.connect() as conn:
        left = {e.table.name: _count(conn, e, gone, "a") for e in tables}
        others = {e.table.name: _count(conn, e, kept, "b") for e in tables}
    assert left == dict.fromkeys(names, 0)
    assert others == dict.fromkeys(names, 1)


def test_verify_erasure_scans_the_registered_tables(charter: Charter) -> None:
    """The row scan covers what registered, in every database; a planted id is found."""
    sid = "s_" + "c" * 32
    challenges = metadata.tables["acct_challenges"]
    row = _row(challenges, "subject_id", sid, "c") | {"context": f'{{"device": "{sid}"}}'}
    with charter.stores.control().begin() as conn:
        conn.execute(insert(challenges).values(row))
    report = verify_erasure(charter.gate, sid)
    databases = 1 + len(charter.catalog.regions)
    assert report.tables_scanned == len(registered()) * databases
    where = {f.where for f in report.findings}
    assert "control: acct_challenges.subject_id" in where
    assert "control: acct_challenges.context" in where
