"""
A switch changed on a service's own page sends the person back to that page: the form
carries the page's path, and only a path of this site is followed (anything that could
leave the site is ignored and the home page's card is shown instead).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from web_support import Deployment, TestClient, csrf_of

from charter.web.deps import same_site_path

KEY = "themes.personalization"
HOME = "/#service-themes"


def _flip(client: TestClient, back: str | None, value: str = "off") -> str:
    token = csrf_of(client.get("/").text)
    data = {"key": KEY, "value": value, "csrf": token}
    if back is not None:
        data["back"] = back
    answer = client.post("/switches", data=data, headers={"referer": "https://testserver/"})
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def test_the_switch_form_carries_the_page_it_is_on(user_client: TestClient) -> None:
    home = user_client.get("/").text
    assert 'name="back" value="/#service-themes"' in home
    page = user_client.get("/video").text
    assert 'name="back" value="/video#switches-title"' in page


def test_a_same_site_back_path_is_followed(deployment: Deployment, user_client: TestClient) -> None:
    subject = deployment.demo.user.account_id or ""
    assert _flip(user_client, "/themes#choices", "off") == "/themes#choices"
    assert deployment.charter.gate.switches(subject)[KEY] is False
    assert _flip(user_client, None, "on") == HOME  # no back: the home page's card


@pytest.mark.parametrize(
    "back",
    [
        "//evil.example",
        "https://evil.example",
        "https://evil.example/video",
        "/\\evil.example",
        "/\t/evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example/video",
        "",
    ],
)
def test_a_back_path_that_could_leave_the_site_is_ignored(
    deployment: Deployment, user_client: TestClient, back: str
) -> None:
    subject = deployment.demo.user.account_id or ""
    assert _flip(user_client, back, "off") == HOME
    assert deployment.charter.gate.switches(subject)[KEY] is False  # the switch still changed


def _as_a_browser_reads_it(url: str) -> tuple[str, str]:
    """Scheme and host a browser resolves ``url`` to (tabs and newlines dropped,
    backslashes read as slashes)."""
    cleaned = "".join(c for c in url if c not in "\t\n\r").replace("\\", "/")
    parts = urlsplit(cleaned)
    return parts.scheme, parts.netloc


@given(st.text(alphabet=st.sampled_from("/\\:.@#?%\t\n ahttpsevil"), max_size=30))
def test_an_accepted_path_never_names_another_site(value: str) -> None:
    found = same_site_path(value)
    if found is not None:
        assert found == value and found.startswith("/")
        assert _as_a_browser_reads_it(found) == ("", "")
