"""
Consent records (G3): consent to the current policy version, kept as proof, and the
re-consent check after a material change.

A consent record says who (the subject), which policy (scope, version and SHA-256 of its
text), which declarations of the service (a snapshot digest of its catalog entry), when and
how (``privacy_center``, ``device_first_run``, ``api``, ``staff``). Records live in the
subject's region beside its switch history and are erased with the account.

:meth:`ConsentBook.needs_reconsent` compares the service as consented with the service as
the catalog declares it now, with :func:`charter.catalog.diff.diff_catalogs`: a new data
type, a new purpose, longer retention, weaker protection or a new third party is material,
and collection must not resume until the person consents again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from sqlalchemy import Connection, bindparam, insert, select, update

from charter.catalog import Catalog
from charter.catalog.diff import Change, diff_catalogs
from charter.catalog.model import Service
from charter.catalog.policies import GENERAL, Policy, PolicyLibrary
from charter.clock import Clock
from charter.errors import InputError
from charter.gate.journal import Journal
from charter.gate.model import Subject
from charter.policy import CompiledCatalog
from charter.store import schema as rt
from charter.store.regions import RegionStores

METHODS = ("privacy_center", "device_first_run", "api", "staff")
"""How a consent can be given."""
_LATEST_CONSENTS = (
    select(
        rt.consents.c.subject_id,
        rt.consents.c.scope,
        rt.consents.c.catalog_digest,
        rt.consents.c.withdrawn_at,
    )
    .where(
        rt.consents.c.subject_id.in_(bindparam("subjects", expanding=True)),
        rt.consents.c.scope.in_(bindparam("scopes", expanding=True)),
    )
    .order_by(rt.consents.c.id)
)
"""Subjects' consent records of some scopes, oldest first (built once: every collect asks)."""


class ConsentStatus(StrEnum):
    """Where a subject stands with one policy scope."""

    NOT_REQUIRED = "not_required"
    MISSING = "missing"
    CURRENT = "current"
    UPDATED = "updated"
    RECONSENT_REQUIRED = "reconsent_required"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One consent, as proof."""

    id: int
    subject_id: str
    scope: str
    version: int
    policy_hash: str
    catalog_digest: str | None
    method: str
    actor: str
    consented_at: int
    withdrawn_at: int | None


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the Privacy Center must tell a person about one scope."""

    scope: str
    status: ConsentStatus
    current_version: int
    consented_version: int | None
    changes: tuple[str, ...]


def canonical(value: object) -> str:
    """Canonical JSON (sorted keys, compact, UTF-8)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def service_digest(service: Service) -> tuple[str, str]:
    """The canonical JSON of a service's declarations and its SHA-256."""
    body = canonical(service.model_dump(mode="json"))
    return hashlib.sha256(body.encode()).hexdigest(), body


class ConsentGate(Protocol):
    """What consent records need of the gate (the :class:`~charter.gate.Gate` provides it)."""

    catalog: Catalog
    compiled: CompiledCatalog
    stores: RegionStores
    clock: Clock
    journal: Journal

    def subject(self, subject_id: str) -> Subject: ...

    def switches(self, subject_id: str) -> dict[str, bool]: ...

    def set_switches(
        self,
        subject_id: str,
        changes: Mapping[str, bool],
        *,
        source: str,
        actor: str,
        skip_unchanged: bool = False,
    ) -> dict[str, bool]: ...


class ConsentBook:
    """Consent records of a deployment, checked against its catalog and policies."""

    def __init__(
        self,
        gate: ConsentGate,
        *,
        catalog: Catalog | None = None,
        policies: PolicyLibrary | None = None,
    ) -> None:
        self.gate = gate
        self.catalog = catalog or gate.catalog
        self.policies = policies or PolicyLibrary(gate.stores.settings.catalog_path)
        self._digests: dict[str, str] = {}

    def _requires(self, scope: str) -> bool:
        if scope == GENERAL:
            return True
        service = self.catalog.services.get(scope)
        return bool(service and service.controls.consent and service.controls.consent.asked)

    def record(
        self, subject_id: str, scope: str, *, method: str, actor: str = "subject"
    ) -> ConsentRecord:
        """
        Record consent to the current policy of ``scope`` (``general`` or a service id) and,
        for a service, turn its authorization switch on.

        Raises:
            InputError: unknown scope or method.
            NotFoundError: no such subject, or the scope has no policy.
        """
        if method not in METHODS:
            raise InputError(
                f"unknown consent method; use one of: {', '.join(METHODS)}", field="method"
            )
        if scope != GENERAL and scope not in self.catalog.services:
            raise InputError("unknown scope; use 'general' or a service id", field="scope")
        gate = self.gate
        subject = gate.subject(subject_id)
        policy = self.policies.current(scope)
        digest = self._snapshot(scope)
        now = gate.clock()
        with gate.stores.region(subject.region).begin() as conn:
            new = conn.execute(
                insert(rt.consents).values(
                    subject_id=subject_id,
                    scope=scope,
                    version=policy.version,
                    policy_hash=policy.content_hash,
                    catalog_digest=digest,
                    method=method,
                    actor=actor,
                    consented_at=now,
                )
            ).inserted_primary_key
            gate.journal.record(
                conn,
                actor,
                "consent",
                subject_id,
                {
                    "scope": scope,
                    "version": policy.version,
                    "policy_hash": policy.content_hash,
                    "method": method,
                },
            )
        key = f"{scope}.authorization"
        if key in self.gate.compiled.defaults and not gate.switches(subject_id).get(key, False):
            gate.set_switches(subject_id, {key: True}, source="consent", actor=actor)
        assert new is not None
        return ConsentRecord(
            int(new.id),
            subject_id,
            scope,
            policy.version,
            policy.content_hash,
            digest,
            method,
            actor,
            now,
            None,
        )

    def _snapshot(self, scope: str) -> str | None:
        service = self.catalog.services.get(scope)
        if service is None:
            return None
        digest, body = service_digest(service)
        s = rt.catalog_snapshots
        with self.gate.stores.control().begin() as conn:
            if conn.execute(select(s.c.digest).where(s.c.digest == digest)).first() is None:
                conn.execute(
                    insert(s).values(
                        digest=digest, service=scope, body=body, created_at=self.gate.clock()
                    )
                )
        return digest

    def withdraw(self, subject_id: str, scope: str) -> int:
        """Mark the subject's consents to ``scope`` withdrawn; returns how many."""
        gate = self.gate
        subject = gate.subject(subject_id)
        c = rt.consents
        with gate.stores.region(subject.region).begin() as conn:
            return (
                conn.execute(
                    update(c)
                    .where(
                        c.c.subject_id == subject_id, c.c.scope == scope, c.c.withdrawn_at.is_(None)
                    )
                    .values(withdrawn_at=gate.clock())
                ).rowcount
                or 0
            )

    def records(self, subject_id: str) -> list[ConsentRecord]:
        """Every consent record of a subject, oldest first."""
        gate = self.gate
        subject = gate.subject(subject_id)
        c = rt.consents
        with gate.stores.region(subject.region).connect().execution_options(readonly=True) as conn:
            rows = conn.execute(
                select(c).where(c.c.subject_id == subject_id).order_by(c.c.id)
            ).all()
        return [
            ConsentRecord(
                r.id,
                r.subject_id,
                r.scope,
                r.version,
                r.policy_hash,
                r.catalog_digest,
                r.method,
                r.actor,
                r.consented_at,
                r.withdrawn_at,
            )
            for r in rows
        ]

    def _consented_service(self, digest: str) -> Service | None:
        s = rt.catalog_snapshots
        with self.gate.stores.control().connect() as conn:
            body = conn.execute(select(s.c.body).where(s.c.digest == digest)).scalar_one_or_none()
        if body is None:
            return None
        data = json.loads(body)
        current = self.catalog.services.get(str(data.get("id")))
        for rule in data.get("rules", ()):
            if "kind" not in rule:
                # A snapshot from before rules had kinds: the kind is new metadata, not a
                # change of the promise, so the current rule of that id lends its own.
                now = current.rule(rule.get("id", "")) if current is not None else None
                extra = (
                    now.model_dump(mode="json", include={"kind", "enforcer", "gate"}, by_alias=True)
                    if now is not None
                    else {"kind": "statement"}
                )
                rule.update({k: v for k, v in extra.items() if v is not None})
        return Service.model_validate(data)

    def material_changes(self, record: ConsentRecord) -> list[Change]:
        """The material changes to a service since the subject consented to it."""
        current = self.catalog.services.get(record.scope)
        if current is None or record.catalog_digest is None:
            return []
        if service_digest(current)[0] == record.catalog_digest:
            return []
        old = self._consented_service(record.catalog_digest)
        if old is None:
            return []
        before = replace(self.catalog, services={record.scope: old})
        after = replace(self.catalog, services={record.scope: current})
        return [c for c in diff_catalogs(before, after) if c.material]

    def status(self, subject_id: str, scope: str) -> Notice:
        """Where the subject stands with ``scope``'s current policy and declarations."""
        policy: Policy = self.policies.current(scope)
        latest = next((r for r in reversed(self.records(subject_id)) if r.scope == scope), None)
        if latest is None:
            state = ConsentStatus.MISSING if self._requires(scope) else ConsentStatus.NOT_REQUIRED
            return Notice(scope, state, policy.version, None, ())
        if latest.withdrawn_at is not None:
            return Notice(scope, ConsentStatus.WITHDRAWN, policy.version, latest.version, ())
        changes = tuple(c.detail for c in self.material_changes(latest))
        if changes:
            return Notice(
                scope, ConsentStatus.RECONSENT_REQUIRED, policy.version, latest.version, changes
            )
        if latest.policy_hash != policy.content_hash:
            return Notice(scope, ConsentStatus.UPDATED, policy.version, latest.version, ())
        return Notice(scope, ConsentStatus.CURRENT, policy.version, latest.version, ())

    def needs_reconsent(self, subject_id: str, service: str) -> bool:
        """
        Whether collection for ``service`` must wait for the subject's (re-)consent: the
        service asks for consent and there is none, or its declarations changed materially
        since the subject consented. Callers of :meth:`Gate.collect` check this first.
        """
        return self.status(subject_id, service).status in (
            ConsentStatus.MISSING,
            ConsentStatus.RECONSENT_REQUIRED,
        )

    def reconsent_guard(
        self, conn: Connection, pairs: Collection[tuple[str, str]]
    ) -> set[tuple[str, str]]:
        """
        The (subject, service) pairs whose collection must wait for re-consent: the subject
        consented to the service, and its declarations changed materially since then.

        Runs inside the gate's collect transaction (one query for the whole batch). A pair
        without any consent record is left to the service's authorization switch.
        """
        if not pairs:
            return set()
        subjects = sorted({p[0] for p in pairs})
        scopes = sorted({p[1] for p in pairs})
        latest: dict[tuple[str, str], tuple[str | None, bool]] = {}
        rows = conn.execute(_LATEST_CONSENTS, {"subjects": subjects, "scopes": scopes})
        for row in rows:
            latest[(row.subject_id, row.scope)] = (row.catalog_digest, row.withdrawn_at is not None)
        blocked: set[tuple[str, str]] = set()
        for pair in pairs:
            found = latest.get(pair)
            if found is None or found[1] or found[0] is None:
                continue
            digest = self._current_digest(pair[1])
            if (
                digest is not None
                and digest != found[0]
                and self._material_since(pair[1], found[0])
            ):
                blocked.add(pair)
        return blocked

    def _current_digest(self, scope: str) -> str | None:
        cached = self._digests.get(scope)
        if cached is None:
            service = self.catalog.services.get(scope)
            if service is None:
                return None
            cached = self._digests[scope] = service_digest(service)[0]
        return cached

    def _material_since(self, scope: str, digest: str) -> bool:
        old = self._consented_service(digest)
        current = self.catalog.services.get(scope)
        if old is None or current is None:
            return False
        before = replace(self.catalog, services={scope: old})
        after = replace(self.catalog, services={scope: current})
        return any(c.material for c in diff_catalogs(before, after))

    def notices(self, subject_id: str) -> list[Notice]:
        """Every scope whose policy the subject must see: missing, updated or re-consent."""
        out = []
        for scope in self.policies.scopes():
            if scope != GENERAL and scope not in self.catalog.services:
                continue
            notice = self.status(subject_id, scope)
            if notice.status in (
                ConsentStatus.MISSING,
                ConsentStatus.UPDATED,
                ConsentStatus.RECONSENT_REQUIRED,
            ):
                out.append(notice)
        return out
