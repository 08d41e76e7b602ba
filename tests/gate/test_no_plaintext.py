"""
Encrypted and hashed values never appear in clear in the database file, its WAL, blob files
or logs; not-stored types leave no trace at all. Unique markers are written, then every byte
under the data directory (and every log record) is scanned for them.
"""

from __future__ import annotations

import base64
import logging
import secrets
from pathlib import Path

import pytest

from charter.app import Charter
from charter.gate import Event
from charter.policy import SubjectKind
from charter.taxonomy import AtRest, Purpose


def _encodings(marker: str) -> list[bytes]:
    raw = marker.encode()
    return [raw, marker.encode("utf-16-le"), base64.b64encode(raw)[:-4], raw.hex().encode()]


def _scan(root: Path, markers: list[str]) -> list[tuple[str, str]]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for m in markers:
                if any(enc in data for enc in _encodings(m)):
                    hits.append((path.name, m))
    return hits


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_protected_values_never_in_clear(
    charter: Charter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gate = charter.gate
    compiled = charter.compiled
    protected: list[str] = []
    plain: list[str] = []
    for account in (
        gate.create_subject(SubjectKind.ACCOUNT, "in"),
        gate.create_subject(SubjectKind.APP_INSTANCE, "in"),
    ):
        qualifier = "identified" if account.kind is SubjectKind.ACCOUNT else "pseudonymized"
        on = {k: True for k in compiled.defaults}
        gate.set_switches(account.id, on, source="user", actor="subject")
        events = []
        for (service, data_type, q, purpose), row in sorted(compiled.rows.items()):
            if q.value != qualifier or service in ("browser", "video", "get_apps"):
                continue
            marker = "MK" + secrets.token_hex(8)
            events.append(Event(account.id, service, data_type, purpose, {"m": marker}))
            (plain if row.protection is AtRest.PLAIN else protected).append(marker)
        blob_marker = "BLOB" + secrets.token_hex(8)
        if account.kind is SubjectKind.ACCOUNT:
            events.append(
                Event(
                    account.id,
                    "cloud",
                    "photos_videos",
                    Purpose.APP_FUNCTIONALITY,
                    None,
                    blob=blob_marker.encode() * 10,
                )
            )
            protected.append(blob_marker)
        result = gate.collect(events, actor="service:test")
        assert result.refused == 0, [i for i in result.items if not i.accepted][:3]
    data_dir = charter.settings.data_dir
    assert len(protected) > 20 and plain
    assert _scan(data_dir, protected) == []
    # sanity check of the scanner itself: plain values are found in the database files
    assert {m for _f, m in _scan(data_dir, plain)} == set(plain)
    log_text = "\n".join(r.getMessage() for r in caplog.records)
    assert not any(m in log_text for m in protected + plain)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_not_stored_types_leave_no_trace(
    charter: Charter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gate = charter.gate
    s = gate.create_subject(SubjectKind.APP_INSTANCE, "de")
    marker = "NS" + secrets.token_hex(8)
    res = gate.collect(
        [
            Event(
                s.id,
                "account",
                "accelerometer_network",
                Purpose.APP_FUNCTIONALITY,
                {"reading": marker},
            )
        ],
        actor="service:account",
    )
    assert res.items[0].accepted
    assert _scan(charter.settings.data_dir, [marker]) == []
    assert marker not in "\n".join(r.getMessage() for r in caplog.records)
