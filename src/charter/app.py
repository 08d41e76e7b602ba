"""
The composition root: :meth:`Charter.open` builds one deployment from its
:class:`~charter.config.Settings` (catalog, keys, databases, the gate and its journal, and
every service) and hands each part what it needs. Nothing below imports this module; the
HTTP API, the Privacy Center, the CLI and the tests all start here::

    charter = Charter.open(Settings.from_env())
    charter.gate.collect([...], actor="service:cloud")
    charter.accounts.login(...)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from charter.catalog import Catalog, load_catalog
from charter.catalog.promises import check_deployment_markets, missing_enforcers
from charter.clock import Clock, system_clock
from charter.config import SENDERS, Settings
from charter.crypto import Keyring
from charter.errors import ConfigError
from charter.gate import Gate, Journal
from charter.policy import CompiledCatalog, compile_catalog
from charter.rights import Rights
from charter.services import ENFORCERS
from charter.services.account import (
    PRODUCTION,
    AccountService,
    Argon2Params,
    FileSender,
    HashingGate,
    NullSender,
    VerificationSender,
)
from charter.services.ads import Ads
from charter.services.ai import TrainingExport
from charter.services.ai.training import synthetic
from charter.services.app_vault import AppVault
from charter.services.browser import Browser
from charter.services.cloud import Cloud
from charter.services.credentials import Credentials
from charter.services.find_device import FindDevice
from charter.services.get_apps import GetApps
from charter.services.oauth import KeyStore, OAuthProvider
from charter.services.pay import Pay
from charter.services.staff import StaffRoles
from charter.services.themes import Themes
from charter.services.usage import Usage, tighten_budget
from charter.services.video import Video
from charter.store.files import register_file_writer
from charter.store.regions import RegionStores

PROFILES: dict[str, Argon2Params] = {"production": PRODUCTION}
"""Password hashing profiles by their ``CHARTER_ARGON2`` name."""

__all__ = ["Charter", "system_clock"]


@dataclass
class Charter:
    """A running Charter deployment: its parts, built once, shared by every front end."""

    settings: Settings
    catalog: Catalog
    compiled: CompiledCatalog
    keyring: Keyring
    stores: RegionStores
    journal: Journal
    gate: Gate
    clock: Clock
    credentials: Credentials
    accounts: AccountService
    oauth: OAuthProvider
    staff: StaffRoles
    rights: Rights
    cloud: Cloud
    usage: Usage
    ads: Ads
    training: TrainingExport
    browser: Browser
    video: Video
    pay: Pay
    themes: Themes
    app_vault: AppVault
    get_apps: GetApps
    find_device: FindDevice
    enforcers: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """The enforcers loaded services register for the catalog's ``service`` rules."""

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        clock: Clock = system_clock,
        keyring: Keyring | None = None,
        sender: VerificationSender | None = None,
        password_profile: Argon2Params | None = None,
        hashing: HashingGate | None = None,
        enforcers: Mapping[str, frozenset[str]] | None = None,
    ) -> Charter:
        """
        Open a deployment: load and compile the catalog, load the keyring, route regions,
        build the gate and every service.

        Args:
            clock: the time source (tests pass :class:`charter.testing.FakeClock`).
            keyring: a keyring to use instead of the data directory's.
            sender: where verification codes go, instead of the one settings name.
            password_profile: argon2 parameters, instead of the one settings name.
            hashing: admission control for password hashing (default: one slot per core).
            enforcers: the enforcers loaded services register for the catalog's ``service``
                rules (default: :data:`charter.services.ENFORCERS`).

        Raises:
            CatalogError: the catalog is invalid.
            ConfigError: no keyring (run ``charter init``), unsafe database settings, an
                unknown sender or password profile, markets set for an unknown rule, or a
                loaded service without an enforcer for one of its ``service`` rules.
        """
        catalog = tighten_budget(
            load_catalog(settings.catalog_path),
            epsilon_per_query=settings.usage_epsilon_per_query,
            lifetime_epsilon=settings.usage_lifetime_epsilon,
        )
        problems = check_deployment_markets(catalog, settings.rule_markets)
        if problems:
            raise ConfigError("CHARTER_RULE_MARKETS: " + "; ".join(problems))
        enforcers = ENFORCERS if enforcers is None else enforcers
        missing = missing_enforcers(catalog, enforcers)
        if missing:
            raise ConfigError(
                "a loaded service registers no enforcer for its promise(s): "
                + "; ".join(missing)
                + "; register them (charter.services.ENFORCERS) or change the rules' kind"
            )
        compiled = compile_catalog(catalog, settings.rule_markets)
        if keyring is None:
            keyring = Keyring.load_default(settings.data_dir)
        stores = RegionStores(settings, tuple(catalog.regions))
        journal = Journal(keyring, stores, clock)
        gate = Gate(catalog, compiled, keyring, stores, clock, journal)
        staff = StaffRoles(gate)
        accounts = AccountService(
            gate,
            sender=sender or _sender(settings),
            hashing=hashing,
            profile=password_profile or _profile(settings),
        )
        rights = Rights(gate, is_staff=staff.has_handle, enrolled_devices=accounts.device_ids)
        cloud = Cloud(gate, data_dir=settings.data_dir)
        usage = Usage(gate)
        return cls(
            settings=settings,
            catalog=catalog,
            compiled=compiled,
            keyring=keyring,
            stores=stores,
            journal=journal,
            gate=gate,
            clock=clock,
            credentials=Credentials(
                stores.control, keyring.hmac_key, clock, frozenset(catalog.services), gate
            ),
            accounts=accounts,
            oauth=OAuthProvider(
                gate, issuer=settings.issuer, keystore=KeyStore.for_data_dir(settings.data_dir)
            ),
            staff=staff,
            rights=rights,
            cloud=cloud,
            browser=Browser(gate, cloud=cloud, notify_devices=rights.devices.send),
            video=Video(gate),
            pay=Pay(gate),
            themes=Themes(gate),
            app_vault=AppVault(gate),
            get_apps=GetApps(gate),
            usage=usage,
            ads=Ads(gate),
            training=TrainingExport(
                {"released_aggregates": usage.analytics.third_party_view, "synthetic": synthetic}
            ),
            find_device=FindDevice(gate),
            enforcers=enforcers,
        )

    @staticmethod
    def init(data_dir: Path) -> Path:
        """
        Create the data directory (0700) and a new keyring in it (0600).

        Returns:
            The keyring path.

        Raises:
            ConfigError: a keyring already exists there.
        """
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = data_dir / "keyring.json"
        if path.exists():
            raise ConfigError(f"{path} already exists; Charter never overwrites a keyring")
        Keyring.create(path)
        return path

    def close(self) -> None:
        """Close every database connection."""
        self.stores.dispose()


def _sender(settings: Settings) -> VerificationSender:
    if settings.sender == "file":
        return FileSender(settings.outbox())
    if settings.sender == "none":
        return NullSender()
    raise ConfigError(f"unknown CHARTER_SENDER; use one of: {', '.join(SENDERS)}")


def _profile(settings: Settings) -> Argon2Params:
    profile = PROFILES.get(settings.argon2)
    if profile is None:
        raise ConfigError(f"unknown CHARTER_ARGON2 profile; use one of: {', '.join(PROFILES)}")
    return profile


register_file_writer(
    "keyring",
    ("keyring.json", "keyring.json.lock", ".keyring.lock", ".keyring.json.*.tmp"),
    holds="",
    erasure="kept: keys, never data (a subject's data key is in the database, and shredded there)",
    keys=True,
)
register_file_writer(
    "OpenID signing keys",
    ("oidc/jwks.json", "oidc/jwks.json.*.tmp"),
    holds="",
    erasure="kept: the provider's signing keys, never data",
    keys=True,
)
