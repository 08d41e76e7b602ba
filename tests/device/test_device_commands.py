"""
End to end against a real server over HTTP: two devices of one person and one of another.
A withdrawal deletes that service's local data on both of the person's devices and each
confirms; the other person's device is untouched; a history-clearing command clears the
history; usage leaves only as the switches allow; the cloud syncs down.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from charter.app import Charter
from charter.device import Device, UsageEvent

THEMES = "themes"


def test_withdrawal_deletes_local_data_on_each_device_of_the_person_and_each_confirms(
    charter: Charter, make_device: Callable[..., Device], new_person: Callable[[], str], server: str
) -> None:
    ana, bo = new_person(), new_person()
    phone, tablet, other = (
        make_device(ana, "ana-phone"),
        make_device(ana, "ana-tablet"),
        make_device(bo, "bo-phone"),
    )
    for d in (phone, tablet, other):
        d.owner.put(THEMES, "wallpaper", b"sunset")
        d.owner.put("notes", "n1", b"keep me")
    token = charter.credentials.issue_user_token(ana, actor="test").secret
    answer = httpx.post(
        f"{server}/v1/me/withdrawals",
        json={"service": THEMES},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["device_commands"]) == 2
    assert {c.device_id for c in charter.rights.devices.pending(subject_id=ana)} == {
        "ana-phone",
        "ana-tablet",
    }

    for d in (phone, tablet):
        done = d.poll()
        assert [(c.kind, c.service) for c in done] == [("delete_service_data", THEMES)]
        assert d.owner.keys(THEMES) == []
        assert d.owner.get("notes", "n1") == b"keep me"
    assert charter.rights.devices.pending(subject_id=ana) == []
    assert other.poll() == []
    assert other.owner.get(THEMES, "wallpaper") == b"sunset"
    assert phone.poll() == []  # confirmed once, nothing left


def test_withdrawal_reaches_a_locked_private_space_when_it_is_next_opened(
    charter: Charter, make_device: Callable[..., Device], new_person: Callable[[], str]
) -> None:
    ana = new_person()
    phone = make_device(ana, "ana-phone")
    phone.spaces.create("work", "work-secret")
    work = phone.switch("work", "work-secret")
    work.put(THEMES, "wallpaper", b"grey")
    phone.lock_spaces()
    charter.rights.withdraw(ana, THEMES)
    assert [c.service for c in phone.poll()] == [THEMES]
    assert phone.switch("work", "work-secret").keys(THEMES) == []


def test_history_clearing_from_another_device_clears_it_here(
    charter: Charter, make_device: Callable[..., Device], new_person: Callable[[], str]
) -> None:
    ana = new_person()
    phone, tablet = make_device(ana, "ana-phone"), make_device(ana, "ana-tablet")
    tab = tablet.browser.open_tab()
    tablet.browser.visit(tab, "https://example.org/a", "A")
    queued: list[str] = []

    def clear_elsewhere() -> None:  # what the browser service does at the server
        with charter.stores.control().begin() as conn:
            queued.extend(
                charter.rights.devices.queue(
                    conn,
                    subject_id=ana,
                    subject_ref=charter.gate.subject_ref(ana),
                    devices=["ana-tablet"],
                    kind="clear_browser_history",
                    service="browser",
                )
            )

    phone.components["clear_history_elsewhere"] = clear_elsewhere
    phone.browser.set_option("sync", True)
    phone.browser.clear_history()
    assert len(queued) == 1
    assert [c.kind for c in tablet.poll()] == ["clear_browser_history"]
    assert tablet.browser.history() == []
    assert charter.rights.devices.pending(subject_id=ana) == []


def test_an_unknown_command_stays_pending(
    charter: Charter, make_device: Callable[..., Device], new_person: Callable[[], str]
) -> None:
    ana = new_person()
    phone = make_device(ana, "ana-phone")
    with charter.stores.control().begin() as conn:
        charter.rights.devices.queue(
            conn,
            subject_id=ana,
            subject_ref=charter.gate.subject_ref(ana),
            devices=["ana-phone"],
            kind="locate",
        )
    assert phone.poll() == []
    assert len(charter.rights.devices.pending(subject_id=ana)) == 1


def test_usage_leaves_only_as_the_switches_allow(
    charter: Charter, make_device: Callable[..., Device], new_person: Callable[[], str]
) -> None:
    ana = new_person()
    phone = make_device(ana, "ana-phone")
    sent: list[UsageEvent] = []
    phone.usage.sink = sent.append
    phone.refresh_switches()
    assert not phone.usage.offer(UsageEvent("browser", "pages", 3))
    charter.gate.set_switches(
        ana,
        {"system.user_experience_program": True, "browser.authorization": True},
        source="user",
        actor="subject",
    )
    phone.refresh_switches()
    assert phone.usage.offer(UsageEvent("browser", "pages", 3))
    charter.gate.set_switches(ana, {"cloud.authorization": False}, source="user", actor="subject")
    phone.refresh_switches()
    assert not phone.usage.offer(UsageEvent("cloud", "syncs", 1))
    assert sent == [UsageEvent("browser", "pages", 3)]


def test_the_cloud_syncs_down_to_the_device(
    charter: Charter, make_device: Callable[..., Device], new_person: Callable[[], str]
) -> None:
    ana = new_person()
    phone, tablet = make_device(ana, "ana-phone"), make_device(ana, "ana-tablet")
    assert phone.cloud is not None
    item = phone.cloud.upload("notes", b"buy bread")
    tablet.refresh_switches()
    assert tablet.sync_cloud() == 1
    assert tablet.owner.get("cloud", item.id) == b"buy bread"
    phone.cloud.delete(item)
    assert tablet.sync_cloud() == 1
    assert tablet.owner.get("cloud", item.id) is None
