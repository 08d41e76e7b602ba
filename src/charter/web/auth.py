"""
Sign-in pages: identifier and password, then the step-up the account service asks for (a
code sent to the person, or a TOTP / recovery code when 2-step verification is on), and
sign-out.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from charter.errors import AuthError, CharterError
from charter.services.account.service import DeviceInfo, LoginOutcome
from charter.web._routing import WebRoute, message_of
from charter.web.deps import (
    csrf_protect,
    redirect,
    render,
    services,
    web_session,
)

router = APIRouter(route_class=WebRoute, dependencies=[Depends(csrf_protect)])

Text = Annotated[str, Form(max_length=4096)]
Code = Annotated[str, Form(max_length=20)]


@router.get("/signin", include_in_schema=False)
def signin_page(request: Request) -> Response:
    """The sign-in form."""
    return render(
        request,
        "signin.html",
        {"title": "Sign in", "error": None, "identifier": ""},
        form_origin=_app_origin(request),
    )


RETURN_WINDOW_MICROS = 15 * 60 * 1_000_000
"""An authorization request waits this long for its sign-in; a sign-in later is a new visit."""


def _pending_return(request: Request) -> str | None:
    """Where to go after signing in: an authorization request that sent the person here less
    than 15 minutes ago (an abandoned one must not take over a later, unrelated sign-in)."""
    session = web_session(request)
    since = (session.reauth or {}).get("since")
    if not session.return_to or not isinstance(since, int):
        return None
    if services(request).charter.clock() - since > RETURN_WINDOW_MICROS:
        return None
    return session.return_to


def _app_origin(request: Request) -> str | None:
    """The origin of the app an authorization request will send the person back to."""
    session = web_session(request)
    if not session.return_to or not session.reauth:
        return None
    origin = session.reauth.get("origin")
    return origin if isinstance(origin, str) else None


@router.post("/signin", include_in_schema=False)
def signin(request: Request, identifier: Text, password: Text) -> Response:
    """Check the password; continue to the step-up page when the account service asks."""
    web = services(request)
    ip = request.client.host if request.client else None
    try:
        outcome = web.accounts.login(identifier.strip(), password, device=DeviceInfo(), ip=ip)
    except CharterError as exc:
        return render(
            request,
            "signin.html",
            {"title": "Sign in", "error": message_of(exc), "identifier": identifier[:254]},
            status=401 if isinstance(exc, AuthError) else 429,
            form_origin=_app_origin(request),
        )
    return _continue(request, outcome, session_challenge=True)


def _continue(request: Request, outcome: LoginOutcome, *, session_challenge: bool) -> Response:
    session = web_session(request)
    if outcome.status == "ok" and outcome.tokens is not None:
        services(request).browser.sign_in(session, outcome.tokens)
        back = _pending_return(request)
        session.return_to = None
        if back:  # the authorization request that sent the person here, a moment ago
            return redirect(back)
        session.say("You are signed in.", "success")
        return redirect("/")
    if session_challenge or outcome.challenge_id:
        session.challenge = outcome.challenge_id or session.challenge
        session.methods = list(outcome.methods) or session.methods
        session.dirty = True
    if outcome.status == "pending":
        session.say("Waiting for your approval on another device.")
    return redirect("/signin/verify")


@router.get("/signin/verify", include_in_schema=False)
def verify_page(request: Request) -> Response:
    """The step-up form: the code we sent, or a TOTP / recovery code."""
    session = web_session(request)
    if not session.challenge:
        return redirect("/signin")
    return render(
        request,
        "verify.html",
        {"title": "Confirm it's you", "methods": session.methods, "error": None},
        form_origin=_app_origin(request),
    )


@router.post("/signin/verify", include_in_schema=False)
def verify(
    request: Request,
    code: Code = "",
    method: Annotated[str, Form(max_length=20)] = "code",
) -> Response:
    """Answer the step-up."""
    web = services(request)
    session = web_session(request)
    if not session.challenge:
        return redirect("/signin")
    code = code.strip().replace(" ", "")
    try:
        if method == "totp":
            outcome = web.accounts.complete_login(session.challenge, totp_code=code)
        elif method == "recovery_code":
            outcome = web.accounts.complete_login(session.challenge, recovery_code=code)
        elif method == "approval":
            outcome = web.accounts.complete_login(session.challenge)
        else:
            outcome = web.accounts.complete_login(session.challenge, code=code)
    except CharterError as exc:
        if exc.code == "invalid_challenge":
            session.challenge, session.methods = None, []
            session.say(message_of(exc), "error")
            return redirect("/signin")
        return render(
            request,
            "verify.html",
            {"title": "Confirm it's you", "methods": session.methods, "error": message_of(exc)},
            status=401,
            form_origin=_app_origin(request),
        )
    return _continue(request, outcome, session_challenge=False)


@router.post("/signout", include_in_schema=False)
def signout(request: Request) -> Response:
    """End the browser session and its account session: the Privacy Center and every app
    that signs in with Charter see the person signed out."""
    services(request).browser.sign_out(web_session(request))
    web_session(request).say("You are signed out.", "success")
    return redirect("/signin")
