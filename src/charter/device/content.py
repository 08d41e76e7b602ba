"""
The device's side of the content services' device rules:

- :class:`ShortVideo` (``video.short_video_hashed_gaid``): Mi Video hands a short-video
  partner (the catalog's recipients) the advertising ID only as the server's keyed hash for
  that partner. The per-partner keys stay at the server (``/v1/ads/partner-id``: a device
  never holds a key that would let it, or whoever takes it apart, join two partners' IDs);
  the device keeps its raw advertising ID in its encrypted space and never lets it into a
  partner's payload: no hash from the server (offline, refused) means nothing is handed over.
- :class:`Wallpapers` (``themes.first_run_personalization_choice``): the first visit to the
  Wallpapers home page shows the personalised-recommendations choice with the terms and
  privacy policy, and records the answer as consent through the server
  (``/v1/themes/first-run``); once answered it is never asked again (the server's record,
  and the device's own note of it); recommendations then follow the choice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from charter.client import ApiError, Transport
from charter.device.db import Connection, set_setting, setting
from charter.errors import InputError, RefusedError

PARTNERS = ("YouTube", "Facebook", "Instagram", "Twitter")
"""The short-video partners the catalog names (``video.short_video_hashed_gaid``)."""
HASHED = re.compile(r"^[0-9a-f]{64}$")

Handoff = Callable[[dict[str, str]], None]
"""Where a partner payload goes (the partner's SDK, out of the device)."""


class ShortVideo:
    """Mi Video's advertising ID and what short-video partners receive of it."""

    def __init__(self, transport: Transport, conn: Connection, device_id: str) -> None:
        self.transport = transport
        self.conn = conn
        self.device_id = device_id

    def ad_id(self) -> str:
        """This device's advertising ID (asked of the server once, kept encrypted here)."""
        found = setting(self.conn, "ad_id")
        if found:
            return found
        return self.reset_ad_id()

    def reset_ad_id(self) -> str:
        """A new advertising ID (the old one becomes unlinkable; partner hashes change)."""
        made = self.transport.request("POST", "/v1/ads/id", json={"device": self.device_id})
        ad_id = str(made.json()["ad_id"])
        set_setting(self.conn, "ad_id", ad_id)
        self.conn.execute("delete from settings where key like 'ad_partner.%'")
        return ad_id

    def partner_id(self, partner: str) -> str:
        """
        The advertising ID as ``partner`` may receive it: the server's keyed hash for that
        partner (kept here for the current ID).

        Raises:
            InputError: not a partner the catalog names.
            RefusedError: ``partner_hash_unavailable``: the server gave no proper hash (the
                raw ID is never used instead).
        """
        if partner not in PARTNERS:
            raise InputError(f"partner is one of: {', '.join(PARTNERS)}", field="partner")
        cached = setting(self.conn, f"ad_partner.{partner}")
        if cached:
            return cached
        ad_id = self.ad_id()
        try:
            answer = self.transport.request(
                "POST", "/v1/ads/partner-id", json={"ad_id": ad_id, "partner": partner}
            ).json()
        except ApiError as error:
            raise RefusedError(
                f"the server gave no hashed advertising ID for {partner} ({error.code}); "
                "nothing is handed to the partner",
                code="partner_hash_unavailable",
            ) from None
        hashed = str(answer.get("hashed_ad_id", ""))
        if not HASHED.match(hashed) or ad_id in hashed:
            raise RefusedError(
                "the server's answer is not a keyed hash; nothing is handed to the partner",
                code="partner_hash_unavailable",
            )
        set_setting(self.conn, f"ad_partner.{partner}", hashed)
        return hashed

    def hand_to(self, partner: str, handoff: Handoff) -> dict[str, str]:
        """
        Give a short-video partner what it may have of this device: its per-partner hashed
        advertising ID. The payload is checked not to hold the raw ID before it leaves.

        Raises:
            InputError, RefusedError: as :meth:`partner_id` (nothing handed over).
        """
        payload = {"partner": partner, "advertising_id": self.partner_id(partner)}
        raw = setting(self.conn, "ad_id") or ""
        if not raw or raw in json.dumps(payload) or raw.replace("-", "") in json.dumps(payload):
            raise RefusedError("the raw advertising ID never leaves", code="raw_ad_id")
        handoff(payload)
        return payload


@dataclass(frozen=True, slots=True)
class Choice:
    """What the first visit shows: the question with the terms and privacy policy."""

    question: str
    terms: str
    policy_version: int


@dataclass(frozen=True, slots=True)
class Answer:
    """The person's answer to the first-run choice."""

    accept_terms: bool
    personalized: bool


Ask = Callable[[Choice], Answer]
"""Shows the choice to the person and returns their answer."""

QUESTION = (
    "Get personalised theme and wallpaper recommendations based on what you view, "
    "favourite and download? You can change this later in Themes' settings."
)


@dataclass(frozen=True, slots=True)
class HomePage:
    """The Wallpapers home page as shown: whether the choice was asked now, and the
    recommendations (personal only when the choice allows)."""

    asked_now: bool
    personalized: bool
    recommendations: list[dict[str, Any]]


class Wallpapers:
    """The Themes app's Wallpapers home page on the device."""

    def __init__(self, transport: Transport, conn: Connection) -> None:
        self.transport = transport
        self.conn = conn

    def answered(self) -> bool:
        """Whether this device saw the person answer (or the server says they have)."""
        return setting(self.conn, "themes_first_run") == "answered"

    def open_home(self, ask: Ask) -> HomePage:
        """
        Open the Wallpapers home page. On the first visit (no answer recorded at the server)
        the choice is shown, with the terms, through ``ask``, and the answer recorded as
        consent at the server; never again once answered.

        Raises:
            InputError: the person did not accept the terms (nothing recorded; asked again
                at the next visit).
            ApiError: the server refused (its reason).
        """
        asked_now = False
        if not self.answered():
            state = self.transport.request("GET", "/v1/themes/first-run").json()
            if not state["asked"]:
                choice = Choice(QUESTION, str(state["terms"]), int(state["policy_version"]))
                answer = ask(choice)
                if not answer.accept_terms:
                    raise InputError(
                        "Themes needs the terms and privacy policy accepted; personalised "
                        "recommendations stay your choice",
                        field="accept_terms",
                    )
                self.transport.request(
                    "POST",
                    "/v1/themes/first-run",
                    json={"accept_terms": True, "personalized": answer.personalized},
                )
                asked_now = True
            set_setting(self.conn, "themes_first_run", "answered")
        found = self.transport.request("GET", "/v1/themes/recommendations").json()
        return HomePage(asked_now, bool(found["personalized"]), list(found["resources"]))
