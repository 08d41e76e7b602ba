"""
Segments from an installed-apps snapshot: a snapshot's ``package_name`` is a list of
packages, and it counts once for each segment one of *its packages* points to (a package
points to a segment when its name contains one of the segment's declared fragments,
``charter ads segments``), never by matching fragments against the list turned into text.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from charter.app import Charter
from charter.services.ads import segments as seg
from support.telemetry import event, person


def _snapshot(packages: list[str]) -> dict[str, Any]:
    return {"package_name": packages, "version": "1.0", "install_source": "preinstalled"}


def test_a_snapshot_counts_for_the_segment_of_each_of_its_packages(charter: Charter) -> None:
    subject = person(charter)
    packages = ["com.miui.weather2", "com.xiaomi.glgm", "com.miui.notes"]
    for device in ("phone", "tablet"):  # one snapshot a day per device
        snap = event("installed_apps_snapshot")
        snap["fields"]["package_name"] = packages
        outcome = charter.usage.events.submit(subject, device, [snap], actor="test")
        assert [o.accepted for o in outcome] == [True]
    assert charter.ads.refresh(subject) == {"games": 2, "outdoors": 2}


def test_a_snapshot_counts_once_per_segment_however_many_of_its_packages_point_there() -> None:
    one = _snapshot(["com.example.game", "com.xiaomi.glgm", "com.other.gamepad"])
    assert seg.build([one], []) == {}  # one signal: below the segment's threshold
    assert seg.build([one, one], []) == {"games": 2}


packages = st.lists(
    st.one_of(
        st.sampled_from(sorted(seg.SEGMENT_OF_PACKAGE)).map(lambda f: f"com.x.{f}"),
        st.text("abcdefghijklmnopqrstuvwxyz.'[], ", max_size=12),
    ),
    max_size=8,
)


@given(packages)
def test_a_snapshot_counts_exactly_for_its_packages_segments(names: list[str]) -> None:
    expected = {s for p in names if (s := seg.segment_of(p)) is not None}
    twice = seg.build([_snapshot(names), _snapshot(names)], [])
    assert twice == dict.fromkeys(sorted(expected), 2)
    # the same packages as single-package events, each event counted once per segment
    singles = [{"package_name": p} for p in names]
    alone = seg.build(singles + singles, [])
    assert set(alone) == expected
