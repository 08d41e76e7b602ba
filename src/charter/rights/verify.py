"""
``verify_erasure``: look everywhere Charter keeps bytes for residue of a subject.

Needles: the subject id, its record ids, and any markers the caller knows were in its data
(e.g. a test's planted values, or a value the person asked about). Each needle is searched
as UTF-8, UTF-16 (LE and BE), base64 (at all three alignments) and hex.

Where it looks:

- **rows**: every registered table (:func:`charter.store.registry.registered`: a service's
  tables are scanned because they registered) in every database (control and each region),
  every text column, for a row equal to (or, in free-text columns and columns naming files,
  containing) the subject id or a record id;
- **files**: every file under the data directory — database files with their
  ``-wal``/``-shm``/journal companions, blob folders, exports, the verification outbox,
  temporary files — read in chunks with overlap (constant memory), and every file *name*;
  plus the short-lived files registered writers keep in the system's temporary folder. Key
  files (the keyring, the OpenID signing keys: writers registered with ``keys=True``) are
  skipped: they hold keys, not data, and random bytes contain any short needle by chance.
  Every place Charter writes files is a registered writer (:mod:`charter.store.files`); a
  file no writer registered is listed in ``unregistered`` (and a note), since nothing would
  erase it.

That is the **deep** check (``deep=True``; ``charter verify-erasure --deep``): it reads
everything, so it grows with everyone's data. The **fast** check (``deep=False``, the CLI's
default) grows with the subject's: each registered table with a subject column is queried by
that column, in the databases its registration names,, which every such table indexes first (``tests/test_citus_schema.py``); files
go by what their writer registered (``fast_check``): the databases are covered by the rows,
blob files are looked up by record id, and the few small files of other writers are read.
Markers (values, not ids) are found only by reading bytes: they need the deep check.

PostgreSQL keeps its files on the server: Charter reports the row scan only and notes that
a raw scan of the data directory and WAL needs filesystem access on the database server
(``docs/rights.md`` shows how).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    String,
    Table,
    Text,
    func,
    literal,
    or_,
    select,
    union_all,
)

from charter.rights import tables as _tables  # noqa: F401 - registers the rights tables
from charter.store.files import DATA, file_writers, temp_files, writer_of
from charter.store.registry import FILE_NAME, Registered, metadata, registered

if TYPE_CHECKING:
    from charter.gate import Gate

READ_CHUNK = 4 * 1024 * 1024
MIN_MARKER = 8
"""Characters a marker needs: a shorter one turns up by chance in encrypted blobs (a 3-byte
value is expected about once in every 16 MiB of random bytes)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One place residue was found."""

    where: str
    needle: str
    encoding: str
    count: int = 1


@dataclass
class ErasureReport:
    """What :func:`verify_erasure` scanned and found."""

    findings: list[Finding] = field(default_factory=list)
    files_scanned: int = 0
    bytes_scanned: int = 0
    tables_scanned: int = 0
    notes: list[str] = field(default_factory=list)
    unregistered: list[str] = field(default_factory=list)
    """Files under the data directory that no registered writer owns (relative paths)."""

    @property
    def clean(self) -> bool:
        """True when no residue was found."""
        return not self.findings


def encodings(text: str) -> dict[str, list[bytes]]:
    """The byte patterns of ``text`` under each encoding searched."""
    raw = text.encode("utf-8")
    b64: list[bytes] = []
    for shift in range(3):
        enc = base64.b64encode(b"\0" * shift + raw)
        start = 4 if shift else 0
        end = ((shift + len(raw)) // 3) * 4
        if end - start >= 8:
            b64.append(enc[start:end])
    return {
        "utf-8": [raw],
        "utf-16": [text.encode("utf-16-le"), text.encode("utf-16-be")],
        "base64": b64,
        "hex": [raw.hex().encode(), raw.hex().upper().encode()],
    }


def _pattern(
    needles: dict[str, str],
) -> tuple[re.Pattern[bytes], dict[bytes, tuple[str, str]], int]:
    lookup: dict[bytes, tuple[str, str]] = {}
    for label, text in needles.items():
        for enc, patterns in encodings(text).items():
            for p in patterns:
                lookup.setdefault(p, (label, enc))
    longest = max((len(p) for p in lookup), default=1)
    ordered = sorted(lookup, key=len, reverse=True)
    return re.compile(b"|".join(re.escape(p) for p in ordered)), lookup, longest


def _scan_file(
    path: Path, pattern: re.Pattern[bytes], lookup: dict[bytes, tuple[str, str]], overlap: int
) -> tuple[int, dict[tuple[str, str], int]]:
    hits: dict[tuple[str, str], int] = {}
    size = 0
    tail = b""
    with path.open("rb") as f:
        while chunk := f.read(READ_CHUNK):
            size += len(chunk)
            data = tail + chunk
            for m in pattern.finditer(data):
                if m.end() <= len(tail):
                    continue
                key = lookup[m.group(0)]
                hits[key] = hits.get(key, 0) + 1
            tail = data[-(overlap - 1) :] if overlap > 1 else b""
    return size, hits


def _scan_files(
    root: Path,
    needles: dict[str, str],
    report: ErasureReport,
    extra: Sequence[Path] = (),
) -> None:
    pattern, lookup, longest = _pattern(needles)
    paths = sorted(root.rglob("*")) if root.is_dir() else []
    for path in [*paths, *extra]:
        if not path.is_file():
            continue
        inside = path.is_relative_to(root)
        rel = path.relative_to(root).as_posix() if inside else str(path)
        writer = writer_of(rel) if inside else None
        if writer is not None and writer.keys:
            continue
        if inside and writer is None:
            report.unregistered.append(rel)
        for label, text in needles.items():
            if text in rel:
                report.findings.append(Finding(f"file name {rel}", label, "utf-8"))
        size, hits = _scan_file(path, pattern, lookup, longest)
        report.files_scanned += 1
        report.bytes_scanned += size
        for (label, enc), n in sorted(hits.items()):
            report.findings.append(Finding(f"file {rel}", label, enc, n))


def _scanned() -> list[Registered]:
    """The registered tables, in dependency order (as the schema sorts them)."""
    order = {t.name: i for i, t in enumerate(metadata.sorted_tables)}
    return sorted(registered(), key=lambda e: order.get(e.table.name, len(order)))


def _scan_rows(name: str, engine: Engine, ids: dict[str, str], report: ErasureReport) -> None:
    values = list(ids.values())
    by_value = {v: k for k, v in ids.items()}
    with engine.connect().execution_options(readonly=True) as conn:
        for entry in _scanned():
            table = entry.table
            report.tables_scanned += 1
            for column in table.columns:
                if column.name not in entry.columns:
                    continue
                where = f"{name}: {table.name}.{column.name}"
                if isinstance(column.type, Text):
                    for value, n in _rows_containing(conn, table, column, values):
                        report.findings.append(Finding(where, by_value[value], "row", n))
                elif isinstance(column.type, String):
                    rows = conn.execute(
                        select(column, func.count()).where(or_(column.in_(values))).group_by(column)
                    ).all()
                    for value, n in rows:
                        report.findings.append(Finding(where, by_value[value], "row", int(n)))
                    if entry.personal.get(column.name) == FILE_NAME:  # file names embed ids
                        for value, n in _rows_containing(conn, table, column, values):
                            report.findings.append(Finding(where, by_value[value], "row", n))


def _engines(gate: Gate) -> Iterable[tuple[str, Engine]]:
    yield "control", gate.stores.control()
    for region in gate.catalog.regions:
        yield f"region {region}", gate.stores.region(region)


def _check_rows(name: str, engine: Engine, subject_id: str, report: ErasureReport) -> None:
    """The fast row check: each registered table with a subject column that lives in this
    database, counted by that column (its index's first column), in one statement."""
    here = ("control", "any") if name == "control" else ("region", "any")
    counts = [
        select(
            literal(entry.table.name).label("t"),
            literal(str(entry.subject_column)).label("c"),
            func.count().label("n"),
        )
        .select_from(entry.table)
        .where(entry.table.c[str(entry.subject_column)] == subject_id)
        for entry in _scanned()
        if entry.subject_column is not None and entry.database in here
    ]
    report.tables_scanned += len(counts)
    with engine.connect().execution_options(readonly=True) as conn:
        for table, column, n in conn.execute(union_all(*counts)).all():
            if n:
                where = f"{name}: {table}.{column}"
                report.findings.append(Finding(where, "subject_id", "row", int(n)))


def _check_files(
    gate: Gate, subject_id: str, record_ids: Sequence[str], report: ErasureReport
) -> None:
    """The fast file check: each data-directory writer's files as it registered."""
    root = gate.stores.settings.data_dir
    needles = {"subject_id": subject_id} | {f"record[{i}]": r for i, r in enumerate(record_ids)}
    pattern, lookup, longest = _pattern(needles)
    for writer in file_writers():
        if writer.where != DATA or not writer.personal or writer.fast_check == "rows":
            continue
        if writer.fast_check == "records":  # blobs/<region>/<subject shard>/<record id>
            for region in gate.catalog.regions:
                for i, record_id in enumerate(record_ids):
                    shard = subject_id[2:4]
                    for rel in (  # in place, or committed and not yet moved (gate.blobs)
                        f"blobs/{region}/{shard}/{record_id}",
                        f"blobs/{region}/.pending/{shard}-{record_id}",
                    ):
                        if (root / rel).exists():
                            found = Finding(f"file name {rel}", f"record[{i}]", "utf-8")
                            report.findings.append(found)
            continue
        for pat in writer.patterns:
            for path in sorted(root.glob(pat)):
                if not path.is_file():
                    continue
                rel = path.relative_to(root).as_posix()
                size, hits = _scan_file(path, pattern, lookup, longest)
                report.files_scanned += 1
                report.bytes_scanned += size
                for (label, enc), n in sorted(hits.items()):
                    report.findings.append(Finding(f"file {rel}", label, enc, n))


def check_markers(markers: Sequence[str]) -> None:
    """
    Raises:
        ValueError: a marker shorter than :data:`MIN_MARKER` characters (named by its place).
    """
    for i, marker in enumerate(markers):
        if len(marker) < MIN_MARKER:
            raise ValueError(
                f"marker {i + 1} has {len(marker)} characters; a marker needs at least "
                f"{MIN_MARKER}, since a shorter value turns up in encrypted bytes by chance: "
                "pass a longer value known to have been in the data"
            )


def verify_erasure(
    gate: Gate,
    subject_id: str,
    *,
    record_ids: Sequence[str] = (),
    markers: Sequence[str] = (),
    deep: bool = True,
) -> ErasureReport:
    """
    Look for residue of a subject and report each place found. Needles are labelled
    ``subject_id``, ``record[i]`` and ``marker[i]`` so reports never repeat the values.

    ``deep`` (the default here) scans every database row and (on embedded SQLite) every file
    under the data directory; ``deep=False`` queries each registered table by its subject
    index and each file writer by what it registered, in time that grows with the subject's
    data, not the deployment's.

    Raises:
        ValueError: markers without ``deep`` (a value is found only by reading bytes), or a
            marker shorter than :data:`MIN_MARKER` characters.

    Returns:
        An :class:`ErasureReport`; ``clean`` when nothing was found.
    """
    check_markers(markers)
    if not deep:
        if markers:
            raise ValueError("markers are values, found only by the deep check: pass deep=True")
        fast = ErasureReport()
        for name, engine in _engines(gate):
            _check_rows(name, engine, subject_id, fast)
        _check_files(gate, subject_id, record_ids, fast)
        fast.notes.append(
            "fast check: registered tables by subject, registered files by what their writer "
            "registered; --deep reads every row and file"
        )
        return fast
    report = ErasureReport()
    ids = {"subject_id": subject_id} | {f"record[{i}]": r for i, r in enumerate(record_ids)}
    needles = ids | {f"marker[{i}]": m for i, m in enumerate(markers)}
    postgres = False
    for name, engine in _engines(gate):
        _scan_rows(name, engine, ids, report)
        postgres = postgres or engine.dialect.name == "postgresql"
    _scan_files(gate.stores.settings.data_dir, needles, report, temp_files())
    if report.unregistered:
        report.notes.append(
            f"{len(report.unregistered)} file(s) under the data directory belong to no registered "
            "writer, so erasure does not know them: "
            + ", ".join(report.unregistered[:10])
            + " (their writer must register with charter.store.files)"
        )
    if postgres:
        report.notes.append(
            "PostgreSQL databases were checked row by row only; scanning their data directory and WAL "
            "for raw bytes needs filesystem access on the database server (see docs/rights.md)."
        )
    return report


def _rows_containing(
    conn: Connection, table: Table, column: Column[Any], values: Iterable[str]
) -> Iterator[tuple[str, int]]:
    """(value, rows) for each value some rows of ``column`` contain as a substring."""
    for value in values:
        n = conn.execute(
            select(func.count()).select_from(table).where(column.contains(value, autoescape=True))
        ).scalar_one()
        if n:
            yield value, int(n)
