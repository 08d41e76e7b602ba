"""
App usage telemetry on the device, as the catalog declares it (``app_usage_data``), each
kind with its own fields and its own frequency:

- **usage sequence** (rule ``event_usage_sequence``): how an app is opened, closed and used;
  kept on the device and sent in batches several times a day (every
  :data:`SEQUENCE_EVERY_HOURS` hours, at :meth:`AppTelemetry.tick`);
- **app status** (rule ``event_app_status``): install with its source, first launch, update,
  removal; sent when it happens;
- **installed-apps snapshot** (rule ``event_installed_apps_snapshot``): the installed apps,
  at most once a day per device (the day of the last one is kept in the owner's space);
- **essential telemetry** (rule ``essential_telemetry``): the system-update and security
  counters; the only kind that still leaves with "Usage and Diagnostics" off.

Every event is checked against the declared fields before it is queued (an undeclared field
is refused on the device, :class:`~charter.errors.InputError`, and nothing is sent); the
person's switches decide in :class:`~charter.device.usage.UsageReporter`, before anything
leaves. The declared kinds are read from the catalog the device ships with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from charter.catalog import Catalog, builtin_catalog_path, load_catalog
from charter.clock import Clock
from charter.device.db import Connection, set_setting, setting
from charter.device.usage import ESSENTIAL, UsageEvent, UsageReporter
from charter.errors import ConfigError, InputError

SERVICE = "app_usage_data"
SEQUENCE = "usage_sequence"
STATUS = "app_status"
SNAPSHOT = "installed_apps_snapshot"
SEQUENCE_EVERY_HOURS = 4
"""Usage sequences leave in a batch every 4 hours: several times (6) a day."""
HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US

Value = str | int | bool | list[str]


@dataclass(frozen=True, slots=True)
class Declared:
    """What the catalog declares for app usage events: each kind's fields, the snapshot's
    daily cap, and what essential telemetry is for."""

    fields: Mapping[str, frozenset[str]]
    snapshot_per_day: int
    essential_for: tuple[str, ...]
    essential_fields: frozenset[str]

    @classmethod
    def of(cls, catalog: Catalog) -> Declared:
        """Read the rules of ``app_usage_data``.

        Raises:
            ConfigError: a rule or parameter the device needs is missing.
        """
        rules = {r.id: r for r in catalog.service(SERVICE).rules}
        try:
            fields = {
                str(r.params["kind"]): frozenset(str(f) for f in _seq(r.params["fields"]))
                for r in rules.values()
                if r.id.startswith("event_")
            }
            per_day = rules["event_installed_apps_snapshot"].params["per_day"]
            essential = rules["essential_telemetry"].params
            return cls(
                fields,
                int(str(per_day)),
                tuple(str(f) for f in _seq(essential["for"])),
                frozenset(str(f) for f in _seq(essential["fields"])),
            )
        except KeyError as exc:
            raise ConfigError(
                f"catalog service {SERVICE}: rule or parameter {exc} missing"
            ) from None


def _seq(value: object) -> tuple[object, ...]:
    return tuple(value) if isinstance(value, list | tuple) else (value,)


@cache
def declared() -> Declared:
    """The declarations of the catalog the device ships with (read once)."""
    return Declared.of(load_catalog(builtin_catalog_path()))


class AppTelemetry:
    """The device's app usage telemetry, paced as declared."""

    def __init__(
        self,
        reporter: UsageReporter,
        conn: Connection,
        clock: Clock,
        rules: Declared | None = None,
    ) -> None:
        self.reporter = reporter
        self.conn = conn
        self.clock = clock
        self.rules = rules or declared()
        self.sequences: list[UsageEvent] = []
        """Usage sequences waiting for the next batch (in memory: counts, not content)."""
        self.batches = 0
        """How many usage-sequence batches left the device."""

    def _event(self, kind: str, package: str, fields: Mapping[str, Value]) -> UsageEvent:
        allowed = self.rules.fields[kind]
        extra = sorted(set(fields) - allowed)
        if extra:
            raise InputError(
                f"{kind} does not declare field(s) {', '.join(extra)}; "
                f"declared: {', '.join(sorted(allowed))}",
                field="fields",
            )
        return UsageEvent(SERVICE, kind, 1, kind=kind, fields=tuple(sorted(fields.items())))

    def used(self, package: str, **fields: Value) -> None:
        """An app was opened, closed or used: a usage-sequence event, sent with the next
        batch (:meth:`tick`); dropped at once when the switches do not allow it.

        Raises:
            InputError: a field the catalog does not declare for usage sequences."""
        event = self._event(SEQUENCE, package, {"package_name": package, **fields})
        if not self.reporter.allowed(event):  # recorded while the switches are off: never kept
            self.reporter.dropped += 1
            return
        self.sequences.append(event)

    def status(self, package: str, **fields: Value) -> bool:
        """An app's status changed (installed with its source, first launch, update,
        removal): sent now; whether the switches let it leave.

        Raises:
            InputError: a field the catalog does not declare for app status."""
        event = self._event(STATUS, package, {"package_name": package, **fields})
        sent = self.reporter.offer(event)
        self.reporter.flush()
        return sent

    def essential(self, purpose: str, **fields: Value) -> bool:
        """Essential telemetry (system updates or security): sent now, whatever the usage
        switches.

        Raises:
            InputError: a purpose or field it does not declare."""
        if purpose not in self.rules.essential_for:
            raise InputError(
                f"essential telemetry serves only {', '.join(self.rules.essential_for)}",
                field="purpose",
            )
        extra = sorted(set(fields) - self.rules.essential_fields)
        if extra:
            raise InputError(
                f"essential telemetry does not declare field(s) {', '.join(extra)}",
                field="fields",
            )
        wire = tuple(sorted({**fields, "purpose": purpose}.items()))
        sent = self.reporter.offer(UsageEvent("system", purpose, 1, kind=ESSENTIAL, fields=wire))
        self.reporter.flush()
        return sent

    def snapshot_due(self) -> bool:
        """Whether a day has passed since the last installed-apps snapshot left."""
        last = setting(self.conn, "usage_snapshot_at")
        return last is None or self.clock() - int(last) >= DAY_US // self.rules.snapshot_per_day

    def snapshot(self, apps: list[str]) -> bool:
        """Send the installed-apps snapshot (the packages installed) if one is due (at most
        once a day); whether it left."""
        if not self.snapshot_due():
            return False
        fields: dict[str, Value] = {"package_name": sorted(apps), "recent_updates": []}
        sent = self.reporter.offer(self._event(SNAPSHOT, "", fields))
        if sent:
            self.reporter.flush()
            set_setting(self.conn, "usage_snapshot_at", str(self.clock()))
        return sent

    def tick(self, apps: list[str]) -> int:
        """The device's periodic round: the usage-sequence batch when
        :data:`SEQUENCE_EVERY_HOURS` have passed since the last, and the daily snapshot when
        due; how many usage sequences were offered."""
        now = self.clock()
        last = int(setting(self.conn, "usage_sequence_at", "0") or 0)
        offered = 0
        if self.sequences and now - last >= SEQUENCE_EVERY_HOURS * HOUR_US:
            batch, self.sequences = self.sequences, []
            for event in batch:
                offered += self.reporter.offer(event)
            self.reporter.flush()
            self.batches += 1
            set_setting(self.conn, "usage_sequence_at", str(now))
        self.snapshot(apps)
        return offered
