"""Server-rendered pages of the provider (consent, a stopped request, logout), with Jinja2.

They never echo request values except the protocol parameters carried in hidden fields, and
every error page names the OAuth error code beside the words, for the app's developer."""

from __future__ import annotations

from collections.abc import Sequence

from jinja2 import Environment, PackageLoader, select_autoescape

_ENV = Environment(
    loader=PackageLoader("charter.services.oauth", "templates"),
    autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
)

ERROR_MESSAGES = {
    "invalid_client": "The app that sent you here is not registered with Charter, or was removed.",
    "invalid_request": "The app that sent you here made a sign-in request that cannot be "
    "completed, so you were not sent back to it.",
    "unsupported_response_type": "The app asked for a kind of sign-in that is not offered.",
    "invalid_scope": "The app asked for information that is not offered.",
    "login_required": "Sign in to your account first, then try again.",
    "forbidden": "The consent form expired or was not sent from this page; start again.",
}


def consent_page(
    *, client_name: str, profile: bool, params: Sequence[tuple[str, str]], csrf: str, action: str
) -> str:
    """The consent screen."""
    return _ENV.get_template("consent.html.j2").render(
        page="consent",
        title="Authorize",
        client_name=client_name,
        profile=profile,
        params=params,
        csrf=csrf,
        action=action,
    )


def error_page(code: str, description: str = "") -> str:
    """Why an authorization or logout request stops here: words, the details and the code."""
    message = ERROR_MESSAGES.get(code, "This sign-in request cannot be completed.")
    detail = description.strip()
    if detail:
        detail = detail[0].upper() + detail[1:]
        detail = detail if detail.endswith(".") else detail + "."
    return _ENV.get_template("consent.html.j2").render(
        page="error", title="Sign-in stopped", error=message, detail=detail, code=code
    )


def logout_page(*, client_name: str | None, params: Sequence[tuple[str, str]], csrf: str) -> str:
    """Ask whether to sign out of Charter (an app asked, without proof it was this session)."""
    return _ENV.get_template("consent.html.j2").render(
        page="logout", title="Sign out", client_name=client_name, params=params, csrf=csrf
    )


def signed_out_page() -> str:
    """Signed out, with no app to go back to."""
    return _ENV.get_template("consent.html.j2").render(page="signed_out", title="Signed out")
