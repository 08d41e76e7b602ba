"""
:class:`AccountService`: the accounts of one deployment. It composes the account use cases
(registration, sign-in with the environment check, session access, 2-step verification,
Manage devices, the profile, the help centre, account states) and offers them as one
object; each method says which part does the work. See ``docs/account.md``.

Personal values go to the gate (:class:`~.records.AccountRecords`); account state, sessions,
second factors and counters live in the control database (:mod:`.tables`). Every failed
sign-in, for an unknown identifier or a wrong password, costs one argon2 verification and
answers with the same error, so neither messages nor timing tell which accounts exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from charter.services.account import passwords
from charter.services.account.access import SessionAccess
from charter.services.account.browser import BrowserSessions
from charter.services.account.common import require_fresh
from charter.services.account.context import AccountContext
from charter.services.account.devices import Devices
from charter.services.account.environment import EnvironmentCheck
from charter.services.account.helpcentre import HelpCentre
from charter.services.account.models import DeviceInfo, LoginOutcome
from charter.services.account.profile import Profile
from charter.services.account.registration import REGISTRATION, Registration
from charter.services.account.senders import NullSender, VerificationSender
from charter.services.account.sessions import ACCOUNT_LIMITS, Limits, SessionInfo, TokenPair
from charter.services.account.signin import SignIn
from charter.services.account.status import AccountStates
from charter.services.account.twostep import TwoStep

if TYPE_CHECKING:
    from charter.gate import Gate

__all__ = ["REGISTRATION", "AccountService", "DeviceInfo", "LoginOutcome"]


class AccountService:
    """Accounts of one Charter deployment."""

    def __init__(
        self,
        gate: Gate,
        *,
        sender: VerificationSender | None = None,
        hashing: passwords.HashingGate | None = None,
        limits: Limits = ACCOUNT_LIMITS,
        profile: passwords.Argon2Params = passwords.PRODUCTION,
    ) -> None:
        passwords.install_profile(gate.passwords, profile)
        self.context = AccountContext(
            gate,
            sender=sender or NullSender(),
            hashing=hashing or passwords.HashingGate(),
            limits=limits,
        )
        ctx = self.context
        self.gate = gate
        self.keyring = ctx.keyring
        self.clock = ctx.clock
        self.sender = ctx.sender
        self.hashing = ctx.hashing
        self.limits = ctx.limits
        self.records = ctx.records
        self.tokens = ctx.tokens
        self.cipher = ctx.cipher
        self.registrations = ctx.registrations
        self.registration = Registration(ctx)
        self.signin = SignIn(ctx, EnvironmentCheck(ctx))
        self.access = SessionAccess(ctx)
        self.browser = BrowserSessions(ctx, self.access)
        self.manage_devices = Devices(ctx)
        self.account_profile = Profile(ctx)
        self.two_step = TwoStep(ctx)
        self.states = AccountStates(ctx)
        self.help_centre = HelpCentre(ctx, self.states)

    @property
    def control(self) -> Any:
        """The control database engine."""
        return self.context.control

    # -- registration (Registration) --------------------------------------------------------

    def register(self, identifier: str, password: str, country: str) -> str:
        """Start a registration; a challenge id whatever happens (see
        :meth:`Registration.register`)."""
        return self.registration.register(identifier, password, country)

    def create(self, identifier: str, password: str, country: str, *, actor: str = "admin") -> str:
        """Create a verified account directly (operators; the CLI). Returns the account id."""
        return self.registration.create(identifier, password, country, actor=actor)

    def sweep_orphans(self, *, grace_seconds: int = 3600) -> int:
        """Erase subjects of registrations that never finished; returns how many."""
        return self.registration.sweep_orphans(grace_seconds=grace_seconds)

    def confirm_registration(self, challenge_id: str, code: str) -> str:
        """Confirm the identifier with the code sent; creates the account and returns its id."""
        return self.registration.confirm_registration(challenge_id, code)

    # -- sign-in (SignIn, EnvironmentCheck) -------------------------------------------------

    def login(
        self,
        identifier: str,
        password: str,
        *,
        device: DeviceInfo | None = None,
        ip: str | None = None,
        signals: Mapping[str, object] | None = None,
    ) -> LoginOutcome:
        """Sign in with an identifier and a password, then the environment check (see
        :meth:`SignIn.login`)."""
        return self.signin.login(identifier, password, device=device, ip=ip, signals=signals)

    def complete_login(
        self,
        challenge_id: str,
        *,
        code: str | None = None,
        totp_code: str | None = None,
        recovery_code: str | None = None,
    ) -> LoginOutcome:
        """Answer a step-up (see :meth:`SignIn.complete_login`)."""
        return self.signin.complete_login(
            challenge_id, code=code, totp_code=totp_code, recovery_code=recovery_code
        )

    # -- sessions (SessionAccess) -----------------------------------------------------------

    def authenticate(self, access_token: str) -> SessionInfo:
        """The first-party session of an access token (raises ``AuthError``)."""
        return self.access.authenticate(access_token)

    def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate a first-party refresh token (reuse revokes the session)."""
        return self.access.refresh(refresh_token)

    def logout(self, session: SessionInfo) -> None:
        """End a session at once."""
        self.access.logout(session)

    def require_fresh(self, session: SessionInfo) -> None:
        """
        Raises:
            StepUpRequiredError: the session's last authentication is older than 10 minutes.
        """
        require_fresh(self.context, session)

    def reauthenticate(
        self, session: SessionInfo, password: str, totp_code: str | None = None
    ) -> None:
        """Step up a session with the password (and a TOTP code when 2-step verification is
        on); see :meth:`SessionAccess.reauthenticate`."""
        self.access.reauthenticate(session, password, totp_code)

    # -- devices and approvals (Devices) ----------------------------------------------------

    def devices(self, subject_id: str) -> list[dict[str, Any]]:
        """Devices of the account with their model and whether a session is live on them."""
        return self.manage_devices.devices(subject_id)

    def device_ids(self, subject_id: str) -> list[str]:
        """The ids of the account's enrolled devices (what device commands address)."""
        return self.manage_devices.device_ids(subject_id)

    def remove_device(self, subject_id: str, device_id: str) -> None:
        """Sign a device out and forget it (see :meth:`Devices.remove_device`)."""
        self.manage_devices.remove_device(subject_id, device_id)

    def sessions(self, subject_id: str) -> list[dict[str, Any]]:
        """Live first-party sessions (Manage devices)."""
        return self.manage_devices.sessions(subject_id)

    def end_session(self, subject_id: str, session_id: str) -> None:
        """Sign out one session of the account (see :meth:`Devices.end_session`)."""
        self.manage_devices.end_session(subject_id, session_id)

    def pending_approvals(self, subject_id: str) -> list[dict[str, Any]]:
        """Sign-ins waiting for this account's approval."""
        return self.manage_devices.pending_approvals(subject_id)

    def decide_approval(self, subject_id: str, challenge_id: str, approve: bool) -> None:
        """Approve or deny a pending sign-in (see :meth:`Devices.decide_approval`)."""
        self.manage_devices.decide_approval(subject_id, challenge_id, approve)

    # -- profile (Profile) ------------------------------------------------------------------

    def profile(self, subject_id: str) -> dict[str, Any]:
        """Nickname, picture and gender, plus masked sign-in and recovery contacts."""
        return self.account_profile.profile(subject_id)

    def update_profile(
        self,
        subject_id: str,
        *,
        nickname: str | None = None,
        picture: str | None = None,
        gender: str | None = None,
    ) -> dict[str, Any]:
        """Change the profile (see :meth:`Profile.update_profile`)."""
        return self.account_profile.update_profile(
            subject_id, nickname=nickname, picture=picture, gender=gender
        )

    def set_recovery_contact(self, session: SessionInfo, contact: str) -> None:
        """Set (or replace) the recovery phone or email (see
        :meth:`Profile.set_recovery_contact`)."""
        self.account_profile.set_recovery_contact(session, contact)

    # -- 2-step verification (TwoStep) ------------------------------------------------------

    def begin_totp(self, session: SessionInfo) -> tuple[str, str]:
        """Start 2-step verification: a new seed and its URI (see :meth:`TwoStep.begin_totp`)."""
        return self.two_step.begin_totp(session)

    def confirm_totp(self, session: SessionInfo, code: str) -> list[str]:
        """Switch 2-step verification on with a first code; returns fresh recovery codes."""
        return self.two_step.confirm_totp(session, code)

    def disable_two_step(self, session: SessionInfo, code: str) -> None:
        """Switch 2-step verification off (see :meth:`TwoStep.disable_two_step`)."""
        self.two_step.disable_two_step(session, code)

    def verify_totp(self, subject_id: str, code: str) -> bool:
        """Check and consume a TOTP code (replays of an accepted step are refused)."""
        return self.two_step.verify_totp(subject_id, code)

    # -- help centre (HelpCentre) -----------------------------------------------------------

    def request_help(self, identifier: str, action: str) -> str:
        """Start a help-centre action (``reset``, ``unfreeze``) for an identifier (see
        :meth:`HelpCentre.request_help`)."""
        return self.help_centre.request_help(identifier, action)

    def reset_password(self, challenge_id: str, code: str, new_password: str) -> None:
        """Set a new password with a reset code (see :meth:`HelpCentre.reset_password`)."""
        self.help_centre.reset_password(challenge_id, code, new_password)

    def change_password(self, session: SessionInfo, new_password: str) -> None:
        """Change the password from a fresh session (see :meth:`HelpCentre.change_password`)."""
        self.help_centre.change_password(session, new_password)

    def unfreeze(self, challenge_id: str, code: str, password: str) -> None:
        """Unfreeze an account with a code sent to it and its password."""
        self.help_centre.unfreeze(challenge_id, code, password)

    # -- account states (AccountStates) -----------------------------------------------------

    def freeze(self, subject_id: str, *, actor: str) -> None:
        """Freeze an account (e.g. a lost phone): sign-in refused, every session ended."""
        self.states.freeze(subject_id, actor=actor)

    def block(self, subject_id: str, *, actor: str) -> None:
        """Block an account (security or abuse): sign-in refused, every session ended."""
        self.states.block(subject_id, actor=actor)

    def unblock(self, subject_id: str, *, actor: str) -> None:
        """Lift a block."""
        self.states.unblock(subject_id, actor=actor)

    def set_status(
        self, subject_id: str, status: str, *, expect: tuple[str, ...], actor: str
    ) -> None:
        """Move an account between states (see :meth:`AccountStates.set_status`)."""
        self.states.set_status(subject_id, status, expect=expect, actor=actor)

    def status(self, subject_id: str) -> dict[str, Any]:
        """The account's state (status, 2-step verification, lock)."""
        return self.states.status(subject_id)
