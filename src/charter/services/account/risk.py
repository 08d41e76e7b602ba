"""
The login environment check and the human-or-bot score (pure functions).

The environment check compares a sign-in's device and network with those the account used
before: a new device or a new network (``/24`` for IPv4, ``/48`` for IPv6) is riskier and
needs a step-up. The human-or-bot score looks at motion-sensor samples and network readings
sent with the sign-in; it returns a number and keeps nothing: the caller passes the signals
in, gets a score, and the signals are never stored, logged or forwarded.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

BOT_THRESHOLD = 0.7


def network_prefix(ip: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) network of an address, or None when unknown."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))


def bot_score(signals: Mapping[str, object] | None) -> float:
    """
    0.0 (a person holding a phone) to 1.0 (a script), from accelerometer samples and network
    readings. Missing or perfectly still or perfectly regular motion is bot-like.
    """
    if not signals:
        return 0.8
    score = 0.0
    samples = signals.get("accelerometer")
    values: list[float] = []
    if isinstance(samples, Sequence) and not isinstance(samples, str):
        for sample in samples[:500]:
            if (
                isinstance(sample, Sequence)
                and len(sample) == 3
                and all(isinstance(v, int | float) for v in sample)
            ):
                values.append(math.sqrt(sum(float(v) ** 2 for v in sample)))
    if len(values) < 5:
        score += 0.6
    else:
        mean = sum(values) / len(values)
        variance = sum((v - mean) ** 2 for v in values) / len(values)
        if variance < 1e-6:  # replayed or synthetic: a held phone never keeps perfectly still
            score += 0.8
        elif not 5.0 < mean < 15.0:  # gravity is ~9.8 m/s² on a held phone
            score += 0.3
    network = signals.get("network")
    if not isinstance(network, Mapping) or network.get("type") not in (
        "wifi",
        "cellular",
        "ethernet",
    ):
        score += 0.3
    return min(score, 1.0)


@dataclass(frozen=True, slots=True)
class Assessment:
    """The outcome of the environment check."""

    step_up: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)


def assess(*, known_device: bool, known_network: bool, bot: float, pending: bool) -> Assessment:
    """Whether a sign-in with a correct password needs a step-up, and why."""
    reasons = []
    if not known_device:
        reasons.append("new_device")
    if not known_network:
        reasons.append("new_location")
    if bot >= BOT_THRESHOLD:
        reasons.append("human_check")
    if pending:
        reasons.append("unverified_contact")
    return Assessment(bool(reasons), tuple(reasons))
