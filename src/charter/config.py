"""
Settings: where Charter keeps its data and which databases hold which region.

Read from the environment (``CHARTER_*``) with embedded defaults: everything under one data
directory, one SQLite file per region plus a control database.

- ``CHARTER_DATA_DIR``: the data directory (default ``./data``).
- ``CHARTER_CATALOG``: a catalog folder (default: the built-in reference catalog).
- ``CHARTER_CONTROL_DATABASE_URL``: the control database (API keys, subject directory).
- ``CHARTER_DATABASE_URL_<REGION>``: a region's database, e.g. ``CHARTER_DATABASE_URL_EU``.
- ``CHARTER_KEYRING``: the keyring itself (base64url), instead of ``<data dir>/keyring.json``.
- ``CHARTER_ISSUER``: the OpenID provider's public base URL (default: the address
  ``charter serve`` binds, ``http://127.0.0.1:8000``); never taken from a request.
- ``CHARTER_SENDER``: where verification codes go: ``file`` (default, one JSON line per code
  in ``<data dir>/outbox/codes.jsonl``) or ``none`` (dropped; for deployments that send
  codes through their own channel).
- ``CHARTER_ARGON2``: the password hashing profile, ``production`` (default, 46 MiB, t=2).
- ``CHARTER_MAX_BODY_BYTES``: the default request body limit (1 MiB); larger bodies get 413.
- ``CHARTER_RULE_MARKETS``: markets for catalog rules whose markets the deployment names
  (``deployment`` in the catalog), as ``<service>.<rule>=<market>,<market>`` entries separated
  by ``;``, e.g. ``themes.market_exclusion=ae,sa``; such a rule stays pending until set.
- ``CHARTER_USAGE_EPSILON_PER_QUERY``, ``CHARTER_USAGE_LIFETIME_EPSILON``: the privacy budget of
  app-usage aggregates (ε each release charges a person, and each person's lifetime cap per
  purpose); default the catalog's ``app_usage_data.aggregated_analysis`` values. A deployment
  may only tighten them (a value above the catalog's is refused at start-up), and the rendered
  paper states the values in force.
- ``CHARTER_MAX_IN_FLIGHT``: requests in flight per class before 503 with ``Retry-After``,
  e.g. ``collect=8,switches=16,signin=16,pages=32,api=32`` (those are the defaults).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from charter.errors import ConfigError

DEFAULT_ISSUER = "http://127.0.0.1:8000"
"""The address ``charter serve`` binds by default."""

SENDERS = ("file", "none")
"""Where verification codes can go."""


@dataclass(frozen=True)
class Settings:
    """Where data lives and which catalog governs it."""

    data_dir: Path = Path("data")
    catalog_path: Path | None = None
    control_url: str | None = None
    region_urls: Mapping[str, str] = field(default_factory=dict)
    issuer: str = DEFAULT_ISSUER
    sender: str = "file"
    argon2: str = "production"
    max_body_bytes: int = 1 << 20
    """The default request body limit (routes that take batches or uploads have their own)."""
    max_in_flight: str = ""
    """Requests in flight per class before 503, as ``class=number`` pairs (e.g.
    ``collect=16,signin=32``); unnamed classes keep their defaults."""
    rule_markets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Markets of catalog rules that take them from the deployment, by rule id."""
    usage_epsilon_per_query: float | None = None
    """ε one app-usage release charges each contributor (None: the catalog's value)."""
    usage_lifetime_epsilon: float | None = None
    """Each person's lifetime ε cap per purpose (None: the catalog's value)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, /, **overrides: object) -> Settings:
        """Settings from ``CHARTER_*`` environment variables; keyword overrides win."""
        env = os.environ if environ is None else environ
        prefix = "CHARTER_DATABASE_URL_"
        values: dict[str, object] = {
            "data_dir": Path(env.get("CHARTER_DATA_DIR", "data")),
            "catalog_path": Path(env["CHARTER_CATALOG"]) if env.get("CHARTER_CATALOG") else None,
            "control_url": env.get("CHARTER_CONTROL_DATABASE_URL") or None,
            "region_urls": {
                k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix) and v
            },
            "issuer": (env.get("CHARTER_ISSUER") or DEFAULT_ISSUER).rstrip("/"),
            "sender": env.get("CHARTER_SENDER") or "file",
            "argon2": env.get("CHARTER_ARGON2") or "production",
            "max_body_bytes": _positive_int(env, "CHARTER_MAX_BODY_BYTES", 1 << 20),
            "max_in_flight": env.get("CHARTER_MAX_IN_FLIGHT", ""),
            "rule_markets": parse_rule_markets(env.get("CHARTER_RULE_MARKETS", "")),
            "usage_epsilon_per_query": positive_float(env, "CHARTER_USAGE_EPSILON_PER_QUERY"),
            "usage_lifetime_epsilon": positive_float(env, "CHARTER_USAGE_LIFETIME_EPSILON"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def region_url(self, region: str) -> str:
        """The database URL of a region (a SQLite file under the data directory by default)."""
        url = self.region_urls.get(region)
        if url:
            return url
        return f"sqlite+pysqlite:///{self.data_dir / 'regions' / f'{region}.db'}"

    def control_database_url(self) -> str:
        """The control database URL."""
        return self.control_url or f"sqlite+pysqlite:///{self.data_dir / 'control.db'}"

    def outbox(self) -> Path:
        """The file the ``file`` sender appends verification codes to."""
        return self.data_dir / "outbox" / "codes.jsonl"

    def blob_dir(self, region: str) -> Path:
        """The folder of a region's encrypted blobs."""
        return self.data_dir / "blobs" / region


def parse_rule_markets(text: str) -> dict[str, tuple[str, ...]]:
    """
    ``CHARTER_RULE_MARKETS``: ``<service>.<rule>=<market>,...`` entries separated by ``;``.

    Raises:
        ConfigError: an entry is not of that form.
    """
    out: dict[str, tuple[str, ...]] = {}
    for entry in (e.strip() for e in text.split(";")):
        if not entry:
            continue
        rule, sep, listed = entry.partition("=")
        markets = tuple(m.strip().lower() for m in listed.split(",") if m.strip())
        if not sep or "." not in rule.strip() or not markets:
            raise ConfigError(
                "CHARTER_RULE_MARKETS takes <service>.<rule>=<market>,<market> entries "
                "separated by ';', e.g. themes.market_exclusion=ae,sa"
            )
        out[rule.strip()] = markets
    return out


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name)
    if not text:
        return default
    if not text.strip().isdigit() or int(text) <= 0:
        raise ConfigError(f"{name} must be a positive whole number of bytes")
    return int(text)


def positive_float(env: Mapping[str, str], name: str) -> float | None:
    """
    A positive, finite number from ``env[name]`` (None when unset or empty).

    Raises:
        ConfigError: the value is not a positive finite number.
    """
    text = (env.get(name) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} must be a positive number, e.g. {name}=0.25 (or unset it)")
    return value
