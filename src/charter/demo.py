"""
Demo accounts and demo data for ``charter serve`` on the embedded default.

:func:`seed_demo` creates, once per data directory, two clearly marked demo accounts on
reserved ``example.org`` addresses:

- a **person** in Germany (``de``) with consent recorded for several services, data in
  them collected through the gate, a device, a request and a complaint;
- a **staff member** with the ``demo-staff`` handle for the staff pages.

Their passwords are random, generated on first seeding, returned in :class:`DemoInfo` (and
printed once by ``charter serve``), and never stored in clear. ``<data dir>/demo.json``
marks the directory as seeded (it holds no ids and no secrets), so seeding again does
nothing; delete the data directory to start over.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from charter.errors import CharterError
from charter.gate import Event
from charter.store.files import register_file_writer
from charter.taxonomy import AtRest, Qualifier

if TYPE_CHECKING:
    from charter.app import Charter
    from charter.services.account import AccountService

DEMO_FILE = "demo.json"
USER_IDENTIFIER = "demo.user@example.org"
STAFF_IDENTIFIER = "demo.staff@example.org"
STAFF_HANDLE = "demo-staff"
MARKET = "de"
SERVICES = ("themes", "browser", "cloud", "video")
"""Services the demo person uses (consent recorded, data collected)."""
DEVICE = "demo-phone-1"


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """One demo account; ``password`` is set only when it was just created."""

    role: str
    identifier: str
    account_id: str | None
    password: str | None

    def __repr__(self) -> str:
        return f"DemoAccount({self.role}, {self.identifier}, password=***)"


@dataclass(frozen=True, slots=True)
class DemoInfo:
    """What :func:`seed_demo` did."""

    created: bool
    user: DemoAccount
    staff: DemoAccount
    records: int


def demo_path(charter: Charter) -> Path:
    """Where the demo account ids are recorded."""
    return charter.settings.data_dir / DEMO_FILE


def is_demo(charter: Charter) -> bool:
    """Whether this deployment carries the demo accounts."""
    return demo_path(charter).exists()


def new_password() -> str:
    """A random demo password (four hex groups; passes the account password policy)."""
    return "demo-" + "-".join(secrets.token_hex(3) for _ in range(4))


def seed_demo(charter: Charter, *, accounts: AccountService | None = None) -> DemoInfo:
    """
    Create the demo accounts and their data unless this data directory has them already.

    Args:
        charter: the deployment.
        accounts: the account service to create accounts with (default: a new one).

    Returns:
        What was created; account ids and passwords only when this call created them.
    """
    if is_demo(charter):
        return DemoInfo(
            False,
            DemoAccount("user", USER_IDENTIFIER, None, None),
            DemoAccount("staff", STAFF_IDENTIFIER, None, None),
            0,
        )
    if accounts is None:
        accounts = charter.accounts
    user_password, staff_password = new_password(), new_password()
    user_id = accounts.create(USER_IDENTIFIER, user_password, MARKET, actor="admin:demo")
    records = _seed_person(charter, accounts, user_id)
    staff_id = accounts.create(STAFF_IDENTIFIER, staff_password, MARKET, actor="admin:demo")
    accounts.update_profile(staff_id, nickname="Demo staff member")
    charter.staff.grant(staff_id, STAFF_HANDLE, role="admin", actor="admin:demo")
    _mark(charter)
    return DemoInfo(
        True,
        DemoAccount("user", USER_IDENTIFIER, user_id, user_password),
        DemoAccount("staff", STAFF_IDENTIFIER, staff_id, staff_password),
        records,
    )


def _mark(charter: Charter) -> None:
    """Record that the demo was seeded (no ids, no secrets: deleting a demo account leaves
    nothing of it here)."""
    path = demo_path(charter)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"note": "Charter demo accounts seeded (sample data, not real people)"}, out)


def _seed_person(charter: Charter, accounts: AccountService, subject_id: str) -> int:
    """Consents, switches, one sample value per declared row of a few services, a device,
    an open request and a complaint, and a logged government request."""
    rights = charter.rights
    accounts.update_profile(subject_id, nickname="Demo user")
    rights.consents.record(subject_id, "general", method="privacy_center", actor="admin:demo")
    for service in SERVICES:
        rights.consents.record(subject_id, service, method="privacy_center", actor="admin:demo")
    charter.gate.set_switches(
        subject_id,
        {"system.user_experience_program": True, "system.usage_diagnostics": True},
        source="demo",
        actor="admin:demo",
    )
    events = []
    for (service, data_type, qualifier, purpose), row in sorted(charter.compiled.rows.items()):
        if service not in SERVICES or qualifier is not Qualifier.IDENTIFIED or not row.stored:
            continue
        if row.protection is AtRest.PASSWORD_HASH:
            continue
        label = charter.catalog.type_label(data_type)
        events.append(
            Event(
                subject_id,
                service,
                data_type,
                purpose,
                {"sample": f"Demo {label.lower()}"},
                source=DEVICE,
            )
        )
    result = charter.gate.collect(events, actor="admin:demo") if events else None
    rights.devices.register(subject_id, DEVICE)
    rights.requests.file(subject_id, "access", service="cloud", actor="admin:demo")
    rights.requests.file(
        subject_id,
        "complain",
        service="themes",
        message="Demo complaint: why are wallpaper suggestions shown after I searched once?",
        actor="admin:demo",
    )
    year = datetime.fromtimestamp(charter.clock() / 1_000_000, tz=UTC).year
    with contextlib.suppress(CharterError):
        rights.register.add(
            received_on=f"{year}-01-15",
            authority="Demo authority (sample entry)",
            country="de",
            kind="user_data",
            accounts_affected=1,
            outcome="rejected",
            actor="admin:demo",
        )
    return result.accepted if result is not None else 0


register_file_writer(
    "demo marker",
    (DEMO_FILE,),
    holds="",
    erasure="kept: it records that the demo was seeded, never an id or a secret",
)
