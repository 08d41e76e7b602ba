"""
T2 (reduced for CI): a Hypothesis state machine interleaves grant, withdraw, write and read
against an in-memory model. Invariant: an operation succeeds iff its legal basis (the
governing switches for that service, purpose and subject) is active when it runs, and a read
returns exactly the model's live records.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from charter.app import Charter
from charter.config import Settings
from charter.errors import RefusedError
from charter.gate import Event
from charter.policy import SubjectKind
from charter.taxonomy import Purpose
from charter.testing import FakeClock

# (service, data type, purpose) operations and the switches that must all be on.
OPS = {
    ("themes", "search_history", Purpose.PERSONALIZATION): (
        "themes.authorization",
        "themes.personalization",
    ),
    ("themes", "advertising_data", Purpose.ADVERTISING): (
        "themes.authorization",
        "themes.ads",
        "system.personalized_ads",
    ),
    ("themes", "favorite_resource_list", Purpose.APP_FUNCTIONALITY): ("themes.authorization",),
    ("cloud", "notes", Purpose.APP_FUNCTIONALITY): ("cloud.authorization",),
    ("advertisement", "advertising_data", Purpose.ADVERTISING): ("system.personalized_ads",),
}
SWITCHES = sorted({k for keys in OPS.values() for k in keys})


class ConsentMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp())
        Charter.init(self.tmp / "data")
        self.charter = Charter.open(Settings(data_dir=self.tmp / "data"), clock=FakeClock())
        self.subject = self.charter.gate.create_subject(SubjectKind.ACCOUNT, "de").id
        self.switches = {k: self.charter.compiled.defaults[k] for k in SWITCHES}
        self.records: dict[tuple[str, str, Purpose], list[str]] = {op: [] for op in OPS}
        self.counter = 0

    def teardown(self) -> None:
        self.charter.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _allowed(self, op: tuple[str, str, Purpose]) -> bool:
        return all(self.switches[k] for k in OPS[op])

    @rule(key=st.sampled_from(SWITCHES), value=st.booleans())
    def set_switch(self, key: str, value: bool) -> None:
        before = self.switches[key]
        self.charter.gate.set_switches(self.subject, {key: value}, source="user", actor="subject")
        self.switches[key] = value
        if before and not value and key.endswith(".authorization"):
            service = key.removesuffix(".authorization")
            consent = self.charter.catalog.service(service).controls.consent
            if consent is not None and "delete_server_data" in {
                e.value for e in consent.on_withdrawal
            }:
                for op in self.records:
                    if op[0] == service:
                        self.records[op] = []

    @rule(op=st.sampled_from(sorted(OPS)))
    def write(self, op: tuple[str, str, Purpose]) -> None:
        self.counter += 1
        value = f"v{self.counter}"
        res = self.charter.gate.collect(
            [Event(self.subject, op[0], op[1], op[2], value)], actor="t"
        )
        assert res.items[0].accepted == self._allowed(op), (op, self.switches, res.items[0])
        if res.items[0].accepted:
            self.records[op].append(value)

    @rule(op=st.sampled_from(sorted(OPS)))
    def read(self, op: tuple[str, str, Purpose]) -> None:
        service, data_type, purpose = op
        try:
            got = self.charter.gate.read(
                self.subject, service=service, purpose=purpose, data_type=data_type, actor="t"
            )
        except RefusedError:
            assert not self._allowed(op)
            return
        assert self._allowed(op)
        expected = [
            v
            for o, vals in self.records.items()
            if o[0] == service and o[1] == data_type
            for v in vals
        ]
        assert sorted(r.value for r in got) == sorted(expected)

    @precondition(lambda self: self.counter > 0)
    @invariant()
    def history_is_complete(self) -> None:
        history = self.charter.gate.switch_history(self.subject)
        assert all(h.source == "user" for h in history)


ConsentMachine.TestCase.settings = settings(max_examples=15, stateful_step_count=40, deadline=None)
TestConsent = ConsentMachine.TestCase
