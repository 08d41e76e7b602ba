"""
The schema is Citus-legal (issue 14), proved by walking :data:`metadata` and the registry:

- every table says how it spreads over a cluster (``distribution`` in ``register_table``);
- a distributed table's primary key and every unique constraint or unique index start with
  its distribution column (the subject id, or a key table's own key);
- a foreign key joins co-located rows (subject to subject on the subject id) or points at a
  reference table; a reference or local table points at no distributed table;
- every table with a subject column has an index that starts with it (account erasure and
  ``verify-erasure`` go straight to one subject's rows).

``docs/scale.md`` is generated from the same registry and must match its generator.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, String, Table, UniqueConstraint

import charter.app  # noqa: F401 - the composition root imports every module that declares tables
from charter.store.registry import Distribution, Erase, Registered, registered
from charter.store.scale import citus_problems, scale_markdown


def _entries() -> list[Registered]:
    return registered()


def test_every_registered_table_is_citus_legal() -> None:
    found = citus_problems(_entries())
    assert found == [], "\n".join(found)


def test_gate_records_are_clustered_by_subject() -> None:
    entry = {e.table.name: e for e in _entries()}["records"]
    assert entry.distribution is Distribution.SUBJECT
    assert [c.name for c in entry.table.primary_key.columns] == ["subject_id", "id"]
    assert entry.table.dialect_options["sqlite"]["with_rowid"] is False


def _entry(table: Table, distribution: str | None, **kw: object) -> Registered:
    return Registered(
        table,
        kw.get("subject_column"),  # type: ignore[arg-type]
        {},
        (),
        tuple(table.c.keys()),
        Erase.NONE,
        distribution=Distribution(distribution) if distribution else None,
        key_column=kw.get("key_column"),  # type: ignore[arg-type]
    )


def _fixture() -> Iterable[Registered]:
    meta = MetaData()
    subjects = Table("subjects", meta, Column("id", String, primary_key=True))
    by_id = Table(
        "by_id",
        meta,
        Column("id", String, primary_key=True),
        Column("subject_id", String, ForeignKey("subjects.id")),
        Column("code", String),
        UniqueConstraint("code", name="uq_by_id_code"),
    )
    unsaid = Table("unsaid", meta, Column("id", Integer, primary_key=True))
    ref = Table(
        "ref",
        meta,
        Column("id", Integer, primary_key=True),
        Column("row", String, ForeignKey("by_id.id")),
    )
    key = Table(
        "key",
        meta,
        Column("hash", String),
        Column("subject_id", String),
        Column("n", Integer, primary_key=True),
        Index("uix_key_n", "n", unique=True),
    )
    return [
        _entry(subjects, "subject", subject_column="id"),
        _entry(by_id, "subject", subject_column="subject_id"),
        _entry(unsaid, None),
        _entry(ref, "reference"),
        _entry(key, "key", key_column="hash", subject_column="subject_id"),
    ]


def test_the_lint_names_table_constraint_and_fix() -> None:
    found = citus_problems(_fixture())
    text = "\n".join(found)
    assert len(found) == 8, text
    assert "by_id: primary key pk_by_id (id) must start with subject_id" in text
    assert "by_id: unique constraint uq_by_id_code (code) must start with subject_id" in text
    assert "by_id.subject_id: foreign key to subjects.id" not in text  # co-located: legal
    assert "unsaid: no distribution: register_table(..., distribution=" in text
    assert "ref.row: foreign key from a reference table to by_id (subject)" in text
    assert "key: primary key pk_key (n) must start with hash" in text
    assert "key: unique index uix_key_n (n) must start with hash" in text
    assert "key.subject_id: no index starts with the subject column" in text
    assert "by_id.subject_id: no index starts with the subject column" in text


def test_docs_scale_md_is_generated_from_the_registry() -> None:
    doc = Path(__file__).resolve().parents[1] / "docs" / "scale.md"
    assert doc.read_text() == scale_markdown(_entries()), (
        "docs/scale.md is stale: run `charter db scale-doc > docs/scale.md`"
    )
    text = doc.read_text()
    for e in _entries():
        assert f"'{e.table.name}'" in text, e.table.name
