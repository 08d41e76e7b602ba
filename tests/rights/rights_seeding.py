"""Seeding helpers for the rights tests: subjects with a marker in every field they can hold."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from charter.app import Charter
from charter.gate import Event
from charter.policy import SubjectKind
from charter.taxonomy import AtRest, Purpose, Qualifier


@dataclass
class Seeded:
    """What was written for one subject."""

    subject_id: str
    markers: list[str] = field(default_factory=list)
    record_ids: list[str] = field(default_factory=list)
    services: set[str] = field(default_factory=set)


def everything_on(charter: Charter, subject_id: str) -> None:
    """Turn every switch on (authorization of every service included)."""
    charter.gate.set_switches(
        subject_id, dict.fromkeys(charter.compiled.defaults, True), source="user", actor="subject"
    )


def seed_subject(
    charter: Charter,
    kind: SubjectKind = SubjectKind.ACCOUNT,
    market: str = "in",
    *,
    limit: int | None = None,
    blob: bool = True,
    device: str = "dev-1",
) -> Seeded:
    """A subject with one marked value per stored inventory row it may carry (and a blob)."""
    gate = charter.gate
    subject = gate.create_subject(kind, market)
    everything_on(charter, subject.id)
    qualifier = Qualifier.IDENTIFIED if kind is SubjectKind.ACCOUNT else Qualifier.PSEUDONYMIZED
    seeded = Seeded(subject.id)
    events: list[Event] = []
    for (service, data_type, q, purpose), row in sorted(charter.compiled.rows.items()):
        if q is not qualifier or not row.stored or row.protection is AtRest.PASSWORD_HASH:
            continue
        marker = "MK" + secrets.token_hex(10)
        events.append(Event(subject.id, service, data_type, purpose, {"m": marker}, source=device))
    if blob and kind is SubjectKind.ACCOUNT:
        events.append(
            Event(
                subject.id,
                "cloud",
                "photos_videos",
                Purpose.APP_FUNCTIONALITY,
                None,
                blob=("BLOBMK" + secrets.token_hex(10)).encode() * 200,  # > 4 KiB: a file
                source=device,
            )
        )
    if limit is not None:
        events = events[:limit]
    result = gate.collect(events, actor="service:test")
    for ev, item in zip(events, result.items, strict=True):
        if item.accepted and item.record_id:
            seeded.record_ids.append(item.record_id)
            seeded.services.add(ev.service)
            if ev.blob is not None:
                seeded.markers.append(ev.blob[:26].decode())
            elif isinstance(ev.value, dict):
                seeded.markers.append(ev.value["m"])
    return seeded


def encodings(marker: str) -> list[bytes]:
    """A marker as UTF-8, UTF-16, base64 (3 alignments) and hex."""
    raw = marker.encode()
    out = [raw, marker.encode("utf-16-le"), marker.encode("utf-16-be"), raw.hex().encode()]
    for shift in range(3):
        enc = base64.b64encode(b"\0" * shift + raw)
        out.append(enc[4 if shift else 0 : ((shift + len(raw)) // 3) * 4])
    return out


def scan(root: Path, markers: list[str]) -> tuple[int, list[tuple[str, str]]]:
    """Raw-byte scan of every file under ``root``: (bytes scanned, hits as (file, marker))."""
    hits = []
    scanned = 0
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != "keyring.json":
            data = path.read_bytes()
            scanned += len(data)
            for m in markers:
                if any(enc in data for enc in encodings(m)):
                    hits.append((str(path.relative_to(root)), m))
    return scanned, hits
