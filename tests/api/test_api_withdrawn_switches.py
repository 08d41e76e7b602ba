"""
After a withdrawal a service's secondary switches read off over the API (issue 11: the
Privacy Center and ``GET .../switches`` still said "On" for personalization and ads).
"""

from __future__ import annotations

from api_support import Api

from charter.gate.switches import effective


def test_secondary_switches_read_off_after_withdrawal(api: Api) -> None:
    themes = api.key("themes")
    sid = api.subject(themes)
    user = api.token(sid)
    on = api.switch(
        sid,
        {"themes.authorization": True, "themes.personalization": True, "themes.ads": True},
        user,
    )["switches"]
    assert on["themes.personalization"] is True and on["themes.ads"] is True
    withdrawn = api.client.post("/v1/me/withdrawals", json={"service": "themes"}, headers=user)
    assert withdrawn.status_code == 200, withdrawn.text
    read = api.client.get(f"/v1/subjects/{sid}/switches", headers=user).json()["switches"]
    assert read["themes.authorization"] is False
    assert read["themes.personalization"] is False
    assert read["themes.ads"] is False
    assert read["system.personalized_ads"] is True  # system switches are not a service's
    again = api.switch(sid, {"themes.authorization": True}, user)["switches"]
    assert again["themes.personalization"] is True  # as the person set it, once in use again


def test_effective_values() -> None:
    values = {
        "a.authorization": False,
        "a.ads": True,
        "b.authorization": True,
        "b.ads": True,
        "c.ads": True,  # no authorization switch: as set
        "system.personalized_ads": True,
    }
    assert effective(values) == {**values, "a.ads": False}
