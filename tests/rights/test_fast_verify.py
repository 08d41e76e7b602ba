"""
The fast ``verify-erasure`` (issue 14): each registered table is queried by its subject index
and each file writer by what it registered. A row planted in any registered table with a
subject column is found, in the database it lives in; a blob named by one of the subject's
record ids is found; a small file of a content-checked writer naming the subject is found;
another subject's residue is not reported; the CLI runs it by default and the full scan
with ``--deep``. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Table, insert
from typer.testing import CliRunner

from charter.app import Charter
from charter.cli.rights import app as cli
from charter.gate import new_id
from charter.store.registry import Registered, registered


def _row(table: Table, subject_column: str, subject_id: str) -> dict[str, Any]:
    """A row of ``table`` for ``subject_id``; every other value fresh and unique."""
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.name == subject_column:
            row[column.name] = subject_id
            continue
        kind = column.type.python_type
        if kind is str:
            length = getattr(column.type, "length", None) or 64
            row[column.name] = f"v-{new_id()}"[:length]
        elif kind is bool:
            row[column.name] = False
        elif kind is int:
            row[column.name] = 1
        elif kind is bytes:
            row[column.name] = b"\x00"
        else:  # pragma: no cover - a new column type: teach this test to fill it
            raise AssertionError(f"{table.name}.{column.name}: no test value for {kind}")
    return row


def _planted(entry: Registered) -> bool:
    return entry.subject_column is not None and entry.table.name not in {
        "subjects",
        "subject_directory",
    }


def test_a_row_planted_in_any_registered_table_is_found(charter: Charter) -> None:
    subject = charter.gate.create_subject("account", "de", actor="test")
    other = charter.gate.create_subject("account", "de", actor="test")
    region = charter.stores.region(subject.region)
    control = charter.stores.control()
    expected: set[str] = {
        f"region {subject.region}: subjects.id",
        "control: subject_directory.subject_id",
    }
    for entry in registered():
        if not _planted(entry):
            continue
        column = str(entry.subject_column)
        in_region = entry.database in ("any", "region")
        engine = region if in_region else control
        with engine.begin() as conn:
            conn.execute(insert(entry.table).values(_row(entry.table, column, subject.id)))
        where = f"region {subject.region}" if in_region else "control"
        expected.add(f"{where}: {entry.table.name}.{column}")
    assert len(expected) > 25  # every service's tables took part
    report = charter.rights.verify_erasure(subject.id, deep=False)
    assert {f.where for f in report.findings} == expected
    assert all(f.needle == "subject_id" and f.count == 1 for f in report.findings)
    theirs = charter.rights.verify_erasure(other.id, deep=False)
    assert {f.where for f in theirs.findings} == {
        f"region {other.region}: subjects.id",
        "control: subject_directory.subject_id",
    }


def test_blob_files_and_small_files_are_checked(charter: Charter) -> None:
    subject_id = "s_" + "ab" * 16
    record_id = new_id()
    blob = charter.stores.blob_dir("eu") / subject_id[2:4] / record_id
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(b"ciphertext")
    outbox = charter.stores.settings.data_dir / "outbox" / "codes.jsonl"
    outbox.parent.mkdir(parents=True, exist_ok=True)
    outbox.write_text(f'{{"subject": "{subject_id}"}}\n')
    report = charter.rights.verify_erasure(subject_id, record_ids=[record_id], deep=False)
    where = {f.where: f.needle for f in report.findings}
    assert where == {
        f"file name blobs/eu/{subject_id[2:4]}/{record_id}": "record[0]",
        "file outbox/codes.jsonl": "subject_id",
    }
    blob.unlink()
    outbox.write_text("")
    assert charter.rights.verify_erasure(subject_id, record_ids=[record_id], deep=False).clean


def test_markers_need_the_deep_check(charter: Charter) -> None:
    with pytest.raises(ValueError, match="deep"):
        charter.rights.verify_erasure("s_" + "0" * 32, markers=["x@example.org"], deep=False)


def test_the_cli_checks_fast_by_default_and_deep_on_request(charter: Charter) -> None:
    subject = charter.gate.create_subject("account", "de", actor="test")
    s = charter.settings
    env = {"CHARTER_DATA_DIR": str(s.data_dir)}
    if s.control_url:
        env["CHARTER_CONTROL_DATABASE_URL"] = s.control_url
        env |= {f"CHARTER_DATABASE_URL_{r.upper()}": u for r, u in s.region_urls.items()}
    fast = CliRunner().invoke(cli, ["verify-erasure", subject.id], env=env)
    assert fast.exit_code == 1, fast.output
    assert "subjects.id" in fast.output and "fast check" in fast.output
    assert "files_scanned: 0" in fast.output
    deep = CliRunner().invoke(cli, ["verify-erasure", subject.id, "--deep"], env=env)
    assert deep.exit_code == 1, deep.output
    assert "subjects.id" in deep.output and "fast check" not in deep.output
