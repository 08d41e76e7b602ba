"""
The Mi Video and Mi Pay clients (``charter.client``) against the real HTTP API, on SQLite and
PostgreSQL: the clients speak HTTP only, and a refusal reaches the device as an
:class:`~charter.client.ApiError` with the reason code the API sent.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from charter.app import Charter
from charter.client import ApiError, PayClient, Transport, VideoClient
from charter.client.video import Measure, VideoEvent
from charter.services.pay.bank import luhn_ok
from support.content_services import TestClient, api_client, person


@pytest.fixture
def api(charter: Charter) -> Iterator[TestClient]:
    yield from api_client(charter)


def _token(charter: Charter, subject_id: str) -> str:
    return charter.credentials.issue_user_token(subject_id, actor="test").secret


def video_client(charter: Charter, api: TestClient, subject_id: str) -> VideoClient:
    token = _token(charter, subject_id)
    return VideoClient("https://testserver", token, transport=Transport("", token, client=api))


def pay_client(charter: Charter, api: TestClient, subject_id: str) -> PayClient:
    token = _token(charter, subject_id)
    return PayClient("https://testserver", token, transport=Transport("", token, client=api))


def card_number() -> str:
    body = "4" + "".join(secrets.choice("0123456789") for _ in range(14))
    return next(body + c for c in "0123456789" if luhn_ok(body + c))


VIDEO_ON = ("video.authorization", "video.personalization", "system.user_experience_program")


@pytest.mark.promise("video.local_use_analytics_only", "video.personalized_trending_markets")
def test_the_video_client_through_http(charter: Charter, api: TestClient) -> None:
    video = video_client(charter, api, person(charter, "de", *VIDEO_ON))
    assert video.online() is False
    watched = VideoEvent("video_usage_data", "app_functionality", {"video": "v1", "topic": "jazz"})
    with pytest.raises(ApiError) as local:
        video.send_events([watched])
    assert (local.value.status, local.value.code) == (403, "local_features_only")
    assert video.report([Measure("product_interaction", "player", "play")]) == 1
    with pytest.raises(ApiError) as history:
        video.upload_watch_history()
    assert history.value.code == "on_device_only"
    assert video.set_online(True) is True
    assert video.send_events([watched]) == 1
    personal = VideoEvent("video_usage_data", "personalization", {"video": "v2", "topic": "jazz"})
    with pytest.raises(ApiError) as market:
        video.send_events([personal])
    assert market.value.code == "market_unavailable"
    assert "video.personalized_trending_markets" in market.value.message
    trending = video.trending()
    assert trending.personalized is False and trending.reason == "market_unavailable"

    there = video_client(charter, api, person(charter, "ru", *VIDEO_ON))
    there.set_online(True)
    assert there.send_events([personal, personal]) == 2
    assert there.trending().topics == ["jazz"]


@pytest.mark.promise("pay.pseudonymized_card_numbers", "pay.unbind", "pay.deregister")
def test_the_pay_client_through_http(charter: Charter, api: TestClient) -> None:
    pay = pay_client(charter, api, person(charter, "in", "pay.authorization"))
    number, payee = card_number(), card_number()
    card = pay.add_card(number, "09/29")
    assert card.token.startswith("tok_") and card.masked.endswith(number[-4:])
    assert [c.token for c in pay.cards()] == [card.token]
    bill = pay.pay_bill("electricity", "EL-" + secrets.token_hex(4), card.token, "123", 45_000)
    sent = pay.pay(card.token, "123", 1_000, payee_card_number=payee, remarks="rent")
    shown = pay.transactions()
    assert {t.id for t in shown} == {bill.id, sent.id}
    assert all(t.payer == card.pseudonym for t in shown)
    assert sent.payee.startswith("cp_") and payee not in repr(shown) and number not in repr(shown)
    assert pay.set_upi("asha@okbank") == "asha@okbank"
    second = pay.add_card(card_number(), "10/30")
    pay.unbind(second.token)
    assert [c.token for c in pay.cards()] == [card.token]
    with pytest.raises(ApiError) as gone:
        pay.unbind(second.token)
    assert gone.value.status == 404
    assert pay.deregister() > 0
    assert pay.cards() == [] and pay.upi() is None and pay.transactions() == []

    spain = pay_client(charter, api, person(charter, "es", "pay.authorization"))
    with pytest.raises(ApiError) as refused:
        spain.add_card(card_number(), "09/29")
    assert (refused.value.status, refused.value.code) == (403, "market_unavailable")
