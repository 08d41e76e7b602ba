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
    web_session(request)
    return render(request, "signin.html", {"title": "Sign in", "error": None, "identifier": ""})


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
        )
    return _continue(request, outcome, session_challenge=True)


def _continue(request: Request, outcome: LoginOutcome, *, session_challenge: bool) -> Response:
    session = web_session(request)
    if outcome.status == "ok" and outcome.tokens is not None:
        services(request).browser.sign_in(session, outcome.tokens)
        back, session.return_to = session.return_to, None
        if back:  # an authorization request (or a page) that sent the person here
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
        )
    return _continue(request, outcome, session_challenge=False)


@router.post("/signout", include_in_schema=False)
def signout(request: Request) -> Response:
    """End the browser session and its account session: the Privacy Center and every app
    that signs in with Charter see the person signed out."""
    services(request).browser.sign_out(web_session(request))
    web_session(request).say("You are signed out.", "success")
    return redirect("/signin")
