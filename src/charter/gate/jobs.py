"""
Idempotent, resumable jobs: retention purge and key-encryption-key rotation.

Each job works in small transactions and finds its remaining work from the data itself
(records past their expiry, data keys wrapped by an old version), so a job killed at any
point simply runs again and finishes, with nothing lost and nothing left behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, tuple_, update

from charter.crypto import rewrap_data_key
from charter.gate.blobs import remove_blobs, sweep_pending
from charter.gate.facade import Gate
from charter.store import schema as t
from charter.store.engines import checkpoint

Progress = Callable[[int], None]


@dataclass
class PurgeReport:
    """What a purge removed."""

    records: int = 0
    blobs: int = 0
    regions: int = 0


def purge_expired(
    gate: Gate,
    *,
    batch: int = 20_000,
    progress: Progress | None = None,
    regions: list[str] | None = None,
) -> PurgeReport:
    """
    Delete every record past its expiry, with its blob, in batches; then truncate the WAL.

    Safe to interrupt and run again: each batch commits on its own, blobs are unlinked before
    their rows are deleted (a missing blob is fine), and the next run picks up what is left.
    Rows with blobs go first, by id; the rest are deleted by a sub-select, so no ids travel.
    """
    report = PurgeReport()
    r = t.records
    for region in regions or list(gate.catalog.regions):
        engine = gate.stores.region(region)
        blob_dir = gate.stores.blob_dir(region)
        now = gate.clock()
        expired = (r.c.expires_at.is_not(None), r.c.expires_at <= now)
        region_total = 0
        while True:
            with engine.begin() as conn:
                with_blobs = conn.execute(
                    select(r.c.subject_id, r.c.id, r.c.blob)
                    .where(*expired, r.c.blob.is_not(None))
                    .limit(batch)
                ).all()
                key = tuple_(r.c.subject_id, r.c.id)  # the records' clustered key
                if with_blobs:
                    remove_blobs(blob_dir, [row.blob for row in with_blobs])
                    report.blobs += len(with_blobs)
                    target = key.in_([(row.subject_id, row.id) for row in with_blobs])
                else:  # straight from the expiry index, which carries the key
                    target = key.in_(select(r.c.subject_id, r.c.id).where(*expired).limit(batch))
                deleted = conn.execute(delete(r).where(target)).rowcount or 0
                if not deleted:
                    break
                detail = {"records": deleted, "cutoff": now}
                gate.journal.record(conn, "job:purge", "purge", None, detail)
            region_total += deleted
            report.records += deleted
            if progress is not None:
                progress(deleted)
        report.blobs += _sweep_blobs(engine, blob_dir, now)
        if region_total:
            report.regions += 1
        checkpoint(engine)
    return report


def _sweep_blobs(engine: Any, blob_dir: Path, now: int) -> int:
    """Remove the blob files of batches a crash stopped before their records committed
    (see :func:`~charter.gate.blobs.sweep_pending`); returns how many."""
    r = t.records

    def existing(ids: list[str]) -> set[str]:
        found: set[str] = set()
        with engine.connect().execution_options(readonly=True) as conn:
            for at in range(0, len(ids), 500):
                part = ids[at : at + 500]
                found.update(conn.execute(select(r.c.id).where(r.c.id.in_(part))).scalars())
        return found

    return sum(sweep_pending(blob_dir, now, existing))


def count_expired(gate: Gate) -> int:
    """How many records are past their expiry now, over every region."""
    r = t.records
    now = gate.clock()
    total = 0
    for region in gate.catalog.regions:
        with gate.stores.region(region).connect().execution_options(readonly=True) as conn:
            total += conn.execute(
                select(func.count())
                .select_from(r)
                .where(r.c.expires_at.is_not(None), r.c.expires_at <= now)
            ).scalar_one()
    return total


@dataclass
class RotationReport:
    """What a key rotation did."""

    new_version: int
    rewrapped: int = 0
    resumed: bool = False
    """True when this finished a rotation a crash interrupted (no version was added)."""


def rewrap_data_keys(gate: Gate, *, batch: int = 1_000, progress: Progress | None = None) -> int:
    """
    Rewrap every data key not wrapped by the current KEK version; records are untouched.

    Resumable: it selects keys still on an old version, so a rerun continues where it stopped.
    """
    current = gate.keyring.current_version
    k = t.data_keys
    total = 0
    for region in gate.catalog.regions:
        engine = gate.stores.region(region)
        while True:
            with engine.begin() as conn:
                rows = conn.execute(
                    select(k.c.subject_id, k.c.wrapped)
                    .where(k.c.kek_version != current)
                    .limit(batch)
                ).all()
                if not rows:
                    break
                for row in rows:
                    wrapped = rewrap_data_key(
                        gate.keyring, row.wrapped, subject_id=row.subject_id, region=region
                    )
                    conn.execute(
                        update(k)
                        .where(k.c.subject_id == row.subject_id)
                        .values(wrapped=wrapped, kek_version=current)
                    )
                detail = {"rewrapped": len(rows), "kek_version": current}
                gate.journal.record(conn, "job:rotate", "rotate", None, detail)
            total += len(rows)
            if progress is not None:
                progress(len(rows))
    return total


def stale_data_keys(gate: Gate) -> int:
    """How many data keys are not yet wrapped by the current KEK version."""
    current = gate.keyring.current_version
    k = t.data_keys
    total = 0
    for region in gate.catalog.regions:
        with gate.stores.region(region).connect().execution_options(readonly=True) as conn:
            query = select(func.count()).select_from(k).where(k.c.kek_version != current)
            total += conn.execute(query).scalar_one()
    return total


def rotate_keys(gate: Gate, *, progress: Progress | None = None) -> RotationReport:
    """
    Add a new KEK version and rewrap every data key with it.

    A rerun after a crash finishes the interrupted rotation instead of adding yet another
    version: while any data key still waits to be rewrapped, no version is added.
    """
    if stale_data_keys(gate):
        report = RotationReport(gate.keyring.current_version, resumed=True)
    else:
        version = gate.keyring.rotate()
        gate.audit_admin("admin", "kek_rotate", {"kek_version": version})
        report = RotationReport(version)
    report.rewrapped = rewrap_data_keys(gate, progress=progress)
    return report
