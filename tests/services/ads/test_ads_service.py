"""
Advertising: segments only from allowed sources (cloud and pay refused by the gate's
purpose-on-read check with its reason code, other types by the service rule); with
Personalized Ads off a non-personalized ad is served and no segment is read or updated; the
ad-request API says why; the person sees and deletes segments; the partner ID is hashed per
partner; a reset leaves no join from the old advertising ID to the new one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import inspect, select
from sqlalchemy import text as text_sql

from charter.app import Charter
from charter.asgi import create_app
from charter.errors import NotFoundError, RefusedError
from charter.gate.model import Event
from charter.services.ads.service import SOURCE_NOT_ALLOWED
from charter.store.schema import records
from charter.taxonomy import Purpose
from support.telemetry import TestClient, event, headers, person


@pytest.fixture
def api(charter: Charter) -> Iterator[TestClient]:
    with TestClient(create_app(charter), base_url="https://testserver") as client:
        yield client


def _gamer(charter: Charter, *, pa: bool = True) -> str:
    subject = person(charter, pa=pa)
    charter.usage.events.submit(
        subject,
        "phone",
        [event("usage_sequence", "com.xiaomi.glgm"), event("app_status", "com.example.game")],
        actor="test",
    )
    return subject


@pytest.mark.promise("advertisement.excluded_sources", "advertisement.no_user_content_for_ads")
def test_every_read_of_cloud_or_pay_data_for_advertising_is_refused_by_the_gate(
    charter: Charter,
) -> None:
    subject = person(charter)
    charter.gate.set_switches(
        subject,
        {"cloud.authorization": True, "pay.authorization": True},
        source="user",
        actor="subject",
    )
    for service in ("cloud", "pay"):
        types = sorted({r.data_type for r in charter.compiled.rows_for(service)})
        assert types
        for data_type in types:
            with pytest.raises(RefusedError) as refused:
                charter.gate.read(
                    subject,
                    service=service,
                    purpose=Purpose.ADVERTISING,
                    data_type=data_type,
                    actor="service:ads",
                )
            assert refused.value.code == "source_refused", (service, data_type)
            assert "advertisement." in refused.value.message
        # through the ads service too, even for a type segments may use
        for data_type in sorted(charter.ads.segment_types):
            with pytest.raises(RefusedError) as refused:
                charter.ads.read_source(subject, service, data_type)
            assert refused.value.code in ("source_refused", "undeclared", "purpose_not_declared")


@pytest.mark.promise("advertisement.segment_sources")
def test_segments_come_only_from_app_usage_and_ad_interactions(
    charter: Charter, api: TestClient
) -> None:
    assert charter.ads.segment_types == {"app_usage_data", "advertising_data"}
    subject = _gamer(charter)
    with pytest.raises(RefusedError) as refused:
        charter.ads.read_source(subject, "cloud", "photos_videos")
    assert refused.value.code == SOURCE_NOT_ALLOWED
    with pytest.raises(RefusedError) as refused:
        charter.ads.read_source(subject, "browser", "browsing_history")
    assert refused.value.code == SOURCE_NOT_ALLOWED
    h = headers(charter, subject)
    ad_id = api.post("/v1/ads/id", json={"device": "phone"}, headers=h).json()["ad_id"]
    for _ in range(2):
        r = api.post(
            "/v1/ads/interactions",
            json={"ad_id": ad_id, "ad": "ad_music_headphones", "kind": "click"},
            headers=h,
        )
        assert r.json() == {"kept": True}
    built = api.post("/v1/ads/segments/refresh", headers=h).json()
    assert built == {"games": 2, "music": 2}
    mine = api.get("/v1/ads/segments", headers=h).json()
    assert sorted(s["segment"] for s in mine) == ["games", "music"]
    choice = api.post("/v1/ads/decide", json={"ad_id": ad_id, "slot": "home"}, headers=h).json()
    assert choice["personalized"] is True
    assert choice["why"] == f"segment {choice['segment']}"
    assert choice["segment"] in ("games", "music")
    # the person deletes one segment, then all
    first = next(s for s in mine if s["segment"] == "games")
    gone = api.post("/v1/ads/segments/delete", json={"ids": [first["id"]]}, headers=h).json()
    assert gone == {"deleted": 1}
    assert [s["segment"] for s in api.get("/v1/ads/segments", headers=h).json()] == ["music"]
    assert api.post("/v1/ads/segments/delete", json={}, headers=h).json() == {"deleted": 1}
    after = api.post("/v1/ads/decide", json={"ad_id": ad_id, "slot": "home"}, headers=h).json()
    assert (after["personalized"], after["why"]) == (False, "non-personalized: no segment")


def _ads_rows(charter: Charter, subject: str) -> list[tuple[str, int]]:
    region = charter.gate.subject(subject).region
    with charter.stores.region(region).connect() as conn:
        return [
            (r.id, r.collected_at)
            for r in conn.execute(
                select(records.c.id, records.c.collected_at).where(
                    records.c.subject_id == subject, records.c.service == "advertisement"
                )
            )
        ]


@pytest.mark.promise("advertisement.non_personalized_fallback")
def test_personalized_ads_off_serves_a_non_personalized_ad_and_touches_no_segment(
    charter: Charter, api: TestClient
) -> None:
    subject = _gamer(charter)
    h = headers(charter, subject)
    ad_id = api.post("/v1/ads/id", json={"device": "phone"}, headers=h).json()["ad_id"]
    assert charter.ads.refresh(subject) == {"games": 2}
    before = _ads_rows(charter, subject)
    charter.gate.set_switches(
        subject, {"system.personalized_ads": False}, source="user", actor="subject"
    )
    choice = api.post("/v1/ads/decide", json={"ad_id": ad_id, "slot": "feed"}, headers=h)
    assert choice.status_code == 200
    body = choice.json()
    assert body["personalized"] is False and body["segment"] is None
    assert body["why"] == "non-personalized: system_switch_off"
    assert body["ad"].startswith("ad_general_")
    refreshed = api.post("/v1/ads/segments/refresh", headers=h)
    assert refreshed.status_code == 403
    assert refreshed.json()["error"]["code"] == "system_switch_off"
    clicked = api.post(
        "/v1/ads/interactions",
        json={"ad_id": ad_id, "ad": "ad_general_1", "kind": "click"},
        headers=h,
    )
    assert clicked.json() == {"kept": False}
    assert _ads_rows(charter, subject) == before  # nothing read into or written to a segment
    charter.gate.set_switches(
        subject, {"system.personalized_ads": True}, source="user", actor="subject"
    )
    again = api.post("/v1/ads/decide", json={"ad_id": ad_id, "slot": "feed"}, headers=h).json()
    assert again["personalized"] is True


@pytest.mark.promise("video.short_video_hashed_gaid")
def test_partner_ids_are_hashed_per_partner(charter: Charter, api: TestClient) -> None:
    subject = person(charter)
    h = headers(charter, subject)
    ad_id = api.post("/v1/ads/id", json={"device": "phone"}, headers=h).json()["ad_id"]

    def partner(name: str) -> str:
        r = api.post("/v1/ads/partner-id", json={"ad_id": ad_id, "partner": name}, headers=h)
        assert r.status_code == 200, r.text
        value: str = r.json()["hashed_ad_id"]
        return value

    ids = {p: partner(p) for p in ("YouTube", "Facebook", "Instagram", "Twitter")}
    assert len(set(ids.values())) == 4  # two partners cannot join theirs
    assert all(len(v) == 64 and ad_id not in v for v in ids.values())
    assert partner("YouTube") == ids["YouTube"]  # stable for one partner
    r = api.post("/v1/ads/partner-id", json={"ad_id": ad_id, "partner": "Nobody"}, headers=h)
    assert r.status_code == 422 and "YouTube" in r.json()["error"]["message"]


def _dump_every_table(charter: Charter) -> str:
    """Every row of every table that exists in every database (not only the registered
    ones: the audit log, the migration table, anything), as text."""
    text: list[str] = []
    engines = [charter.stores.control()] + [
        charter.stores.region(r) for r in charter.gate.regions_in_use()
    ]
    for engine in engines:
        with engine.connect() as conn:
            for name in inspect(conn).get_table_names():
                for row in conn.execute(text_sql(f'SELECT * FROM "{name}"')):
                    text.append(repr(tuple(row)))
    return "\n".join(text)


def _raw_files(charter: Charter) -> bytes:
    """The bytes of every file under the data directory: SQLite databases with their WAL
    and shared-memory files, blobs, the audit witnesses, the outbox."""
    return b"".join(p.read_bytes() for p in charter.settings.data_dir.rglob("*") if p.is_file())


def test_reset_leaves_no_join_from_the_old_advertising_id_to_the_new(
    charter: Charter, api: TestClient
) -> None:
    subject = person(charter)
    h = headers(charter, subject)
    old = api.post("/v1/ads/id", json={"device": "phone"}, headers=h).json()["ad_id"]
    old_hash = charter.ads.keyed(old, "ads.id")
    old_partner = charter.ads.partner_id(subject, old, "YouTube")
    crowd = person(charter)
    for n in range(120):  # others' IDs: the table and its index span many pages
        charter.ads.new_id(crowd, f"device-{n}")
    new = api.post("/v1/ads/id", json={"device": "phone"}, headers=h).json()["ad_id"]
    assert new != old
    dump = _dump_every_table(charter)
    raw = _raw_files(charter) if charter.stores.control().dialect.name == "sqlite" else b""
    for residue in (old, old_hash, old_partner):
        assert residue not in dump  # no table (audit log included) holds the old ID
        assert residue.encode() not in raw  # nor any database page, WAL frame or file
    new_hash = charter.ads.keyed(new, "ads.id")
    assert new_hash in dump
    assert not raw or new_hash.encode() in raw  # the scan does see what is there
    r = api.post("/v1/ads/decide", json={"ad_id": old, "slot": "x"}, headers=h)
    assert r.status_code == 404
    with pytest.raises(NotFoundError):
        charter.ads.partner_id(subject, old, "YouTube")
    assert charter.ads.partner_id(subject, new, "YouTube") != old_partner
    # another person cannot use this person's advertising ID
    other = person(charter)
    r = api.post(
        "/v1/ads/decide", json={"ad_id": new, "slot": "x"}, headers=headers(charter, other)
    )
    assert r.status_code == 404


def test_segments_are_gate_records_and_bad_requests_change_nothing(
    charter: Charter, api: TestClient
) -> None:
    subject = _gamer(charter)
    h = headers(charter, subject)
    assert api.post("/v1/ads/id", json={"device": ""}, headers=h).status_code == 422
    assert (
        api.post("/v1/ads/decide", json={"ad_id": "nope", "slot": "x"}, headers=h).status_code
        == 422
    )
    charter.gate.collect(
        [
            Event(
                subject, "advertisement", "advertising_data", Purpose.ADVERTISING, {"kind": "view"}
            )
        ],
        actor="test",
    )
    assert charter.ads.refresh(subject) == {"games": 2}
    assert [s["segment"] for s in charter.ads.my_segments(subject)] == ["games"]
