"""
:class:`Usage`: the app usage data service of a deployment (events, aggregates, local
privacy), as the composition root builds it.
"""

from __future__ import annotations

from charter.gate import Gate
from charter.services.usage.analytics import Analytics
from charter.services.usage.events import UsageEvents
from charter.services.usage.local import LocalReports
from charter.services.usage.params import UsageParams


class Usage:
    """``events`` (through the gate), ``analytics`` (DP aggregates with a budget) and
    ``local`` (locally private reports and their estimates)."""

    def __init__(self, gate: Gate) -> None:
        self.params = UsageParams.from_catalog(gate.catalog)
        self.events = UsageEvents(gate, self.params)
        self.analytics = Analytics(gate, self.params)
        self.local = LocalReports(gate, self.params)
