"""Server-rendered pages of the provider (the consent screen and its error page), with Jinja2."""

from __future__ import annotations

from collections.abc import Sequence

from jinja2 import Environment, PackageLoader, select_autoescape

_ENV = Environment(
    loader=PackageLoader("charter.services.oauth", "templates"),
    autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
)

ERROR_MESSAGES = {
    "invalid_client": "This app is not registered, or was removed.",
    "invalid_request": "The sign-in request of this app is invalid (for example its return address is not registered).",
    "unsupported_response_type": "This app asked for a kind of sign-in that is not offered.",
    "invalid_scope": "This app asked for information that is not offered.",
    "login_required": "Sign in to your account first, then try again.",
    "forbidden": "The consent form expired or was not sent from this page; start again.",
}


def consent_page(
    *, client_name: str, profile: bool, params: Sequence[tuple[str, str]], csrf: str, action: str
) -> str:
    """The consent screen."""
    return _ENV.get_template("consent.html.j2").render(
        title="Authorize",
        client_name=client_name,
        profile=profile,
        params=params,
        csrf=csrf,
        action=action,
        error=None,
    )


def error_page(code: str) -> str:
    """A page explaining why an authorization request cannot continue (no request values)."""
    message = ERROR_MESSAGES.get(code, "This sign-in request cannot be completed.")
    return _ENV.get_template("consent.html.j2").render(title="Sign-in stopped", error=message)
