"""
:class:`UsageEvents`: app usage events from a person's device, through the gate.

Each event of a declared kind (usage sequence, app status, installed-apps snapshot) is a gate
record of ``app_usage_data``: the gate decides it under the "Usage and Diagnostics" switch and
the market, protects it and gives it its 180-day expiry. The snapshot keeps only the latest
per device and is refused above its declared frequency. Essential telemetry (system updates
and security) passes whatever the switches, as counters that name no one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import DBAPIError

from charter.crypto import keyed_hash
from charter.errors import InputError
from charter.gate import Gate
from charter.gate.model import Event
from charter.policy import MICROS_PER_DAY
from charter.services.usage.params import DATA_TYPE, SERVICE, UsageParams
from charter.services.usage.tables import essential, people, snapshots
from charter.taxonomy import Purpose

ESSENTIAL = "essential"
FREQUENCY_EXCEEDED = "frequency_exceeded"
MAX_TEXT = 120


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one event."""

    index: int
    kind: str
    accepted: bool
    reason: str
    message: str


class UsageEvents:
    """Usage events of one deployment."""

    def __init__(self, gate: Gate, params: UsageParams) -> None:
        self.gate = gate
        self.params = params
        self.clock = gate.clock

    def device_hash(self, device: str) -> str:
        """The keyed hash a service table keeps instead of a device id."""
        return keyed_hash(
            self.gate.keyring.hmac_key, device.encode("utf-8"), context="usage.device"
        ).hex()

    def submit(
        self, subject_id: str, device: str, events: Sequence[Mapping[str, Any]], *, actor: str
    ) -> list[Outcome]:
        """
        Offer a batch of a device's events; every event gets an outcome (the gate's reason
        when refused). Bad input refuses the whole batch before anything is stored.

        Raises:
            InputError: an unknown kind, an undeclared field or a malformed value (with the
                event's index).
        """
        _text(device, "device")
        checked = [self._check(i, e) for i, e in enumerate(events)]
        now = self.clock()
        day = now // MICROS_PER_DAY
        dev = self.device_hash(device)
        out: dict[int, Outcome] = {}
        personal: list[tuple[int, str, dict[str, Any]]] = []
        snapshot_at: int | None = None
        for i, kind, fields in checked:
            if kind == ESSENTIAL:
                self._essential(fields, day, now)
                out[i] = Outcome(i, kind, True, "essential", "kept as essential telemetry")
                continue
            declared = self.params.kinds[kind]
            if declared.per_day is not None:
                if snapshot_at is not None or self._snapshot_today(subject_id, dev, day):
                    out[i] = Outcome(
                        i,
                        kind,
                        False,
                        FREQUENCY_EXCEEDED,
                        f"{kind} is declared at most {declared.per_day} a day per device",
                    )
                    continue
                snapshot_at = i
            personal.append((i, kind, fields))
        if personal:
            result = self.gate.collect(
                [
                    Event(subject_id, SERVICE, DATA_TYPE, Purpose.ADVERTISING, value, source=kind)
                    for _i, kind, value in personal
                ],
                actor=actor,
                service=SERVICE,
            )
            for (i, kind, _v), item in zip(personal, result.items, strict=True):
                out[i] = Outcome(i, kind, item.accepted, item.reason, item.message)
                if item.accepted and i == snapshot_at and item.record_id is not None:
                    self._keep_latest(subject_id, dev, item.record_id, day, now, actor)
            if any(item.accepted for item in result.items):
                self._joined(subject_id, now)
        return [out[i] for i in range(len(checked))]

    def _joined(self, subject_id: str, now: int) -> None:
        with self.gate.stores.control().begin() as conn:
            known = conn.execute(
                select(people.c.subject_id).where(people.c.subject_id == subject_id)
            ).first()
            if known is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(people).values(subject_id=subject_id, first_at=now))
                except DBAPIError:
                    pass  # another batch of the same person got there first

    def _check(self, index: int, event: Mapping[str, Any]) -> tuple[int, str, dict[str, Any]]:
        where = f"events[{index}]"
        kind = event.get("kind")
        fields = event.get("fields", {})
        if not isinstance(fields, Mapping):
            raise InputError(f"{where}.fields must be an object", field=f"{where}.fields")
        if kind == ESSENTIAL:
            allowed = self.params.essential_fields | {"purpose"}
            purpose = fields.get("purpose")
            if purpose not in self.params.essential_for:
                raise InputError(
                    f"{where}: essential telemetry serves only "
                    f"{', '.join(self.params.essential_for)}; name one as fields.purpose",
                    field=f"{where}.fields.purpose",
                )
        elif isinstance(kind, str) and kind in self.params.kinds:
            allowed = self.params.kinds[kind].fields
        else:
            known = ", ".join([*sorted(self.params.kinds), ESSENTIAL])
            raise InputError(f"{where}: unknown event kind; use one of: {known}", field=where)
        extra = sorted(set(fields) - allowed)
        if extra:
            raise InputError(
                f"{where}: {kind} does not declare field(s) {', '.join(extra)}; "
                f"declared: {', '.join(sorted(allowed))}",
                field=f"{where}.fields",
            )
        for name, value in fields.items():
            _value(value, f"{where}.fields.{name}")
        return index, kind, dict(fields)

    def _snapshot_today(self, subject_id: str, dev: str, day: int) -> bool:
        with self.gate.stores.control().connect() as conn:
            found = conn.execute(
                select(snapshots.c.day).where(
                    snapshots.c.subject_id == subject_id, snapshots.c.device_hash == dev
                )
            ).scalar()
        return found is not None and int(found) >= day

    def _keep_latest(
        self, subject_id: str, dev: str, record_id: str, day: int, now: int, actor: str
    ) -> None:
        s = snapshots
        key = (s.c.subject_id == subject_id) & (s.c.device_hash == dev)
        with self.gate.stores.control().begin() as conn:
            old = conn.execute(select(s.c.record_id).where(key)).scalar()
            values = {"record_id": record_id, "day": day, "taken_at": now}
            if old is None:
                conn.execute(insert(s).values(subject_id=subject_id, device_hash=dev, **values))
            else:
                conn.execute(update(s).where(key).values(**values))
        if old is not None:
            self.gate.delete_records(
                subject_id, [str(old)], service=SERVICE, actor=actor, why="superseded snapshot"
            )

    def _essential(self, fields: Mapping[str, Any], day: int, now: int) -> None:
        e = essential
        key = {
            "day": day,
            "purpose": str(fields["purpose"]),
            "system_version": str(fields.get("system_version", ""))[:40],
            "device_model": str(fields.get("device_model", ""))[:40],
            "status": str(fields.get("update_status", fields.get("security_patch", "")))[:40],
        }
        expires = now + self.params.essential_retention_days * MICROS_PER_DAY
        cond = [e.c[k] == v for k, v in key.items()]
        with self.gate.stores.control().begin() as conn:
            done = conn.execute(update(e).where(*cond).values(count=e.c.count + 1)).rowcount
            if not done:
                conn.execute(insert(e).values(**key, count=1, expires_at=expires))

    def essential_counts(self) -> list[dict[str, Any]]:
        """The essential telemetry kept (counters, no subject)."""
        with self.gate.stores.control().connect() as conn:
            rows = conn.execute(select(essential).order_by(*essential.primary_key)).all()
        return [dict(r._mapping) for r in rows]

    def purge_essential(self) -> int:
        """Drop essential telemetry past its declared retention; returns rows removed."""
        with self.gate.stores.control().begin() as conn:
            return int(
                conn.execute(
                    delete(essential).where(essential.c.expires_at <= self.clock())
                ).rowcount
            )


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        raise InputError(f"{where} must be text of 1 to {MAX_TEXT} characters", field=where)
    return value


def _value(value: object, where: str) -> None:
    if isinstance(value, bool | int | float) or value is None:
        return
    if isinstance(value, str):
        _text(value, where) if value else None
        return
    if isinstance(value, list) and len(value) <= 500:
        for j, v in enumerate(value):
            _value(v, f"{where}[{j}]")
        return
    raise InputError(f"{where} must be text, a number, a boolean or a short list", field=where)
