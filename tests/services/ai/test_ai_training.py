"""
No training on user data: the gate refuses ``model_training`` for every service's data with
its reason code; canary records planted in every service stop a simulated training job at the
first one it meets; the staff training export draws only on declared non-personal sources;
the enhancement features store nothing.
"""

from __future__ import annotations

import secrets

import numpy as np
import pytest
from sqlalchemy import func, select

from charter.app import Charter
from charter.errors import InputError, RefusedError
from charter.gate import export as gx
from charter.gate.model import Event
from charter.policy import SubjectKind
from charter.services.ai import (
    NON_PERSONAL_SOURCES,
    CanaryTrippedError,
    TrainingExport,
    TrainingJob,
    draw,
)
from charter.services.ai.enhance import optimise_image, reduce_noise
from charter.store.registry import registered
from charter.taxonomy import Qualifier


def _plant(charter: Charter) -> tuple[dict[str, str], list[str]]:
    """A canary record in every service that stores anything; returns service → subject."""
    planted: dict[str, str] = {}
    canaries: list[str] = []
    for service in charter.catalog:
        if service.on_device_only:
            continue
        rows = [
            r
            for r in charter.compiled.rows_for(service.id)
            if r.stored
            and r.qualifier is Qualifier.IDENTIFIED
            and r.protection_id in ("plain", "field_encryption")
        ]
        if not rows:
            continue
        markets = charter.compiled.markets_by_service[service.id]
        market = "de" if markets is None or "de" in markets else sorted(markets)[0]
        subject = charter.gate.create_subject(SubjectKind.ACCOUNT, market, actor="test").id
        charter.gate.set_switches(
            subject, dict.fromkeys(charter.compiled.defaults, True), source="user", actor="subject"
        )
        for row in rows:
            canary = "canary-" + secrets.token_hex(8)
            purpose = sorted(row.purposes)[0]
            result = charter.gate.collect(
                [Event(subject, service.id, row.data_type, purpose, {"text": canary})],
                actor="test",
            )
            if result.items[0].accepted:
                planted[service.id] = subject
                canaries.append(canary)
                break
    return planted, canaries


@pytest.mark.promise("ai_technology.no_training_on_user_data")
def test_training_reads_are_refused_for_every_service_and_canaries_stop_a_job(
    charter: Charter,
) -> None:
    planted, canaries = _plant(charter)
    assert len(planted) >= 8, planted  # every service that stores something got a canary
    job = TrainingJob(canaries)
    for service, subject in planted.items():
        with pytest.raises(RefusedError) as refused:
            job.run(draw(charter.gate, subject, service, actor="service:ai"))
        assert refused.value.code == "purpose_refused", service
        assert "ai_technology.no_training_on_user_data" in refused.value.message
    assert job.trained == 0
    # the tripwire itself: a job handed the records some other way stops at the first one
    for service, subject in planted.items():
        leaked = gx.iter_records(charter.gate, charter.gate.subject(subject), service=service)
        with pytest.raises(CanaryTrippedError) as tripped:
            TrainingJob(canaries).run(r.value for r in leaked)
        assert tripped.value.consumed == 1, service


def test_staff_export_draws_only_on_declared_non_personal_sources(charter: Charter) -> None:
    export = TrainingExport({"released_aggregates": charter.usage.analytics.third_party_view})
    assert export.export("released_aggregates", is_staff=True) == []
    with pytest.raises(InputError, match="non-personal sources"):
        export.export("cloud", is_staff=True)
    with pytest.raises(InputError, match="staff only"):
        export.export("released_aggregates", is_staff=False)
    with pytest.raises(InputError, match="undeclared"):
        TrainingExport({"app_usage_data": list})
    assert set(NON_PERSONAL_SOURCES) >= {"released_aggregates", "synthetic"}


def _everything(charter: Charter) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in registered():
        for name, engine in [("control", charter.stores.control())] + [
            (r, charter.stores.region(r)) for r in charter.gate.regions_in_use()
        ]:
            if entry.database != "control" and name == "control":
                continue
            if entry.database == "control" and name != "control":
                continue
            with engine.connect() as conn:
                counts[f"{name}.{entry.table.name}"] = conn.execute(
                    select(func.count()).select_from(entry.table)
                ).scalar_one()
    files = sorted(p.name for p in charter.settings.data_dir.rglob("*") if p.is_file())
    counts["files"] = len(files)
    return counts


@pytest.mark.promise("ai_technology.enhancement_keeps_no_data")
def test_enhancement_features_collect_and_store_nothing(charter: Charter) -> None:
    subject = charter.gate.create_subject("account", "de", actor="test").id
    functions = {f.id: f for f in charter.catalog.service("ai_technology").functions}
    for fid in ("voice_call_noise_reduction", "camera_image_optimization"):
        assert functions[fid].on_device_only and not functions[fid].collects
    result = charter.gate.collect(
        [Event(subject, "ai_technology", "face_features", "app_functionality", "x")], actor="t"
    )
    assert result.items[0].reason in ("on_device_only", "never_stored")
    before = _everything(charter)
    rng = np.random.default_rng(3)
    tone = np.sin(2 * np.pi * 64 * np.arange(4096) / 4096)
    voice = tone + 0.05 * rng.standard_normal(4096)
    cleaned = reduce_noise(voice, floor=0.1)
    assert np.abs(cleaned - tone).mean() < np.abs(voice - tone).mean() / 3
    image = optimise_image(rng.uniform(0.3, 0.6, size=(32, 32)))
    assert image.min() == 0.0 and image.max() == 1.0
    assert _everything(charter) == before
