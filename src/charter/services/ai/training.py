"""Training data: drawn only from declared non-personal sources; personal data is refused by
the gate, and planted canaries stop a job at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from charter.errors import InputError
from charter.gate import Gate
from charter.taxonomy import Purpose

NON_PERSONAL_SOURCES: Mapping[str, str] = {
    "released_aggregates": "differentially private app-usage aggregates as released",
    "licensed_corpus": "reviewed, licensed data sets (none bundled)",
    "synthetic": "synthetic samples generated from no person's data",
}
"""The only sources a staff training-data export may draw on."""


class CanaryTrippedError(RuntimeError):
    """A training job met a planted canary record: it stops at once."""

    def __init__(self, consumed: int) -> None:
        super().__init__(f"canary record met after {consumed} record(s); training aborted")
        self.consumed = consumed


def draw(gate: Gate, subject_id: str, service: str, *, actor: str) -> list[Any]:
    """A person's data of ``service`` for training: always refused by the gate
    (``purpose_refused``, promise ``ai_technology.no_training_on_user_data``)."""
    return [
        r.value
        for r in gate.read(subject_id, service=service, purpose=Purpose.MODEL_TRAINING, actor=actor)
    ]


class TrainingJob:
    """A simulated training job that checks every record against the planted canaries."""

    def __init__(self, canaries: Iterable[str]) -> None:
        self.canaries = tuple(canaries)
        self.trained = 0

    def run(self, records: Iterable[Any]) -> int:
        """Train on ``records``; raises :class:`CanaryTrippedError` at the first canary."""
        for record in records:
            text = repr(record)
            if any(c in text for c in self.canaries):
                raise CanaryTrippedError(self.trained + 1)
            self.trained += 1
        return self.trained


def synthetic(n: int = 100) -> list[dict[str, Any]]:
    """Synthetic app-usage samples drawn from no person's data (a fixed generator)."""
    import random  # noqa: PLC0415 - only this source needs it

    rng = random.Random(0)  # noqa: S311 - synthetic samples, not a secret
    return [{"app": rng.randrange(40), "minutes": rng.randrange(1, 120)} for _ in range(n)]


class TrainingExport:
    """The staff export of training data: declared non-personal sources only."""

    def __init__(self, sources: Mapping[str, Callable[[], list[dict[str, Any]]]]) -> None:
        unknown = sorted(set(sources) - set(NON_PERSONAL_SOURCES))
        if unknown:
            raise InputError(f"undeclared training source(s): {', '.join(unknown)}")
        self.sources = dict(sources)

    def export(self, source: str, *, is_staff: bool) -> list[dict[str, Any]]:
        """
        Rows of one declared non-personal source.

        Raises:
            InputError: the source is not a declared non-personal source (a catalog service's
                personal data never is: read it through :func:`draw`, which the gate refuses).
        """
        if not is_staff:
            raise InputError("the training-data export is for staff only", field="actor")
        if source not in self.sources:
            raise InputError(
                "training data comes only from declared non-personal sources: "
                + ", ".join(sorted(self.sources)),
                field="source",
            )
        return self.sources[source]()
