"""
The file registry (:mod:`charter.store.files`): every file Charter writes belongs to a
registered writer that says whether it holds personal data and what erasure does to it.

- the writers are listed here: a new writer fails this test until it is added (and thought
  about);
- after a round of activity (records with blobs, an export, sign-in codes in the outbox,
  audit witnesses, OpenID keys, an account deletion) every file under the data directory
  belongs to a writer; a stray file is reported, by the registry and by ``verify-erasure``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import charter.api.routers.photos
import charter.app
import charter.demo  # noqa: F401 - the demo marker
from charter.app import Charter
from charter.services.account import FAST_FOR_TESTS, AccountService, FileSender, HashingGate
from charter.services.oauth import KeyStore
from charter.store.files import (
    TEMP,
    file_writers,
    register_file_writer,
    unregistered_files,
    writer_of,
)

sys.path.insert(0, str(Path(__file__).parent / "rights"))
from rights_seeding import seed_subject

from support.accounts import PASSWORD

WRITERS = {
    "databases": True,
    "blobs": True,
    "exports": True,
    "verification outbox": True,
    "photo uploads": True,
    "cloud uploads": True,
    "audit witness": False,
    "keyring": False,
    "OpenID signing keys": False,
    "demo marker": False,
}
"""Every writer of files and whether its files can hold personal data."""


def test_the_writers_are_known() -> None:
    assert {w.name: w.personal for w in file_writers()} == WRITERS
    for writer in file_writers():
        assert writer.erasure, writer.name
    outbox = next(w for w in file_writers() if w.name == "verification outbox")
    assert outbox.on_erase is not None  # erasure acts on it, not only describes it
    assert [w.name for w in file_writers() if w.where == TEMP] == ["photo uploads"]


def test_patterns_match_what_they_say() -> None:
    assert writer_of("regions/india.db-wal") is not None
    assert writer_of("blobs/india/ab/cd.bin") is not None
    assert writer_of("exports/.ex_1.zip.tmp") is not None
    assert writer_of("outbox/codes.jsonl") is not None
    assert writer_of("cloud/uploads/cu_0123.part") is not None
    assert writer_of("outbox/other.jsonl") is None
    assert writer_of("logs/charter.log") is None
    assert writer_of("control.db.bak") is None


def test_a_writer_of_personal_data_must_say_what_erasure_does() -> None:
    with pytest.raises(ValueError, match="erasure"):
        register_file_writer("careless", ("x/*",), holds="addresses", erasure="")
    with pytest.raises(ValueError, match="pattern"):
        register_file_writer("nowhere", (), holds="", erasure="kept")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_after_activity_every_file_belongs_to_a_writer(charter: Charter) -> None:
    data_dir = charter.settings.data_dir
    accounts = AccountService(
        charter.gate,
        sender=FileSender(charter.settings.outbox()),
        profile=FAST_FOR_TESTS,
        hashing=HashingGate(slots=2, queue=16),
    )
    accounts.register("files.check@example.org", PASSWORD, "de")
    kept = seed_subject(charter)
    gone = seed_subject(charter)
    charter.rights.export(kept.subject_id)
    charter.rights.export(gone.subject_id)
    charter.journal.witness()
    assert KeyStore.for_data_dir(data_dir).signing_kid
    charter.rights.delete_account(gone.subject_id)

    written = sorted(p.relative_to(data_dir).as_posix() for p in data_dir.rglob("*") if p.is_file())
    assert any(w.startswith("blobs/") for w in written)
    assert any(w.startswith("exports/") for w in written)
    assert "outbox/codes.jsonl" in written
    assert any(w.startswith("audit/") for w in written)
    assert unregistered_files(data_dir) == []

    stray = data_dir / "cache" / "page.json"
    stray.parent.mkdir()
    stray.write_text(json.dumps({"subject": gone.subject_id}))
    assert unregistered_files(data_dir) == ["cache/page.json"]
    report = charter.rights.verify_erasure(gone.subject_id)
    assert report.unregistered == ["cache/page.json"]
    assert any("cache/page.json" in note for note in report.notes)
    assert any(f.where == "file cache/page.json" for f in report.findings)
