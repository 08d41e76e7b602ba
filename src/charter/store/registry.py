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
    "DISTRIBUTIONS",
    "FILE_NAME",
    "Distribution",
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


class Distribution(enum.Enum):
    """
    How a table spreads over a Citus cluster (``docs/scale.md``, generated from the registry).

    Every database (control and each region) is its own cluster; within one, a table is one of:
    """

    SUBJECT = "subject"
    """Distributed by the subject id (``create_distributed_table(t, subject column)``), every
    such table co-located with the others: one subject's rows of every table sit on one node,
    so a subject's reads, writes and erasure are router queries. Its primary key and every
    unique constraint start with the subject column."""
    KEY = "key"
    """Distributed by its own lookup key (``key_column``): a directory from a secret or an
    identifier (a keyed hash of a sign-in address, a token hash) to a subject, looked up before
    the subject is known, and unique across everyone by design. Its primary key and every unique
    constraint start with the key column."""
    REFERENCE = "reference"
    """Replicated to every node (``create_reference_table``): small, read everywhere, written
    rarely — catalog-derived data, staff and client registrations, service keys."""
    LOCAL = "local"
    """Kept on the coordinator (``citus_add_local_table_to_metadata``): low-volume queues and
    logs read across subjects by staff and jobs, or appended in one global order."""


DISTRIBUTIONS = frozenset(d.value for d in Distribution)


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
    distribution: Distribution | None = None
    """How the table spreads over a Citus cluster; ``None`` (not said, and no subject column
    to derive it from) fails ``tests/test_citus_schema.py``."""
    key_column: str | None = None
    """The distribution column of a :attr:`Distribution.KEY` table."""
    columns: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "columns", frozenset(self.personal) | set(self.reference) | set(self.neither)
        )

    @property
    def distribution_column(self) -> str | None:
        """The column Citus distributes the table by (``None`` for reference and local)."""
        if self.distribution is Distribution.SUBJECT:
            return self.subject_column
        if self.distribution is Distribution.KEY:
            return self.key_column
        return None


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
    distribution: Distribution | str | None = None,
    key_column: str | None = None,
) -> Table:
    """
    Register ``table`` (declared on :data:`metadata`); returns it, so a module can write
    ``sessions = register_table(Table(...), ...)``.

    ``distribution`` says how the table spreads over a Citus cluster (:class:`Distribution`);
    left out, a table with a subject column is ``subject``-distributed, and any other table
    must say (``tests/test_citus_schema.py`` fails until it does). A ``key`` table names its
    ``key_column``.

    Raises:
        ValueError: a column named that the table lacks, a column classified twice, a
            subject column missing for an erasing table, an unknown database or distribution,
            a key table without its key column, or the table registered twice differently.
    """
    try:
        kind = Distribution(distribution) if distribution is not None else None
    except ValueError:
        raise ValueError(
            f"{table.name}: distribution must be one of {sorted(DISTRIBUTIONS)}"
        ) from None
    if kind is None and subject_column is not None:
        kind = Distribution.SUBJECT
    if (kind is Distribution.KEY) != (key_column is not None):
        raise ValueError(f"{table.name}: key_column goes with distribution='key', and only with it")
    if key_column is not None and key_column not in table.c:
        raise ValueError(f"{table.name}: no such key column {key_column!r}")
    entry = Registered(
        table,
        subject_column,
        dict(personal or {}),
        tuple(reference),
        tuple(neither),
        erase,
        on_erase,
        database,
        kind,
        key_column,
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
