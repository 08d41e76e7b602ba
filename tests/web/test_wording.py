"""
Wording of the Privacy Center (issue 11): no internal notes, no "never stored; kept n/A",
no unexplained "GAID", in-app instructions marked as such and tied to the switch that does
the same here; and after a withdrawal a service's secondary switches read Off (and cannot be
turned on until the service is in use again).
"""

from __future__ import annotations

import re

from test_pages import post
from web_support import Deployment, TestClient

from support.wording import internal_notes


def _card(html: str, service: str) -> str:
    return html.split(f'id="service-{service}"')[1].split("</article>", maxsplit=1)[0]


def _switch(card: str, key: str) -> tuple[str, bool]:
    button = re.search(rf'<button[^>]*data-key="{re.escape(key)}"[^>]*>', card)
    assert button, key
    checked = re.search(r'aria-checked="(true|false)"', button.group(0))
    assert checked
    return checked.group(1), " disabled" in button.group(0)


def test_pages_speak_plainly(deployment: Deployment, user_client: TestClient) -> None:
    catalog = deployment.charter.catalog
    pages = ["/", "/requests", "/devices", "/policies/general"]
    market = deployment.charter.gate.subject(deployment.demo.user.account_id or "").market
    scopes = set(deployment.charter.rights.consents.policies.scopes())
    pages += [f"/policies/{s.id}" for s in catalog if s.markets.includes(market) and s.id in scopes]
    for page in pages:
        response = user_client.get(page)
        assert response.status_code == 200, page
        text = response.text
        assert internal_notes(text) == [], page
        assert "kept n/A" not in text and "never stored; kept" not in text, page
        bare = re.findall(r"(?<![(>])\bGAID\b(?!\))", text)
        if bare:  # a policy text using the abbreviation explains it on the same page
            assert "<abbr" in text and "Google advertising ID" in text, page
    home = user_client.get("/").text
    assert "Google advertising ID (GAID)" in home


def test_in_app_instructions_name_the_switch_here(user_client: TestClient) -> None:
    card = _card(user_client.get("/").text, "themes")
    note = re.search(r'<p class="help in-app">(.*?)</p>', card, re.S)
    assert note, "the in-app instructions are marked as such"
    assert "In the app itself:" in note.group(1)
    assert "the same choice is the “Use this service” switch" in note.group(1)


def test_after_withdrawal_secondary_switches_read_off(
    deployment: Deployment, user_client: TestClient
) -> None:
    before = _card(user_client.get("/").text, "themes")
    assert _switch(before, "themes.authorization") == ("true", False)
    post(user_client, "/services/themes/withdraw", {"confirm": "yes"})
    card = _card(user_client.get("/").text, "themes")
    assert _switch(card, "themes.authorization") == ("false", False)
    assert _switch(card, "themes.personalization") == ("false", True)
    assert _switch(card, "themes.ads") == ("false", True)
    assert ">On<" not in card.split("In the app itself")[0].replace(" ", "")
    assert "Off while “Use this service” is off." in card
