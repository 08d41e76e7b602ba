"""
Helpers for real-browser tests of the Privacy Center: uvicorn in a thread, Debian's chromium
through Playwright, sign-in through the real form, and axe-core run inside the page
(the engine ships with ``axe-playwright-python``; nothing is fetched from the network).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from web_support import Deployment, last_code

from support.live import Served, listening_socket

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None
        or importlib.util.find_spec("axe_playwright_python") is None,
        reason="the playwright or axe-playwright-python package is not installed",
    ),
]
"""The marks of a real-browser test module (``pytestmark = BROWSER_MARKS``)."""
BLOCKING = ("serious", "critical")
"""axe impacts a page must have none of."""


class Server(Served):
    """A deployment's app served by uvicorn in a thread; ``url`` is where it answers."""

    def __init__(self, deployment: Deployment) -> None:
        sock, self.url = listening_socket()
        super().__init__(sock, deployment.app)


def sign_in(page: Any, deployment: Deployment, url: str, identifier: str, password: str) -> None:
    """Sign in through the pages; the step-up code comes from the file sender's outbox."""
    from playwright.sync_api import expect  # noqa: PLC0415

    page.goto(url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email address or phone number").fill(identifier)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    page.get_by_label("Verification code").fill(last_code(deployment.outbox, identifier))
    page.get_by_role("button", name="Continue").click()


def blocking_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe  # noqa: PLC0415

    results = Axe().run(page)
    out = []
    for v in results.response.get("violations", []):
        if v.get("impact") in BLOCKING:
            targets = [n.get("target") for n in v.get("nodes", [])][:3]
            out.append(f"{v['impact']} {v['id']}: {v.get('help')} at {targets}")
    return out


def no_horizontal_scroll(page: Any) -> bool:
    """Whether the page fits the viewport's width."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def check_page(page: Any, name: str) -> None:
    """No horizontal scroll, no serious or critical axe violation; a screenshot is kept."""
    ARTIFACTS.mkdir(exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    assert no_horizontal_scroll(page), f"{name} scrolls sideways at {width} px"
    found = blocking_violations(page)
    assert not found, f"{name} at {width} px: " + "; ".join(found)
