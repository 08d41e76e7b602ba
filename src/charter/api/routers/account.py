"""
``/v1/account``: registration, sign-in with step-up, sessions, devices, profile, 2-step
verification, help-centre actions and Accounts & Permission.

Authenticated routes take ``Authorization: Bearer at_...`` (an account access token) and act
on that account only; ids in paths of another account's objects answer 404. Sign-in failures
answer one 401 whatever the cause; throttling answers 429 and an overloaded password hasher
503, both with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from charter.api.deps import get_charter
from charter.api.errors import error_response, responses
from charter.errors import AuthError
from charter.services.account.errors import BusyError, ThrottledError
from charter.services.account.service import AccountService, DeviceInfo, LoginOutcome
from charter.services.account.sessions import SessionInfo, TokenPair

router = APIRouter(prefix="/v1/account", tags=["account"])

bearer = HTTPBearer(
    scheme_name="AccountSession",
    bearerFormat="at_<secret>",
    auto_error=False,
    description="An account access token from POST /v1/account/login.",
)

T = TypeVar("T")
ID = r"^[a-z]{1,3}_[0-9a-f]{32}$"


def get_service(request: Request) -> AccountService:
    """The account service of the app."""
    return get_charter(request).accounts


def current_session(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> SessionInfo:
    """
    The signed-in session of the caller.

    Raises:
        AuthError: missing, invalid, expired or revoked token.
    """
    if creds is None:
        raise AuthError("sign in first: Authorization: Bearer <access token>", code="unauthorized")
    return get_service(request).authenticate(creds.credentials.strip())


Service = Annotated[AccountService, Depends(get_service)]
Session = Annotated[SessionInfo, Depends(current_session)]
AUTH = responses(401, 403, 404, 422)


def _shed(fn: Callable[[], T]) -> T | Response:
    try:
        return fn()
    except ThrottledError as exc:
        return error_response(
            429, exc.code, exc.message, None, {"Retry-After": str(exc.retry_after)}
        )
    except BusyError as exc:
        return error_response(
            503, exc.code, exc.message, None, {"Retry-After": str(exc.retry_after)}
        )


CHALLENGE_ID = r"^[A-Za-z0-9_]{1,40}$"
"""What the server hands out as a challenge id (``ch_`` and hex): anything else, a NUL
included, is refused as a 422 before it reaches the database."""


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(_In):
    """A registration."""

    identifier: str = Field(
        max_length=254, description="Email address or phone number (E.164 or national)."
    )
    password: str = Field(max_length=4096)
    country: str = Field(
        min_length=2, max_length=2, description="ISO 3166-1 alpha-2; decides where data lives."
    )


class ChallengeOut(BaseModel):
    """A verification in progress."""

    status: str = "verification_sent"
    challenge_id: str


class ConfirmIn(_In):
    """A code for a challenge."""

    challenge_id: str = Field(max_length=40, pattern=CHALLENGE_ID)
    code: str = Field(max_length=16)


class LoginIn(_In):
    """A sign-in; ``signals`` are scored for the human check and discarded."""

    identifier: str = Field(max_length=254)
    password: str = Field(max_length=4096)
    device_id: str | None = Field(
        default=None, max_length=256, description="Hashed device id (e.g. Android ID)."
    )
    device_model: str | None = Field(default=None, max_length=120)
    signals: dict[str, Any] | None = Field(
        default=None, description="Accelerometer and network readings; never stored."
    )


class TokensOut(BaseModel):
    """Tokens of a session (shown once)."""

    token_type: str = "Bearer"  # noqa: S105 (a token type, not a secret)
    access_token: str
    refresh_token: str
    expires_in: int


class LoginOut(BaseModel):
    """``ok`` with tokens, ``step_up`` with a challenge and the methods to answer it, or ``pending``."""

    status: Literal["ok", "step_up", "pending"]
    account_id: str | None = None
    tokens: TokensOut | None = None
    challenge_id: str | None = None
    methods: list[str] = Field(default_factory=list)


class VerifyIn(_In):
    """An answer to a step-up (none of the three: poll for an approval)."""

    challenge_id: str = Field(max_length=40, pattern=CHALLENGE_ID)
    code: str | None = Field(default=None, max_length=16)
    totp: str | None = Field(default=None, max_length=10)
    recovery_code: str | None = Field(default=None, max_length=20)


class RefreshIn(_In):
    """A refresh token to rotate."""

    refresh_token: str = Field(max_length=100)


class HelpIn(_In):
    """A help-centre request for an identifier."""

    identifier: str = Field(max_length=254)


class ResetIn(ConfirmIn):
    """A password reset."""

    new_password: str = Field(max_length=4096)


class UnfreezeIn(ConfirmIn):
    """Unfreezing an account."""

    password: str = Field(max_length=4096)


class ProfileIn(_In):
    """Profile changes (omitted fields stay)."""

    nickname: str | None = Field(default=None, max_length=64)
    picture: str | None = Field(
        default=None, max_length=512, description="An https URL, or empty to remove."
    )
    gender: Literal["female", "male", "other", "unspecified"] | None = None


class RecoveryIn(_In):
    """A recovery phone number or email address."""

    contact: str = Field(max_length=254)


class PasswordIn(_In):
    """A new password."""

    new_password: str = Field(max_length=4096)


class ReauthIn(_In):
    """A step-up of the current session."""

    password: str = Field(max_length=4096)
    totp: str | None = Field(default=None, max_length=10)


class DecisionIn(_In):
    """An answer to a pending sign-in."""

    approve: StrictBool


class CodeIn(_In):
    """A TOTP code."""

    code: str = Field(max_length=10)


def _tokens(pair: TokenPair) -> TokensOut:
    return TokensOut(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


def _login_out(outcome: LoginOutcome) -> LoginOut:
    return LoginOut(
        status=outcome.status,  # type: ignore[arg-type]
        account_id=outcome.account_id,
        tokens=_tokens(outcome.tokens) if outcome.tokens else None,
        challenge_id=outcome.challenge_id,
        methods=list(outcome.methods),
    )


# -- public ------------------------------------------------------------------------------


@router.post(
    "/register", status_code=202, response_model=ChallengeOut, responses=responses(429, 503, 422)
)
def register(body: RegisterIn, service: Service) -> Any:
    """Start a registration; a code goes to the identifier (the answer is the same if it is taken)."""
    return _shed(
        lambda: ChallengeOut(
            challenge_id=service.register(body.identifier, body.password, body.country)
        )
    )


@router.post("/register/confirm", status_code=201, responses=responses(429, 503, 401, 422))
def confirm_registration(body: ConfirmIn, service: Service) -> dict[str, str]:
    """Confirm a registration with its code; returns the new account id."""
    return {"account_id": service.confirm_registration(body.challenge_id, body.code)}


@router.post("/login", response_model=LoginOut, responses=responses(429, 503, 401, 403, 422))
def login(body: LoginIn, request: Request, service: Service) -> Any:
    """Sign in: password, then the environment check (may ask for a step-up)."""
    ip = request.client.host if request.client else None
    device = DeviceInfo(body.device_id, body.device_model)
    signals, body.signals = body.signals, None
    result = _shed(
        lambda: service.login(body.identifier, body.password, device=device, ip=ip, signals=signals)
    )
    return result if isinstance(result, Response) else _login_out(result)


@router.post("/login/verify", response_model=LoginOut, responses=responses(429, 503, 401, 422))
def verify_login(body: VerifyIn, response: Response, service: Service) -> Any:
    """Answer a step-up: the code sent, a TOTP code, a recovery code, or poll for an approval."""
    outcome = service.complete_login(
        body.challenge_id, code=body.code, totp_code=body.totp, recovery_code=body.recovery_code
    )
    if outcome.status == "pending":
        response.status_code = 202
    return _login_out(outcome)


@router.post("/token/refresh", response_model=TokensOut, responses=responses(429, 503, 401, 422))
def refresh(body: RefreshIn, service: Service) -> Any:
    """Rotate a refresh token (a reused one ends the session)."""
    return _tokens(service.refresh(body.refresh_token))


@router.post(
    "/help/{action}",
    status_code=202,
    response_model=ChallengeOut,
    responses=responses(429, 503, 422),
)
def help_request(action: Literal["reset", "unfreeze"], body: HelpIn, service: Service) -> Any:
    """Help centre: send a code for a password reset or an unfreeze (same answer for any identifier)."""
    return ChallengeOut(challenge_id=service.request_help(body.identifier, action))


@router.post("/help/reset/confirm", status_code=204, responses=responses(429, 503, 401, 422))
def reset_password(body: ResetIn, service: Service) -> Response:
    """Set a new password with the code; signs out everywhere and unlocks the account."""
    result = _shed(lambda: service.reset_password(body.challenge_id, body.code, body.new_password))
    return result if isinstance(result, Response) else Response(status_code=204)


@router.post(
    "/help/unfreeze/confirm", status_code=204, responses=responses(429, 503, 401, 403, 422)
)
def unfreeze(body: UnfreezeIn, service: Service) -> Response:
    """Unfreeze an account with the code and its password."""
    result = _shed(lambda: service.unfreeze(body.challenge_id, body.code, body.password))
    return result if isinstance(result, Response) else Response(status_code=204)


# -- the signed-in account ---------------------------------------------------------------


@router.get("/me", responses=AUTH)
def me(session: Session, service: Service) -> dict[str, Any]:
    """The account: status, profile and contacts."""
    return {**service.status(session.subject_id), **service.profile(session.subject_id)}


@router.patch("/me/profile", responses=AUTH)
def update_profile(body: ProfileIn, session: Session, service: Service) -> dict[str, Any]:
    """Edit nickname, picture or gender."""
    return service.update_profile(
        session.subject_id, nickname=body.nickname, picture=body.picture, gender=body.gender
    )


@router.put("/me/recovery", status_code=204, responses=AUTH)
def set_recovery(body: RecoveryIn, session: Session, service: Service) -> Response:
    """Set the recovery phone or email (needs a fresh sign-in)."""
    service.set_recovery_contact(session, body.contact)
    return Response(status_code=204)


@router.post("/me/password", status_code=204, responses=AUTH)
def change_password(body: PasswordIn, session: Session, service: Service) -> Response:
    """Change the password (needs a fresh sign-in; other sessions end)."""
    result = _shed(lambda: service.change_password(session, body.new_password))
    return result if isinstance(result, Response) else Response(status_code=204)


@router.post("/me/freeze", status_code=204, responses=AUTH)
def freeze(session: Session, service: Service) -> Response:
    """Freeze the account (e.g. a lost phone): every session ends."""
    service.require_fresh(session)
    service.freeze(session.subject_id, actor="subject")
    return Response(status_code=204)


@router.post("/reauth", status_code=204, responses=AUTH)
def reauth(body: ReauthIn, session: Session, service: Service) -> Response:
    """Step up the current session with the password (and TOTP when 2-step verification is on)."""
    result = _shed(lambda: service.reauthenticate(session, body.password, body.totp))
    return result if isinstance(result, Response) else Response(status_code=204)


@router.post("/logout", status_code=204, responses=AUTH)
def logout(session: Session, service: Service) -> Response:
    """End the current session."""
    service.logout(session)
    return Response(status_code=204)


@router.get("/devices", responses=AUTH)
def list_devices(session: Session, service: Service) -> list[dict[str, Any]]:
    """Manage devices: the account's devices."""
    return service.devices(session.subject_id)


@router.delete("/devices/{device_id}", status_code=204, responses=AUTH)
def remove_device(device_id: str, session: Session, service: Service) -> Response:
    """Sign a device out and forget it."""
    service.remove_device(session.subject_id, device_id)
    return Response(status_code=204)


@router.get("/sessions", responses=AUTH)
def list_sessions(session: Session, service: Service) -> list[dict[str, Any]]:
    """The account's live sessions."""
    return service.sessions(session.subject_id)


@router.delete("/sessions/{session_id}", status_code=204, responses=AUTH)
def end_session(session_id: str, session: Session, service: Service) -> Response:
    """Sign one session out."""
    service.end_session(session.subject_id, session_id)
    return Response(status_code=204)


@router.get("/approvals", responses=AUTH)
def list_approvals(session: Session, service: Service) -> list[dict[str, Any]]:
    """Sign-ins on other devices waiting for this device's approval."""
    return service.pending_approvals(session.subject_id)


@router.post("/approvals/{challenge_id}", status_code=204, responses=AUTH)
def decide_approval(
    challenge_id: str, body: DecisionIn, session: Session, service: Service
) -> Response:
    """Approve or deny a pending sign-in."""
    service.decide_approval(session.subject_id, challenge_id, body.approve)
    return Response(status_code=204)


@router.post("/2sv/totp", responses=AUTH)
def begin_totp(session: Session, service: Service) -> dict[str, str]:
    """Start 2-step verification: a seed to add to an authenticator app (shown once)."""
    seed, uri = service.begin_totp(session)
    return {"secret": seed, "otpauth_uri": uri}


@router.post("/2sv/totp/confirm", responses=AUTH)
def confirm_totp(body: CodeIn, session: Session, service: Service) -> dict[str, list[str]]:
    """Switch 2-step verification on with a first code; returns recovery codes (shown once)."""
    return {"recovery_codes": service.confirm_totp(session, body.code)}


@router.post("/2sv/disable", status_code=204, responses=AUTH)
def disable_two_step(body: CodeIn, session: Session, service: Service) -> Response:
    """Switch 2-step verification off (fresh sign-in and a current code)."""
    service.disable_two_step(session, body.code)
    return Response(status_code=204)


@router.get("/authorizations", responses=AUTH)
def list_authorizations(request: Request, session: Session) -> list[dict[str, Any]]:
    """Accounts & Permission: the apps this account authorized."""
    return get_charter(request).oauth.authorizations(session.subject_id)


@router.delete("/authorizations/{client_id}", status_code=204, responses=AUTH)
def revoke_authorization(client_id: str, request: Request, session: Session) -> Response:
    """Withdraw an app's authorization; its tokens stop working at once."""
    get_charter(request).oauth.revoke_authorization(session.subject_id, client_id)
    return Response(status_code=204)
