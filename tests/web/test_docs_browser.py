"""
``/docs`` offline (issue 11: it was blank without network and called third-party CDNs).
In Debian's chromium with every request to another host blocked, the page renders the API's
operations; its page and assets carry the same security headers as the Privacy Center.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import httpx
from browser_support import ARTIFACTS
from test_browser import pytestmark  # noqa: F401 - the same skips
from web_support import Deployment

SAME = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy")


def test_docs_render_with_other_hosts_blocked(
    served: tuple[Deployment, str],
    browser: Any,
) -> None:
    _deployment, url = served
    own = urlsplit(url).netloc
    blocked: list[str] = []
    context = browser.new_context()
    page = context.new_page()

    def only_this_site(route: Any) -> None:
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_site)
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    response = page.goto(url + "/docs")
    assert response is not None and response.status == 200
    page.wait_for_selector(".opblock", timeout=30_000)
    operations = page.locator(".opblock").count()
    assert operations >= 20
    assert page.get_by_text("/v1/collect", exact=True).first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "docs-offline.png"))
    context.close()
    assert blocked == []  # nothing even tried to leave the site
    assert violations == []  # and nothing the CSP had to refuse


def test_docs_carry_the_pages_security_headers(served: tuple[Deployment, str]) -> None:
    _deployment, url = served
    docs = httpx.get(url + "/docs")
    signin = httpx.get(url + "/signin")
    assert docs.status_code == 200
    for name in SAME:
        assert docs.headers[name] == signin.headers[name], name
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", docs.text)  # no other host
    for asset in re.findall(r"(?:src|href)=\"(/docs/assets/[^\"]+)\"", docs.text):
        got = httpx.get(url + asset)
        assert got.status_code == 200, asset
        for name in SAME:
            assert got.headers[name] == signin.headers[name], (asset, name)
    assert httpx.get(url + "/docs/assets/../../keyring.json").status_code == 404
    assert httpx.get(url + "/docs/assets/redoc.standalone.js").status_code == 404
