"""
Re-consent follows promises: a widened rule is a material change for the consents to its
service, and a consent given before rules had kinds is not disturbed by the kinds alone.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from sqlalchemy import insert, update

from charter.app import Charter
from charter.catalog import builtin_catalog_path, load_catalog
from charter.catalog.policies import PolicyLibrary
from charter.gate.consent import ConsentBook, ConsentStatus, canonical
from charter.policy import SubjectKind
from charter.store import schema as rt


def test_a_widened_promise_requires_reconsent(charter: Charter, tmp_path: Path) -> None:
    me = charter.gate.create_subject(SubjectKind.ACCOUNT, "in")
    book = ConsentBook(charter.gate)
    book.record(me.id, "get_apps", method="privacy_center")
    assert book.status(me.id, "get_apps").status is ConsentStatus.CURRENT
    folder = tmp_path / "catalog"
    shutil.copytree(builtin_catalog_path(), folder)
    path = folder / "get_apps.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            'function: points_mall, only: ["in"]', 'function: points_mall, only: ["in", "ru"]'
        ),
        encoding="utf-8",
    )
    changed = ConsentBook(
        charter.gate, catalog=load_catalog(folder), policies=PolicyLibrary(folder)
    )
    notice = changed.status(me.id, "get_apps")
    assert notice.status is ConsentStatus.RECONSENT_REQUIRED
    assert "promise get_apps.points_mall_markets widened" in notice.changes


def test_a_consent_from_before_rule_kinds_stays_current(charter: Charter) -> None:
    me = charter.gate.create_subject(SubjectKind.ACCOUNT, "in")
    book = ConsentBook(charter.gate)
    record = book.record(me.id, "get_apps", method="privacy_center")
    legacy = charter.catalog.service("get_apps").model_dump(mode="json")
    for rule in legacy["rules"]:
        for key in ("kind", "enforcer", "gate"):
            rule.pop(key, None)
    body = canonical(legacy)
    digest = hashlib.sha256(body.encode()).hexdigest()
    with charter.stores.control().begin() as conn:
        conn.execute(
            insert(rt.catalog_snapshots).values(
                digest=digest, service="get_apps", body=body, created_at=charter.clock()
            )
        )
    region = charter.gate.subject(me.id).region
    with charter.stores.region(region).begin() as conn:
        conn.execute(
            update(rt.consents)
            .where(rt.consents.c.subject_id == me.id)
            .values(catalog_digest=digest)
        )
    assert json.loads(body)["rules"][0].get("kind") is None
    notice = book.status(me.id, "get_apps")
    assert notice.status is ConsentStatus.CURRENT, notice
    assert record.version == notice.consented_version
