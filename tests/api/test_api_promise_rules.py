"""
The catalog's ``gate`` rules on a running deployment, on SQLite and PostgreSQL: every gate
rule of the built-in catalog refuses exactly what it names (with its reason and promise id)
and leaves the rest to the inventory and the switches, over markets x purposes x switches,
through ``POST /v1/collect`` and through the gate in process. Expected refusals come from the
oracle that reads the rules directly (:mod:`support.promise_oracle`).
"""

from __future__ import annotations

from typing import Any

import pytest
from api_support import Api

from charter.app import Charter
from charter.gate import Event
from charter.policy import SubjectKind
from charter.taxonomy import Purpose, Qualifier
from support.promise_oracle import refusing_rules

SERVICES = ("get_apps", "pay", "cloud", "video")
MARKETS = ("in", "ru", "es", "id", "de", "gb", "us")
KINDS = {Qualifier.IDENTIFIED: "account", Qualifier.PSEUDONYMIZED: "app_instance"}
RULE_CODES = {"market_unavailable", "never_stored", "purpose_refused", "source_refused"}
PROVED = (
    "get_apps.points_mall_markets",
    "get_apps.recommendations_market_exclusion",
    "pay.cvv_never_stored",
    "pay.bill_payment_markets",
    "cloud.browser_sync_markets",
    "video.personalized_trending_markets",
    "ai_technology.no_training_on_user_data",
    "ai_technology.biometrics_never_uploaded",
    "advertisement.excluded_sources",
    "advertisement.no_user_content_for_ads",
)


def _probes(charter: Charter, service: str, qualifier: Qualifier) -> list[tuple[str, Purpose]]:
    """Every declared (type, purpose) of the service for the qualifier, plus what rules name:
    model training, advertising, and types never stored."""
    catalog = charter.catalog
    pairs = {
        (row.type, purpose)
        for row in catalog.service(service).inventory
        if row.qualifier is qualifier
        for purpose in row.purposes
    }
    if qualifier is Qualifier.IDENTIFIED:
        first = sorted(pairs)[0][0]
        pairs |= {
            (first, Purpose.MODEL_TRAINING),
            (first, Purpose.ADVERTISING),
            ("card_cvv", Purpose.APP_FUNCTIONALITY),
            ("face_features", Purpose.APP_FUNCTIONALITY),
        }
    return sorted(pairs)


def _expect(
    charter: Charter,
    service: str,
    data_type: str,
    qualifier: Qualifier,
    purpose: Purpose,
    market: str,
    switches_on: bool,
    item: dict[str, Any],
) -> set[str]:
    """Check one collect result; returns the rules that refused it."""
    compiled = charter.compiled
    refusing = refusing_rules(charter.catalog, service, data_type, purpose, market)
    offered_in = compiled.markets_by_service[service]
    offered = market not in compiled.excluded_by_service[service] and (
        offered_in is None or market in offered_in
    )
    row = compiled.row(service, data_type, qualifier, purpose)
    where = (service, data_type, purpose.value, market, switches_on, item)
    if refusing:
        assert item["accepted"] is False, where
        if offered or row is None:
            assert item["reason"] in RULE_CODES, where
            rule = item["message"].rsplit("(promise ", 1)[-1].rstrip(")")
            assert rule in refusing, where
        return refusing
    if row is None or not offered:
        assert item["accepted"] is False, where
        assert "promise" not in item["message"], where
        return refusing
    governed = bool(row.switches_by_purpose[purpose])
    assert item["accepted"] is (switches_on or not governed), where
    if not item["accepted"]:
        assert "promise" not in item["message"], where
    return refusing


def _run(charter: Charter, api: Api | None) -> set[str]:
    fired: set[str] = set()
    all_on = dict.fromkeys(charter.compiled.default_switches(), True)
    for market in MARKETS:
        for qualifier, kind in KINDS.items():
            for switches_on in (True, False):
                changes = {k: switches_on for k in all_on}
                if api is None:
                    subject = charter.gate.create_subject(SubjectKind(kind), market).id
                    charter.gate.set_switches(subject, changes, source="user", actor="subject")
                else:
                    subject = api.subject(api.key("cloud"), kind, market)
                    api.switch(subject, changes, api.token(subject))
                for service in SERVICES:
                    probes = _probes(charter, service, qualifier)
                    if not probes:
                        continue
                    if api is None:
                        result = charter.gate.collect(
                            [Event(subject, service, t, p, "v") for t, p in probes],
                            actor=f"service:{service}",
                        )
                        items = [
                            {"accepted": r.accepted, "reason": r.reason, "message": r.message}
                            for r in result.items
                        ]
                    else:
                        body = api.collect(
                            [
                                {
                                    "subject_id": subject,
                                    "data_type": t,
                                    "purpose": p.value,
                                    "value": "v",
                                }
                                for t, p in probes
                            ],
                            api.key(service),
                        )
                        items = body["items"]
                    assert len(items) == len(probes)
                    for (data_type, purpose), item in zip(probes, items, strict=True):
                        fired |= _expect(
                            charter,
                            service,
                            data_type,
                            qualifier,
                            purpose,
                            market,
                            switches_on,
                            item,
                        )
    return fired


@pytest.mark.promise(*PROVED)
def test_gate_rules_in_process(charter: Charter) -> None:
    fired = _run(charter, None)
    assert set(PROVED) <= fired


@pytest.mark.promise(*PROVED)
def test_gate_rules_over_http(api: Api) -> None:
    fired = _run(api.charter, api)
    assert set(PROVED) <= fired
