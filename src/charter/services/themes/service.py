"""
:class:`Themes`: browse, favourite, purchase, the first-run choice and recommendations.

- **Markets**: every operation first asks where the service is offered
  (:mod:`charter.services.offering`): the catalog offers it everywhere except the markets the
  deployment names for ``themes.market_exclusion`` (``CHARTER_RULE_MARKETS``).
- **First run**: the first visit to the wallpapers home page asks, with the terms, whether the
  person wants personalised recommendations. The answer is recorded as consent to the
  service's policy (method ``device_first_run``, which turns its authorization on) and as the
  ``themes.personalization`` switch.
- **Favourites** need a signed-in account (promise ``themes.favorites_require_login``).
- **Recommendations** are personal only when the choice allows them: then they read the
  person's favourites, downloads and viewed resources through the gate for personalization;
  otherwise they rank by the aggregate page views, which hold nothing of anyone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select

from charter.errors import InputError, RefusedError
from charter.gate import Event
from charter.policy import SubjectKind
from charter.services.aggregates import Aggregates, Report
from charter.services.mirrors import live_rows
from charter.services.offering import require_service
from charter.services.themes.resources import RESOURCES, Resource, resource
from charter.services.themes.tables import favorites, purchases
from charter.taxonomy import Purpose

if TYPE_CHECKING:
    from charter.gate import Gate

SERVICE = "themes"
ACTOR = "service:themes"
PERSONALIZATION = "themes.personalization"
AUTHORIZATION = "themes.authorization"
KINDS = ("theme", "wallpaper", "ringtone", "font")
ANALYTICS_KINDS = ("product_interaction", "crash_data")
PERSONAL_TYPES = ("favorite_resource_list", "resource_download_record", "product_interaction")


@dataclass(frozen=True, slots=True)
class FirstRun:
    """Where a person stands with the first-run choice."""

    asked: bool
    """Whether the person has answered (a consent record of ``themes`` exists)."""
    personalized: bool
    """Their current answer (the ``themes.personalization`` switch)."""
    policy_version: int


@dataclass(frozen=True, slots=True)
class Recommendations:
    """Suggested resources and what they were drawn from."""

    personalized: bool
    resources: tuple[Resource, ...]
    basis: tuple[str, ...]
    """The data types used (empty: aggregate page views only)."""


class Themes:
    """The themes store of a deployment."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.compiled = gate.compiled
        self.control = gate.stores.control()
        self.clock = gate.clock
        self.analytics = Aggregates(gate, SERVICE, ANALYTICS_KINDS, decide="uxp", release_floor=1)

    # -- markets and people -----------------------------------------------------------------

    def require_market(self, market: str) -> None:
        """Refuse (``market_unavailable``) where the service is not offered."""
        require_service(self.compiled, SERVICE, market)

    def require_account(self, subject_id: str | None) -> str:
        """
        The subject when it is a signed-in account (promise ``themes.favorites_require_login``).

        Raises:
            RefusedError: ``login_required``: no one signed in, or a pseudonymous subject.
        """
        if subject_id is None or self.gate.subject(subject_id).kind is not SubjectKind.ACCOUNT:
            raise RefusedError(
                "favourites and purchases need a signed-in account; sign in first",
                code="login_required",
            )
        self.require_market(self.gate.subject(subject_id).market)
        return subject_id

    # -- browsing ---------------------------------------------------------------------------

    def browse(self, market: str, kind: str | None = None) -> list[Resource]:
        """
        The store's resources offered in ``market`` (optionally of one kind).

        Raises:
            InputError: unknown kind.
            RefusedError: ``market_unavailable``.
        """
        self.require_market(market)
        if kind is not None and kind not in KINDS:
            raise InputError(f"kind is one of: {', '.join(KINDS)}", field="kind")
        return [r for r in RESOURCES if kind is None or r.kind == kind]

    def view(self, resource_id: str, market: str, subject_id: str | None = None) -> Resource:
        """
        One resource. The view is counted in aggregate (when the person's User Experience
        Program switch allows) and, when their choice allows personalization, kept as
        interaction for their recommendations (the gate decides).
        """
        self.require_market(market)
        found = resource(resource_id)
        switches = self.gate.switches(subject_id) if subject_id else {}
        self.analytics.add(
            subject_id, [Report("product_interaction", f"resource_{found.id}", "page_view")]
        )
        if subject_id is not None and switches.get(PERSONALIZATION, False):
            self.gate.collect(
                [
                    Event(
                        subject_id,
                        SERVICE,
                        "product_interaction",
                        Purpose.PERSONALIZATION,
                        {"resource": found.id, "action": "view"},
                        source="resource_page",
                    )
                ],
                actor=ACTOR,
            )
        return found

    # -- the first-run choice ---------------------------------------------------------------

    def first_run(self, subject_id: str) -> FirstRun:
        """Whether the person has answered the first-run choice, and how."""
        records = [r for r in self.gate.consents.records(subject_id) if r.scope == SERVICE]
        asked = any(r.method == "device_first_run" for r in records)
        switches = self.gate.switches(subject_id)
        version = self.gate.consents.policies.current(SERVICE).version
        return FirstRun(asked, asked and bool(switches.get(PERSONALIZATION)), version)

    def choose(self, subject_id: str, *, personalized: bool, accept_terms: bool) -> FirstRun:
        """
        Record the first-run answer: consent to the terms (turning the service's authorization
        on) and the personalised-recommendations choice.

        Raises:
            InputError: the terms not accepted (nothing is recorded).
        """
        if not accept_terms:
            raise InputError(
                "accept the terms and privacy policy to use Themes; personalised "
                "recommendations stay your choice",
                field="accept_terms",
            )
        self.require_market(self.gate.subject(subject_id).market)
        self.gate.consents.record(subject_id, SERVICE, method="device_first_run")
        self.gate.set_switches(
            subject_id, {PERSONALIZATION: personalized}, source="device_first_run", actor="subject"
        )
        return self.first_run(subject_id)

    # -- favourites and purchases -----------------------------------------------------------

    def _collect(self, subject_id: str, data_type: str, value: object) -> str:
        found = self.gate.collect(
            [Event(subject_id, SERVICE, data_type, Purpose.APP_FUNCTIONALITY, value)],
            actor=ACTOR,
        ).items[0]
        if not found.accepted or found.record_id is None:
            raise RefusedError(found.message, code=found.reason)
        return found.record_id

    def favorite(self, subject_id: str | None, resource_id: str) -> Resource:
        """
        Add a resource to a signed-in person's favourites (again: nothing changes).

        Raises:
            RefusedError: ``login_required``; or the gate's reason (no authorization yet).
        """
        sid = self.require_account(subject_id)
        found = resource(resource_id)
        if found.id in {r.id for r in self.favorites(sid)}:
            return found
        record_id = self._collect(sid, "favorite_resource_list", {"resource": found.id})
        with self.control.begin() as conn:
            conn.execute(
                insert(favorites).values(
                    subject_id=sid,
                    resource_id=found.id,
                    record_id=record_id,
                    created_at=self.clock(),
                )
            )
        return found

    def unfavorite(self, subject_id: str | None, resource_id: str) -> bool:
        """Remove a favourite (its gate record goes); returns whether there was one."""
        sid = self.require_account(subject_id)
        f = favorites.c
        with self.control.begin() as conn:
            row = conn.execute(
                select(f.record_id).where(f.subject_id == sid, f.resource_id == resource_id)
            ).first()
            if row is None:
                return False
            conn.execute(delete(favorites).where(f.subject_id == sid, f.resource_id == resource_id))
        self.gate.delete_records(
            sid, [row.record_id], service=SERVICE, actor=ACTOR, why="unfavourite"
        )
        return True

    def favorites(self, subject_id: str | None) -> list[Resource]:
        """A signed-in person's favourites, oldest first (those the gate still holds)."""
        sid = self.require_account(subject_id)
        rows = live_rows(
            self.gate,
            self.control,
            favorites,
            sid,
            service=SERVICE,
            data_type="favorite_resource_list",
            order_by=favorites.c.created_at,
        )
        return [resource(r.resource_id) for r in rows]

    def purchase(self, subject_id: str | None, resource_id: str) -> Resource:
        """
        Buy (or, when free, download) a resource; the download is recorded against the account.

        Raises:
            RefusedError: ``login_required``; or the gate's reason.
        """
        sid = self.require_account(subject_id)
        found = resource(resource_id)
        if found.id in {r.id for r in self.purchases(sid)}:
            return found
        record_id = self._collect(sid, "resource_download_record", {"resource": found.id})
        with self.control.begin() as conn:
            conn.execute(
                insert(purchases).values(
                    subject_id=sid,
                    resource_id=found.id,
                    record_id=record_id,
                    price_cents=found.price_cents,
                    purchased_at=self.clock(),
                )
            )
        return found

    def purchases(self, subject_id: str | None) -> list[Resource]:
        """What a signed-in person bought or downloaded, oldest first."""
        sid = self.require_account(subject_id)
        rows = live_rows(
            self.gate,
            self.control,
            purchases,
            sid,
            service=SERVICE,
            data_type="resource_download_record",
            order_by=purchases.c.purchased_at,
        )
        return [resource(r.resource_id) for r in rows]

    # -- recommendations --------------------------------------------------------------------

    def recommendations(
        self, market: str, subject_id: str | None = None, *, limit: int = 4
    ) -> Recommendations:
        """
        Suggested resources: personal only when the person's first-run choice (and the
        switch since) allows personalization, drawn from what the gate lets personalization
        read; otherwise by aggregate page views.
        """
        self.require_market(market)
        popular = self.analytics.popular()
        ranked = sorted(RESOURCES, key=lambda r: (-popular.get(f"resource_{r.id}", 0), r.id))
        if subject_id is None or not self.first_run(subject_id).personalized:
            return Recommendations(False, tuple(ranked[:limit]), ())
        records = self.gate.read(
            subject_id, service=SERVICE, purpose=Purpose.PERSONALIZATION, actor=ACTOR
        )
        weights: Counter[str] = Counter()
        seen: set[str] = set()
        basis: set[str] = set()
        for rec in records:
            value = rec.value if isinstance(rec.value, dict) else {}
            found = value.get("resource")
            if rec.data_type not in PERSONAL_TYPES or not isinstance(found, str):
                continue
            basis.add(rec.data_type)
            seen.add(found)
            for tag in resource(found).tags if found in {r.id for r in RESOURCES} else ():
                weights[tag] += 1
        if not weights:
            return Recommendations(True, tuple(ranked[:limit]), ())
        fresh = [r for r in ranked if r.id not in seen]
        chosen = sorted(fresh, key=lambda r: -sum(weights[t] for t in r.tags))[:limit]
        return Recommendations(True, tuple(chosen), tuple(sorted(basis)))
