"""
The content services' device rules through the device runtime, against a real served server:

- Mi Video hands short-video partners the advertising ID only as the server's per-partner keyed
  hash (never the raw ID, not even when the server cannot answer);
- the Wallpapers home page asks the personalised-recommendations choice with the terms on the
  first visit only, records it as consent at the server, and recommendations follow it;
- the enhancement features change no byte of any device file and send nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest

from charter.app import Charter
from charter.device import Device
from charter.device.content import PARTNERS, Answer, Choice
from charter.errors import InputError, RefusedError


def _requests(server: str) -> tuple[httpx.Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    client = httpx.Client(base_url=server, timeout=30, event_hooks={"request": [seen.append]})
    return client, seen


def _person(charter: Charter, market: str = "de") -> str:
    return charter.gate.create_subject("account", market, actor="test").id


@pytest.mark.promise("video.short_video_hashed_gaid")
def test_short_video_partners_get_only_their_own_keyed_hash(
    charter: Charter, server: str, make_device: Callable[..., Device]
) -> None:
    ana = _person(charter)
    client, seen = _requests(server)
    phone = make_device(ana, "ana-phone", http=client)
    assert phone.video is not None
    ad_id = phone.video.ad_id()
    handed: list[dict[str, str]] = []
    for partner in PARTNERS:
        phone.video.hand_to(partner, handed.append)
    assert [h["partner"] for h in handed] == list(PARTNERS)
    for h in handed:  # the server's keyed hash under that partner's key
        assert h["advertising_id"] == charter.ads.partner_id(ana, ad_id, h["partner"])
    assert len({h["advertising_id"] for h in handed}) == len(PARTNERS)  # no join across them
    everything = json.dumps(handed)
    assert ad_id not in everything and ad_id.replace("-", "") not in everything
    # a second hand-off uses the kept hash (no request) and gives the same value
    before = len(seen)
    again: list[dict[str, str]] = []
    phone.video.hand_to("YouTube", again.append)
    assert again == [handed[0]] and len(seen) == before

    # a reset: a new ID, new hashes; the old ones lead nowhere
    new_id = phone.video.reset_ad_id()
    assert new_id != ad_id
    fresh: list[dict[str, str]] = []
    phone.video.hand_to("YouTube", fresh.append)
    assert fresh[0]["advertising_id"] != handed[0]["advertising_id"]

    # no partner outside the catalog; no raw fallback when the server cannot hash it
    with pytest.raises(InputError):
        phone.video.hand_to("SomeAdNetwork", fresh.append)
    phone.owner.conn.execute("delete from settings where key like 'ad_partner.%'")
    charter.ads.new_id(ana, "ana-phone")  # reset elsewhere: the device's ID is no longer valid
    with pytest.raises(RefusedError) as refused:
        phone.video.hand_to("Instagram", fresh.append)
    assert refused.value.code == "partner_hash_unavailable" and len(fresh) == 1


def _ask(asked: list[Choice], answer: Answer) -> Callable[[Choice], Answer]:
    def ask(choice: Choice) -> Answer:
        asked.append(choice)
        return answer

    return ask


@pytest.mark.promise("themes.first_run_personalization_choice")
def test_the_wallpapers_first_visit_asks_once_with_the_terms_and_records_consent(
    charter: Charter, server: str, make_device: Callable[..., Device]
) -> None:
    ana = _person(charter)
    phone, tablet = make_device(ana, "ana-phone"), make_device(ana, "ana-tablet")
    assert phone.wallpapers is not None and tablet.wallpapers is not None
    asked: list[Choice] = []
    page = phone.wallpapers.open_home(_ask(asked, Answer(accept_terms=True, personalized=True)))
    [choice] = asked
    assert choice.terms.endswith("/policies/themes") and "personalised" in choice.question
    assert page.asked_now and page.personalized
    methods = [r.method for r in charter.gate.consents.records(ana) if r.scope == "themes"]
    assert methods == ["device_first_run"]  # recorded as consent through the server
    assert charter.gate.switches(ana)["themes.personalization"] is True
    # never asked again: not on this device, not on the person's other device
    assert not phone.wallpapers.open_home(_ask(asked, Answer(True, False))).asked_now
    assert not tablet.wallpapers.open_home(_ask(asked, Answer(True, False))).asked_now
    assert len(asked) == 1
    assert [r.method for r in charter.gate.consents.records(ana) if r.scope == "themes"] == [
        "device_first_run"
    ]

    # Bo declines the terms: nothing recorded, asked again next time; then says no to
    # personalisation, and the recommendations are not personal.
    bo = _person(charter)
    bo_phone = make_device(bo, "bo-phone")
    assert bo_phone.wallpapers is not None
    bo_asked: list[Choice] = []
    with pytest.raises(InputError):
        bo_phone.wallpapers.open_home(_ask(bo_asked, Answer(False, True)))
    assert not charter.themes.first_run(bo).asked
    page = bo_phone.wallpapers.open_home(_ask(bo_asked, Answer(True, False)))
    assert len(bo_asked) == 2 and page.asked_now and not page.personalized
    assert charter.themes.first_run(bo).asked
    assert not charter.themes.recommendations("de", bo).personalized


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(folder.rglob("*"))
        if f.is_file()
    }


@pytest.mark.promise("ai_technology.enhancement_keeps_no_data")
def test_enhancements_change_no_device_file_and_send_nothing(
    charter: Charter, server: str, make_device: Callable[..., Device]
) -> None:
    ana = _person(charter)
    client, seen = _requests(server)
    phone = make_device(ana, "ana-phone", http=client)
    rng = np.random.default_rng(7)
    voice = np.sin(np.linspace(0, 40 * np.pi, 4096)) + rng.normal(0, 0.05, 4096)
    image = rng.uniform(0.2, 0.6, (64, 64))
    before, requests_before = _tree(phone.data_dir), len(seen)
    for _round in range(20):
        clean = phone.enhancements.call_frame(voice)
        sharp = phone.enhancements.camera_frame(image)
    after = _tree(phone.data_dir)
    assert after == before  # 0 bytes changed, no file made or removed
    assert len(seen) == requests_before  # nothing sent
    assert clean.shape == voice.shape and np.abs(clean - voice).max() > 0  # it did work
    assert float(sharp.min()) == 0.0 and float(sharp.max()) == 1.0
    assert float(image.min()) >= 0.2  # the caller's buffer is left as it was
