"""
The table registry: every table Charter keeps registers here, saying which of its columns
hold personal data (and how protected), which hold references to a subject, which hold
neither, and what account erasure does to its rows.

Erasure and ``verify-erasure`` are driven by the registry: a new service's tables are erased
and scanned for residue because they registered, and ``tests/test_registry.py`` fails on any
column of any table that is not classified. Migrations read :data:`metadata` only.

:data:`metadata` is declared here; the gate's tables (:mod:`charter.store.schema`), the rights
tables and each service's tables are declared on it by their own modules, which the
composition root imports.

::

    register_table(
        sessions,
        subject_column="subject_id",
        personal={"user_agent": "field_encryption"},
        reference=("subject_id",),
        erase=Erase.DELETE,
    )
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, MetaData, Table, delete, update

__all__ = [
    "DATABASES",
    "FILE_NAME",
    "Erase",
    "Registered",
    "clear_subject_references",
    "erase_subject_rows",
    "metadata",
    "register_table",
    "registered",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
"""Every table of every database Charter uses (each database has them all)."""

DATABASES = frozenset({"control", "region", "any"})
"""Where a table's rows live: the control database, the region databases, or any database."""

FILE_NAME = "file_name"
"""Protection of a personal column that holds the name of a file with the (encrypted) value;
the name embeds ids, so ``verify-erasure`` searches these columns for ids they contain."""

EraseHook = Callable[[Connection, str], int]
"""Custom erasure of a table's rows of a subject, inside the caller's transaction."""


class Erase(enum.Enum):
    """What account erasure does to a table's rows of the subject."""

    DELETE = "delete"
    """The rows go when the account is erased (with the account's other service state)."""
    CLEAR = "clear"
    """The rows stay for their owner's records; the subject column is set to null (the
    owner's erasure job does it, at its end)."""
    OWNER = "owner"
    """The owning package's own erasure step handles the rows (e.g. the gate's records,
    removed in batches after crypto-shredding)."""
    NONE = "none"
    """Account erasure leaves the rows alone: the table holds nothing of a subject, or only
    what is kept on purpose and never names the subject id (the audit log's keyed
    fingerprints, keyed hashes of sign-in identifiers and addresses in back-off counters)."""


@dataclass(frozen=True)
class Registered:
    """One registered table and how each of its columns is classified."""

    table: Table
    subject_column: str | None
    personal: Mapping[str, str]
    reference: tuple[str, ...]
    neither: tuple[str, ...]
    erase: Erase
    on_erase: EraseHook | None = None
    database: str = "control"
    """``control``, ``region`` or ``any`` (the gate's tables exist in every database)."""
    columns: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "columns", frozenset(self.personal) | set(self.reference) | set(self.neither)
        )


_LOCK = threading.Lock()
_TABLES: dict[str, Registered] = {}


def register_table(
    table: Table,
    *,
    subject_column: str | None = None,
    personal: Mapping[str, str] | None = None,
    reference: Iterable[str] = (),
    neither: Iterable[str] = (),
    erase: Erase = Erase.NONE,
    on_erase: EraseHook | None = None,
    database: str = "control",
) -> Table:
    """
    Register ``table`` (declared on :data:`metadata`); returns it, so a module can write
    ``sessions = register_table(Table(...), ...)``.

    Raises:
        ValueError: a column named that the table lacks, a column classified twice, a
            subject column missing for an erasing table, an unknown database, or the table
            registered twice differently.
    """
    entry = Registered(
        table,
        subject_column,
        dict(personal or {}),
        tuple(reference),
        tuple(neither),
        erase,
        on_erase,
        database,
    )
    names = set(table.c.keys())
    listed = [*entry.personal, *entry.reference, *entry.neither]
    unknown = sorted(set(listed) - names)
    if unknown:
        raise ValueError(f"{table.name}: no such columns {unknown}")
    twice = sorted({c for c in listed if listed.count(c) > 1})
    if twice:
        raise ValueError(f"{table.name}: columns classified twice {twice}")
    if erase in (Erase.DELETE, Erase.CLEAR) and on_erase is None and subject_column not in names:
        raise ValueError(f"{table.name}: erase={erase.value} needs a subject column")
    if database not in DATABASES:
        raise ValueError(f"{table.name}: database must be one of {sorted(DATABASES)}")
    with _LOCK:
        found = _TABLES.get(table.name)
        if found is not None and found != entry:
            raise ValueError(f"{table.name} is registered twice")
        _TABLES[table.name] = entry
    return table


def registered() -> list[Registered]:
    """Every registered table, in registration order."""
    with _LOCK:
        return list(_TABLES.values())


def erase_subject_rows(conn: Connection, subject_id: str, *, database: str = "control") -> int:
    """
    Delete every ``Erase.DELETE`` table's rows of a subject in ``database`` (custom hooks
    first, in registration order, so dependent rows go before the rows they depend on);
    returns how many rows went.
    """
    removed = 0
    entries = [e for e in registered() if e.database == database and e.erase is Erase.DELETE]
    for entry in sorted(entries, key=lambda e: e.on_erase is None):
        if entry.on_erase is not None:
            removed += entry.on_erase(conn, subject_id)
            continue
        column = entry.table.c[str(entry.subject_column)]
        removed += conn.execute(delete(entry.table).where(column == subject_id)).rowcount or 0
    return removed


def clear_subject_references(
    conn: Connection, subject_id: str, *, database: str = "control"
) -> int:
    """Null the subject column of every ``Erase.CLEAR`` table's rows of a subject."""
    cleared = 0
    for entry in registered():
        if entry.database != database or entry.erase is not Erase.CLEAR:
            continue
        column = entry.table.c[str(entry.subject_column)]
        stmt = update(entry.table).where(column == subject_id).values({column.name: None})
        cleared += conn.execute(stmt).rowcount or 0
    return cleared
