"""
The login environment check, after a right password: the device and the network prefix are
looked up (a new device is remembered), the risk is assessed, and either a session opens or
a step-up challenge is made (a code to the identifier, or a second factor or approval with
2-step verification). A step-up answered records the device and network as trusted.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from charter.services.account import challenges, keys, risk
from charter.services.account.context import PENDING, AccountContext
from charter.services.account.identifiers import Identifier
from charter.services.account.models import DeviceInfo, LoginOutcome
from charter.services.account.tables import devices, networks


class EnvironmentCheck:
    """Decides, after the password, between a session and a step-up."""

    def __init__(self, context: AccountContext) -> None:
        self.context = context

    def check(
        self,
        subject_id: str,
        *,
        status: str | None,
        two_step: bool,
        ident: Identifier | None,
        device: DeviceInfo,
        ip: str | None,
        score: float,
    ) -> LoginOutcome:
        """
        Open a session when device, network and bot score look familiar, else a step-up
        challenge (the code goes to ``ident`` when there is no 2-step verification).
        """
        ctx = self.context
        now = ctx.clock()
        device_id = self._remember_device(subject_id, device)
        prefix = risk.network_prefix(ip)
        net_key = keys.network_key(ctx.keyring, prefix) if prefix else None
        with ctx.control.connect().execution_options(readonly=True) as conn:
            trusted = (
                conn.execute(
                    select(devices.c.trusted).where(
                        devices.c.subject_id == subject_id, devices.c.id == device_id
                    )
                ).scalar()
                if device_id
                else False
            )
            known_net = (
                net_key is not None
                and conn.execute(
                    select(networks.c.net_key).where(
                        networks.c.subject_id == subject_id, networks.c.net_key == net_key
                    )
                ).first()
                is not None
            )
        assessment = risk.assess(
            known_device=bool(trusted),
            known_network=known_net,
            bot=score,
            pending=status == PENDING,
        )
        if not assessment.step_up:
            with ctx.control.begin() as conn:
                self.record_seen(conn, subject_id, device_id, net_key, now, trust=False)
                pair = ctx.tokens.open_session(
                    conn,
                    subject_id=subject_id,
                    kind="account",
                    limits=ctx.limits,
                    device_id=device_id,
                )
            return LoginOutcome("ok", pair, account_id=subject_id)
        approval = two_step and status != PENDING
        context = {
            "device_id": device_id,
            "net_key": net_key,
            "approval": approval,
            "reasons": list(assessment.reasons),
        }
        with ctx.control.begin() as conn:
            challenge_id, code = challenges.create(
                conn,
                ctx.keyring,
                subject_id=subject_id,
                purpose="login",
                now=now,
                context=context,
                with_code=not approval,
            )
        if code is not None and ident is not None:
            ctx.sender.send(ident, code, purpose="login")
        methods = ("totp", "recovery_code", "approval") if approval else ("code",)
        return LoginOutcome("step_up", challenge_id=challenge_id, methods=methods)

    def record_seen(
        self,
        conn: Connection,
        subject_id: str,
        device_id: str | None,
        net_key: str | None,
        now: int,
        *,
        trust: bool,
    ) -> None:
        """Note the device (and, with ``trust``, the network) as seen now; ``trust`` also
        marks the device trusted (a step-up was answered)."""
        if device_id:
            values: dict[str, Any] = {"last_seen_at": now}
            if trust:
                values["trusted"] = True
            conn.execute(
                update(devices)
                .where(devices.c.subject_id == subject_id, devices.c.id == device_id)
                .values(**values)
            )
        if net_key and trust:
            updated = conn.execute(
                update(networks)
                .where(networks.c.subject_id == subject_id, networks.c.net_key == net_key)
                .values(last_seen_at=now)
            ).rowcount
            if not updated:
                conn.execute(
                    insert(networks).values(
                        subject_id=subject_id, net_key=net_key, first_seen_at=now, last_seen_at=now
                    )
                )

    def _remember_device(self, subject_id: str, device: DeviceInfo) -> str | None:
        """The id of the account's device (a new one is stored, untrusted); ``None`` without a
        device id."""
        if not device.device_id:
            return None
        ctx = self.context
        dkey = keys.device_key(ctx.keyring, str(device.device_id)[:256])
        now = ctx.clock()
        with ctx.control.connect().execution_options(readonly=True) as conn:
            found = conn.execute(
                select(devices.c.id).where(
                    devices.c.subject_id == subject_id,
                    devices.c.device_key == dkey,
                    devices.c.removed_at.is_(None),
                )
            ).scalar()
        if found:
            return str(found)
        device_id = keys.new_id("d_")
        values: list[tuple[str, Any, str | None]] = [
            ("android_id", str(device.device_id)[:256], f"device:{device_id}")
        ]
        if device.model:
            values.append(("device_model", str(device.model)[:120], f"device:{device_id}"))
        ctx.records.write(subject_id, values)
        with ctx.control.begin() as conn:
            conn.execute(
                insert(devices).values(
                    id=device_id,
                    subject_id=subject_id,
                    device_key=dkey,
                    trusted=False,
                    created_at=now,
                    last_seen_at=now,
                )
            )
        return device_id
