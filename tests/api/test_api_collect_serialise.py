"""The collect route's response, written from a result's columns, is byte for byte the
:class:`CollectResult` of the result's items (and valid against that model)."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from charter.api.models import rfc3339
from charter.api.routers.collect import CollectResult, _serialise
from charter.gate import BatchResult, Outcome

outcomes = st.builds(
    Outcome,
    st.booleans(),
    st.sampled_from(["stored", "consent_required", "invalid_input", "wrong_service"]),
    st.text(max_size=12),  # messages with quotes, escapes, non-ASCII
    st.booleans(),
    st.none() | st.integers(0, 4_102_444_800_000_000),
)
record_ids = st.none() | st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)


@st.composite
def results(draw: st.DrawFn) -> BatchResult:
    pool = draw(st.lists(outcomes, min_size=1, max_size=4))
    picks = draw(st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=30))
    # shared outcome objects (as the collector makes them) and equal but distinct ones
    chosen = [pool[k] if draw(st.booleans()) else Outcome(*pool[k]) for k in picks]
    ids = [draw(record_ids) for _ in chosen]
    return BatchResult(outcomes=chosen, record_ids=ids)


def _reference(result: BatchResult) -> bytes:
    items: list[dict[str, Any]] = [
        {
            "index": it.index,
            "accepted": it.accepted,
            "reason": it.reason,
            "message": it.message,
            "record_id": it.record_id,
            "stored": it.stored,
            "expires_at": rfc3339(it.expires_at),
        }
        for it in result.items
    ]
    return orjson.dumps({"accepted": result.accepted, "refused": result.refused, "items": items})


@given(result=results())
def test_the_response_is_the_result_of_the_items(result: BatchResult) -> None:
    body = _serialise(result)
    assert body == _reference(result)
    parsed = CollectResult.model_validate_json(body)
    assert [i.index for i in parsed.items] == list(range(len(result.outcomes)))
    assert parsed.accepted + parsed.refused == len(result.outcomes)
