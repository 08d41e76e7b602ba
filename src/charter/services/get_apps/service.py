"""
:class:`GetApps`: the catalogue, installs, reviews, recommendations and the Points Mall.

Every operation first asks where the store is offered (:mod:`charter.services.offering`):
only in the catalog's markets; personalised recommendations are refused in Spain (promise
``get_apps.recommendations_market_exclusion``) and the Points Mall outside India (promise
``get_apps.points_mall_markets``), each with the reason ``market_unavailable`` and the
promise in the message, as the gate's own policy refuses the data behind them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import insert, update

from charter.errors import InputError, RefusedError
from charter.gate import Event
from charter.policy import SubjectKind
from charter.services.get_apps.apps import APPS, PRIZES, App, app
from charter.services.get_apps.reviews import Review, ReviewPage, Reviews
from charter.services.get_apps.tables import installs, points
from charter.services.mirrors import live_rows
from charter.services.offering import purpose_refusal, require_purpose, require_service
from charter.taxonomy import Purpose

if TYPE_CHECKING:
    from charter.gate import Gate

SERVICE = "get_apps"
ACTOR = "service:get_apps"
PERSONALIZATION = "get_apps.personalization"
INSTALL_POINTS = 10
REVIEW_POINTS = 20


@dataclass(frozen=True, slots=True)
class Suggestions:
    """Suggested apps, and whether they were personalised."""

    personalized: bool
    apps: tuple[App, ...]


@dataclass(frozen=True, slots=True)
class Points:
    """A Points Mall balance."""

    balance: int
    prizes: dict[str, int]


class GetApps:
    """The app store of a deployment."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.compiled = gate.compiled
        self.control = gate.stores.control()
        self.clock = gate.clock
        self.reviews = Reviews(gate, self.control)

    # -- markets ----------------------------------------------------------------------------

    def market_of(self, subject_id: str) -> str:
        """A subject's market, refused (``market_unavailable``) where the store is not."""
        market = self.gate.subject(subject_id).market
        require_service(self.compiled, SERVICE, market)
        return market

    def personalization_offered(self, market: str) -> bool:
        """Whether personalised recommendations exist in ``market`` (not in Spain)."""
        return (
            purpose_refusal(self.compiled, SERVICE, market, purpose=Purpose.PERSONALIZATION) is None
        )

    def points_offered(self, market: str) -> bool:
        """Whether the Points Mall exists in ``market`` (India only)."""
        return (
            purpose_refusal(
                self.compiled,
                SERVICE,
                market,
                purpose=Purpose.APP_FUNCTIONALITY,
                data_type="points_redeem_records",
            )
            is None
        )

    # -- catalogue and installs -------------------------------------------------------------

    def catalogue(self, market: str, category: str | None = None) -> list[App]:
        """The apps offered in ``market`` (optionally of one category)."""
        require_service(self.compiled, SERVICE, market)
        return [a for a in APPS if category is None or a.category == category]

    def install(self, subject_id: str, app_id: str) -> App:
        """
        Record an install (the app list, for finding updates); in India it earns points.

        Raises:
            RefusedError: ``market_unavailable`` or the gate's reason (no authorization).
        """
        self.market_of(subject_id)
        found = app(app_id)
        if found.id in {a.id for a in self.installed(subject_id)}:
            return found
        result = self.gate.collect(
            [
                Event(
                    subject_id,
                    SERVICE,
                    "app_list",
                    Purpose.APP_FUNCTIONALITY,
                    {"app": found.id, "event": "install"},
                )
            ],
            actor=ACTOR,
        ).items[0]
        if not result.accepted or result.record_id is None:
            raise RefusedError(result.message, code=result.reason)
        with self.control.begin() as conn:
            conn.execute(
                insert(installs).values(
                    subject_id=subject_id,
                    app_id=found.id,
                    record_id=result.record_id,
                    installed_at=self.clock(),
                )
            )
        return found

    def installed(self, subject_id: str) -> list[App]:
        """The apps a person installed through the store, oldest first (while the gate
        holds their install records)."""
        rows = live_rows(
            self.gate,
            self.control,
            installs,
            subject_id,
            service=SERVICE,
            data_type="app_list",
            order_by=installs.c.installed_at,
        )
        return [app(r.app_id) for r in rows]

    # -- reviews ----------------------------------------------------------------------------

    def review(
        self, subject_id: str, app_id: str, *, rating: int, text: str, nickname: str
    ) -> Review:
        """
        Publish a review (a signed-in account only).

        Raises:
            RefusedError: ``login_required``, ``market_unavailable`` or the gate's reason.
        """
        if self.gate.subject(subject_id).kind is not SubjectKind.ACCOUNT:
            raise RefusedError("a review needs a signed-in account", code="login_required")
        self.market_of(subject_id)
        found = self.reviews.write(subject_id, app_id, rating=rating, text=text, nickname=nickname)
        return found

    def review_page(
        self, app_id: str, market: str, *, viewer: str | None, cursor: str | None = None
    ) -> ReviewPage:
        """One page of an app's reviews as ``viewer`` (or no one signed in) sees them."""
        require_service(self.compiled, SERVICE, market)
        return self.reviews.page(app_id, viewer=viewer, cursor=cursor)

    # -- recommendations --------------------------------------------------------------------

    def recommendations(self, subject_id: str, *, limit: int = 4) -> Suggestions:
        """
        Apps suggested to a person: personalised from their installs while their switch is
        on, otherwise the catalogue's first apps.

        Raises:
            RefusedError: ``market_unavailable``: personalised recommendations are not
                offered in the person's market (Spain), or the store is not.
        """
        market = self.market_of(subject_id)
        require_purpose(self.compiled, SERVICE, market, purpose=Purpose.PERSONALIZATION)
        mine = {a.id for a in self.installed(subject_id)}
        fresh = [a for a in APPS if a.id not in mine]
        if not self.gate.switches(subject_id).get(PERSONALIZATION, False):
            return Suggestions(False, tuple(fresh[:limit]))
        try:
            records = self.gate.read(
                subject_id,
                service=SERVICE,
                purpose=Purpose.PERSONALIZATION,
                data_type="app_list",
                actor=ACTOR,
            )
        except RefusedError:
            return Suggestions(False, tuple(fresh[:limit]))
        liked: dict[str, int] = {}
        for rec in records:
            value = rec.value if isinstance(rec.value, dict) else {}
            found = value.get("app")
            if isinstance(found, str) and found in {a.id for a in APPS}:
                category = app(found).category
                liked[category] = liked.get(category, 0) + 1
        ranked = sorted(fresh, key=lambda a: (-liked.get(a.category, 0), a.id))
        return Suggestions(bool(liked), tuple(ranked[:limit]))

    def set_personalization(self, subject_id: str, on: bool) -> bool:
        """
        Switch personalised recommendations on or off.

        Raises:
            RefusedError: ``market_unavailable`` in a market without them (Spain).
        """
        market = self.market_of(subject_id)
        require_purpose(self.compiled, SERVICE, market, purpose=Purpose.PERSONALIZATION)
        self.gate.set_switches(
            subject_id, {PERSONALIZATION: on}, source="get_apps", actor="subject"
        )
        return on

    # -- the Points Mall --------------------------------------------------------------------

    def _require_points(self, subject_id: str) -> str:
        market = self.market_of(subject_id)
        require_purpose(
            self.compiled,
            SERVICE,
            market,
            purpose=Purpose.APP_FUNCTIONALITY,
            data_type="points_redeem_records",
        )
        return market

    def _balance(self, subject_id: str) -> int:
        """Points earned by the installs and reviews the gate holds, less those exchanged:
        what the person withdraws or erases takes its points with it."""
        try:
            records = self.gate.read(
                subject_id, service=SERVICE, purpose=Purpose.APP_FUNCTIONALITY, actor=ACTOR
            )
        except RefusedError:
            return 0
        balance = 0
        for rec in records:
            value = rec.value if isinstance(rec.value, dict) else {}
            if rec.data_type == "app_list":
                balance += INSTALL_POINTS
            elif rec.data_type == "comments":
                balance += REVIEW_POINTS
            elif rec.data_type == "points_redeem_records":
                balance -= int(value.get("points", 0))
        return max(balance, 0)

    def points(self, subject_id: str) -> Points:
        """
        A person's points and the prizes.

        Raises:
            RefusedError: ``market_unavailable`` outside India.
        """
        self._require_points(subject_id)
        return Points(self._balance(subject_id), dict(PRIZES))

    def redeem(self, subject_id: str, prize: str) -> Points:
        """
        Exchange points for a prize; the exchange is kept (a gate record). Exchanges of one
        person take turns (a lock row), so points are never spent twice.

        Raises:
            InputError: unknown prize.
            RefusedError: ``market_unavailable`` outside India, ``not_enough_points``, or the
                gate's reason.
        """
        self._require_points(subject_id)
        cost = PRIZES.get(prize)
        if cost is None:
            raise InputError(f"prize is one of: {', '.join(PRIZES)}", field="prize")
        now = self.clock()
        p = points.c
        with self.control.begin() as conn:
            held = conn.execute(
                update(points).where(p.subject_id == subject_id).values(updated_at=now)
            ).rowcount
            if not held:
                conn.execute(insert(points).values(subject_id=subject_id, updated_at=now))
            balance = self._balance(subject_id)
            if balance < cost:
                raise RefusedError(
                    f"{prize} costs {cost} points and {balance} are left; earn more first",
                    code="not_enough_points",
                )
            result = self.gate.collect(
                [
                    Event(
                        subject_id,
                        SERVICE,
                        "points_redeem_records",
                        Purpose.APP_FUNCTIONALITY,
                        {"prize": prize, "points": cost},
                    )
                ],
                actor=ACTOR,
            ).items[0]
            if not result.accepted:
                raise RefusedError(result.message, code=result.reason)
        return self.points(subject_id)
