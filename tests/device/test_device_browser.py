"""Browser privacy, local video history and App Vault cards on the device."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from charter.device import Device, UsageEvent
from charter.device.local_apps import AppVault, LocalVideo


def files(folder: Path) -> dict[str, str]:
    """Every file the device wrote, with a digest of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.promise("browser.incognito_leaves_no_trace")
def test_incognito_changes_no_file_and_ends_with_the_browser(phone: Device) -> None:
    browser = phone.browser
    normal = browser.open_tab()
    browser.visit(normal, "https://example.org/", "Example")
    browser.set_cookie(normal, "example.org", "sid", "1")
    phone.owner.log.flush()
    phone.owner.conn.execute("pragma wal_checkpoint(truncate)")
    before = files(phone.data_dir)

    one, two = browser.open_tab(incognito=True), browser.open_tab(incognito=True)
    browser.visit(one, "https://secret.example/", "Secret")
    browser.download(one, "https://secret.example/f.pdf", "f.pdf")
    browser.fill(one, "secret.example", "email", "a@example.org")
    browser.set_cookie(one, "example.org", "sid", "2")
    assert browser.cookie(one, "example.org", "sid") == "2"
    assert browser.cookie(two, "example.org", "sid") is None  # tabs do not share state
    assert browser.cookie(normal, "example.org", "sid") == "1"  # no cookie change outside
    assert files(phone.data_dir) == before  # 0 bytes written for incognito
    assert browser.history() == [("https://example.org/", "Example")]

    browser.exit()
    assert one.history == [] and one.cookies == {} and not one.open
    assert browser.tabs == []


@pytest.mark.promise("browser.no_search_suggestions_in_incognito")
def test_no_suggestions_are_asked_in_incognito(phone: Device) -> None:
    asked: list[str] = []
    phone.browser.engine = lambda typed: asked.append(typed) or [typed + " news"]
    assert phone.browser.suggestions(phone.browser.open_tab(incognito=True), "weath") == []
    assert phone.browser.suggestions(phone.browser.open_tab(), "weath") == ["weath news"]
    assert asked == ["weath"]


@pytest.mark.promise("browser.suggestions_off_sends_nothing")
def test_smart_address_bar_off_sends_nothing_until_a_search(phone: Device) -> None:
    asked: list[str] = []
    phone.browser.engine = lambda typed: asked.append(typed) or []
    phone.browser.set_option("smart_address_bar", False)
    tab = phone.browser.open_tab()
    for typed in ("w", "we", "wea"):
        phone.browser.suggestions(tab, typed)
    assert asked == []
    phone.browser.suggestions(tab, "weather", searching=True)
    assert asked == ["weather"]


@pytest.mark.promise("browser.suggestions_not_kept")
def test_suggestion_requests_leave_nothing_on_the_device(phone: Device) -> None:
    phone.browser.engine = lambda typed: [f"{typed} forecast"]
    phone.owner.conn.execute("pragma wal_checkpoint(truncate)")
    before = files(phone.data_dir)
    assert phone.browser.suggestions(phone.browser.open_tab(), "rain") == ["rain forecast"]
    assert files(phone.data_dir) == before


@pytest.mark.promise("browser.no_url_collection")
def test_usage_gives_counts_never_an_address(phone: Device) -> None:
    sent: list[UsageEvent] = []
    phone.usage.sink = sent.append
    phone.usage.switches = {"system.user_experience_program": True, "browser.authorization": True}
    tab = phone.browser.open_tab()
    phone.browser.visit(tab, "https://private.example/path?q=1", "P")
    for name, count in phone.browser.usage().items():
        phone.usage.offer(UsageEvent("browser", name, count))
    assert sent == [UsageEvent("browser", "pages_visited", 1)]
    assert "private.example" not in repr(sent)


def test_dnt_and_gpc_go_only_when_asked(phone: Device) -> None:
    tab = phone.browser.open_tab()
    assert phone.browser.visit(tab, "https://a.example/") == {}
    phone.browser.set_option("do_not_track", True)
    phone.browser.set_option("gpc", True)
    assert phone.browser.visit(tab, "https://a.example/") == {"DNT": "1", "Sec-GPC": "1"}


@pytest.mark.promise("video.local_history_on_device")
@pytest.mark.promise("video.local_use_analytics_only")
def test_local_video_history_stays_and_only_analytics_counts_go(phone: Device) -> None:
    sent: list[UsageEvent] = []
    phone.usage.sink = sent.append
    phone.usage.switches = {"system.user_experience_program": True}
    video = LocalVideo(phone.owner, phone.usage)
    video.play("Holiday 2025.mp4")
    video.play("Birthday.mp4")
    assert video.history() == ["Holiday 2025.mp4", "Birthday.mp4"]
    assert {e.purpose for e in sent} == {"analytics"} and len(sent) == 2
    assert "Holiday" not in repr(sent)
    phone.usage.switches = {}
    video.play("Third.mp4")
    assert len(sent) == 2  # usage switch off: nothing leaves


@pytest.mark.promise("app_vault.shortcuts_on_device")
@pytest.mark.promise("app_vault.local_only_cards")
def test_app_vault_cards_show_local_data_and_upload_nothing(phone: Device) -> None:
    sent: list[UsageEvent] = []
    phone.usage.sink = sent.append
    phone.usage.switches = {"system.user_experience_program": True}
    vault = AppVault(phone.owner)
    vault.add_shortcut("com.example.scanner")
    vault.set_card("note", "buy bread")
    vault.set_card("steps", "8,000")
    assert vault.shortcuts() == ["com.example.scanner"]
    assert vault.cards() == {"note": "buy bread", "steps": "8,000"}
    assert sent == [] and phone.server is None and phone.cloud is None
