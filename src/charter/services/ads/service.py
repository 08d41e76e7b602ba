"""
:class:`Ads`: the advertising service (catalog service ``advertisement``).

- **Advertising ID**: one per device, random, kept only as a keyed hash; a reset overwrites
  the hash in place, so nothing maps an old ID to the new one.
- **Segments**: built only from the sources the catalog's ``segment_sources`` rule names,
  each read through the gate for the ``advertising`` purpose (the gate refuses cloud and pay
  data with ``source_refused``, and anything of a service whose switches are off); stored as
  gate records of ``advertisement``.
- **Decisions**: with "Personalized Ads" off the gate refuses the segment read, and a
  non-personalized ad is served without reading or updating any segment.
- **Partners**: the advertising ID handed to a short-video partner is a keyed hash under a
  key of that partner alone (``video.short_video_hashed_gaid``).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from charter.crypto import keyed_hash
from charter.errors import InputError, NotFoundError, RefusedError
from charter.gate import Gate
from charter.gate.grouped import GroupAudit, read_grouped
from charter.gate.items import page_items
from charter.gate.model import Event
from charter.services.ads import segments as seg
from charter.services.ads.tables import ad_ids
from charter.store.engines import checkpoint
from charter.taxonomy import Purpose

SERVICE = "advertisement"
SEGMENT_TYPE = "app_usage_data"
"""Segments are derived from app usage: kept as ``advertisement``'s app-usage rows."""
INTERACTION_TYPE = "advertising_data"
SEGMENT_SOURCE = "segment"
ACTOR = "service:ads"
SOURCE_NOT_ALLOWED = "source_not_allowed"


@dataclass(frozen=True, slots=True)
class AdChoice:
    """The ad chosen for a request, and why."""

    ad: str
    personalized: bool
    why: str
    segment: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ad": self.ad,
            "personalized": self.personalized,
            "why": self.why,
            "segment": self.segment,
        }


class Ads:
    """Advertising IDs, segments and ad decisions of one deployment."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        rules = {r.id: r for r in gate.catalog.service(SERVICE).rules}
        types = rules["segment_sources"].params.get("types", ())
        self.segment_types = frozenset(types if isinstance(types, tuple) else (str(types),))
        video = {r.id: r for r in gate.catalog.service("video").rules}
        partners = video["short_video_hashed_gaid"].params.get("recipients", ())
        self.partners = tuple(partners) if isinstance(partners, tuple) else (str(partners),)
        self.audit = GroupAudit(gate)
        """Group commit of the decisions' read audits."""

    # -- advertising IDs -----------------------------------------------------------------

    def keyed(self, value: str, context: str) -> str:
        return keyed_hash(self.gate.keyring.hmac_key, value.encode("utf-8"), context=context).hex()

    def new_id(self, subject_id: str, device: str) -> str:
        """
        A new advertising ID for the person's device, replacing any previous one in place
        (a reset): the old ID then resolves to nothing and no row holds it beside the new.
        """
        self.gate.subjects.active(subject_id)
        if not device or len(device) > 120:
            raise InputError("device must be text of 1 to 120 characters", field="device")
        ad_id = str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))
        dev = self.keyed(device, "ads.device")
        values = {"id_hash": self.keyed(ad_id, "ads.id"), "created_at": self.gate.clock()}
        key = (ad_ids.c.subject_id == subject_id) & (ad_ids.c.device_hash == dev)
        with self.gate.stores.control().begin() as conn:
            done = conn.execute(update(ad_ids).where(key).values(**values)).rowcount
            if not done:
                conn.execute(
                    insert(ad_ids).values(subject_id=subject_id, device_hash=dev, **values)
                )
        self.gate.audit_admin(ACTOR, "ad_id_reset" if done else "ad_id_issued", {})
        if done:
            # the old hash's page images stay in SQLite's WAL until a checkpoint: copy them
            # back (the overwritten cell and index entry zeroed, secure_delete) and truncate
            checkpoint(self.gate.stores.control())
        return ad_id

    def check_id(self, subject_id: str, ad_id: str) -> None:
        """
        Raises:
            NotFoundError: the ID is not a current advertising ID of this person (e.g. reset).
        """
        with self.gate.stores.control().connect() as conn:
            found = conn.execute(
                select(ad_ids.c.device_hash).where(
                    ad_ids.c.subject_id == subject_id,
                    ad_ids.c.id_hash == self.keyed(ad_id, "ads.id"),
                )
            ).first()
        if found is None:
            raise NotFoundError("no such advertising ID (it may have been reset)", field="ad_id")

    def partner_id(self, subject_id: str, ad_id: str, partner: str) -> str:
        """
        The advertising ID as handed to a short-video partner: HMAC-SHA-256 under a key of
        that partner alone, so two partners cannot join their IDs, and a reset changes it.
        """
        if partner not in self.partners:
            raise InputError(
                f"unknown partner; the catalog names: {', '.join(self.partners)}", field="partner"
            )
        self.check_id(subject_id, ad_id)
        key = hashlib.sha256(
            self.gate.keyring.hmac_key + b"ads.partner." + partner.encode()
        ).digest()
        return keyed_hash(key, ad_id.encode("utf-8"), context="ads.partner_id").hex()

    # -- sources and segments ------------------------------------------------------------

    def read_source(self, subject_id: str, service: str, data_type: str) -> list[dict[str, Any]]:
        """
        One source of segments, read through the gate for advertising.

        Raises:
            RefusedError: ``source_not_allowed`` when the catalog's ``segment_sources`` does
                not name the data type; the gate's own reason (``source_refused`` for cloud
                and pay, a switch, an undeclared purpose) otherwise.
        """
        if data_type not in self.segment_types:
            raise RefusedError(
                f"segments are built only from {', '.join(sorted(self.segment_types))} "
                "(promise advertisement.segment_sources)",
                code=SOURCE_NOT_ALLOWED,
                field="data_type",
            )
        records = self.gate.read(
            subject_id,
            service=service,
            purpose=Purpose.ADVERTISING,
            data_type=data_type,
            actor=ACTOR,
        )
        return [r.value for r in records if isinstance(r.value, dict)]

    def _current_segments(self, subject_id: str) -> dict[str, str]:
        """Segment → record id, read through the gate (refused when personalized ads are off)."""
        records = self.gate.read(
            subject_id,
            service=SERVICE,
            purpose=Purpose.ADVERTISING,
            data_type=SEGMENT_TYPE,
            actor=ACTOR,
        )
        return {
            str(r.value.get("segment")): r.id
            for r in records
            if r.source == SEGMENT_SOURCE and isinstance(r.value, dict)
        }

    def refresh(self, subject_id: str) -> dict[str, int]:
        """
        Rebuild the person's segments from app usage and ad interactions.

        Raises:
            RefusedError: the gate refused (personalized ads off): nothing was read or written.
        """
        old = self._current_segments(subject_id)  # the gate checks Personalized Ads here first
        try:
            usage = self.read_source(subject_id, "app_usage_data", "app_usage_data")
        except RefusedError:
            usage = []  # Usage and Diagnostics off: no usage, ad interactions only
        clicks = [
            v
            for v in self.read_source(subject_id, SERVICE, INTERACTION_TYPE)
            if v.get("kind") == "click"
        ]
        built = seg.build(usage, clicks)
        self.gate.delete_records(
            subject_id, list(old.values()), service=SERVICE, actor=ACTOR, why="segments rebuilt"
        )
        if built:
            self.gate.collect(
                [
                    Event(
                        subject_id,
                        SERVICE,
                        SEGMENT_TYPE,
                        Purpose.ADVERTISING,
                        {"segment": s, "signals": n, "from": sorted(self.segment_types)},
                        source=SEGMENT_SOURCE,
                    )
                    for s, n in built.items()
                ],
                actor=ACTOR,
                service=SERVICE,
            )
        return built

    def record_interaction(self, subject_id: str, ad: str, kind: str) -> bool:
        """Record how the person interacted with an ad (under the gate's rules); True if kept."""
        if kind not in ("view", "click"):
            raise InputError("kind must be view or click", field="kind")
        segment = next((s for s, ads in seg.ADS.items() if ad in ads), None)
        result = self.gate.collect(
            [
                Event(
                    subject_id,
                    SERVICE,
                    INTERACTION_TYPE,
                    Purpose.ADVERTISING,
                    {"kind": kind, "ad": ad, "segment": segment},
                    source="ad_interaction",
                )
            ],
            actor=ACTOR,
            service=SERVICE,
        )
        return result.items[0].accepted

    # -- decisions -------------------------------------------------------------------------

    def decide(self, subject_id: str, ad_id: str, slot: str) -> AdChoice:
        """
        Choose an ad for a request from the person's device, and say why.

        The segments are read once, through the gate's purpose-on-read decision (refused, and
        the refusal audited, when "Personalized Ads" is off), in a read-only snapshot; the
        read's audit entry is durable before the answer is given, group-committed with those
        of concurrent requests (:class:`~charter.gate.grouped.GroupAudit`), so requests share
        one commit instead of queueing for one each.
        """
        self.check_id(subject_id, ad_id)
        got = read_grouped(
            self.gate,
            self.audit,
            [subject_id],
            service=SERVICE,
            purpose=Purpose.ADVERTISING,
            data_type=SEGMENT_TYPE,
            actor=ACTOR,
        )
        if subject_id not in got.records:
            reason = got.refused.get(subject_id, "subject_not_active")
            return AdChoice(_general(slot), False, f"non-personalized: {reason}")
        current = {
            str(r.value.get("segment"))
            for r in got.records[subject_id]
            if r.source == SEGMENT_SOURCE and isinstance(r.value, dict)
        }
        return choose(current, slot)

    # -- the person's view -----------------------------------------------------------------

    def my_segments(self, subject_id: str) -> list[dict[str, Any]]:
        """The person's own segments (their own view: no purpose applies)."""
        subject = self.gate.subjects.active(subject_id)
        page = page_items(
            self.gate, subject, service=SERVICE, data_type=SEGMENT_TYPE, limit=100, actor="subject"
        )
        return [
            {"id": i.id, "segment": i.value.get("segment"), "signals": i.value.get("signals")}
            for i in page.items
            if i.source == SEGMENT_SOURCE and isinstance(i.value, dict)
        ]

    def delete_segments(self, subject_id: str, ids: list[str] | None = None) -> int:
        """Delete some (or all) of the person's segments; returns how many went."""
        mine = {s["id"] for s in self.my_segments(subject_id)}
        chosen = mine if ids is None else mine & set(ids)
        return self.gate.delete_records(
            subject_id, sorted(chosen), service=SERVICE, actor="subject", why="segment deleted"
        )


def choose(segments: Iterable[str], slot: str) -> AdChoice:
    """The ad for ``slot`` given the person's segments (pure: no I/O)."""
    names = sorted(segments)
    if not names:
        return AdChoice(_general(slot), False, "non-personalized: no segment")
    best = names[_pick(slot, len(names))]
    ads = seg.ADS.get(best, seg.NON_PERSONALIZED)
    return AdChoice(ads[_pick(slot, len(ads))], True, f"segment {best}", best)


def _pick(slot: str, n: int) -> int:
    return int.from_bytes(hashlib.sha256(slot.encode("utf-8")).digest()[:4], "big") % n


def _general(slot: str) -> str:
    return seg.NON_PERSONALIZED[_pick(slot, len(seg.NON_PERSONALIZED))]
