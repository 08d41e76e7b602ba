"""The collect route's fast parse accepts only what the pydantic model accepts, and reads
every accepted body into the same events (so the model's 422s stay the only errors)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from charter.api.routers.collect import (
    CollectRequest,
    _BadBlobError,
    _events,
    _fast_events,
)

SID = "s_" + "ab" * 16
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
field_values = st.sampled_from(
    [
        SID,
        SID.upper(),
        SID + "\n",
        "s_12",
        "notes",
        "Notes",
        "n" * 65,
        "app_functionality",
        "advertising",
        "nope",
        "aGVsbG8=",
        "aGVsbG8",
        "a===",
        "device:7f3a",
        "device 7f3a",
        "",
        None,
        5,
        True,
        ["notes"],
        {"a": 1},
    ]
)
keys = st.sampled_from(
    ["subject_id", "data_type", "purpose", "value", "blob_b64", "source", "extra"]
)


@st.composite
def events(draw: st.DrawFn) -> Any:
    event: dict[str, Any] = {"subject_id": SID, "data_type": "notes", "purpose": "analytics"}
    if draw(st.booleans()):
        event["value"] = draw(json_values)
    for key in draw(st.lists(keys, max_size=3)):
        event[key] = draw(field_values)
    for key in draw(st.lists(keys, max_size=1)):
        event.pop(key, None)
    return event


bodies = st.one_of(
    st.builds(lambda evs: {"events": evs}, st.lists(events(), max_size=4)),
    st.builds(lambda evs: {"events": evs, "more": 1}, st.lists(events(), max_size=2)),
    json_values,
)


def _model_events(raw: bytes) -> Any:
    try:
        return _events(CollectRequest.model_validate_json(raw), "cloud")
    except (ValidationError, _BadBlobError):
        return "refused"


@settings(max_examples=400)
@given(body=bodies)
def test_fast_parse_agrees_with_the_model(body: Any) -> None:
    try:
        raw = json.dumps(body, allow_nan=True).encode()
    except (ValueError, OverflowError):
        return
    fast = _fast_events(raw, "cloud")
    expected = _model_events(raw)
    if fast is None:
        return  # the route validates with the model then: its answer is the answer
    assert expected != "refused", body
    assert list(fast) == expected


def test_fast_parse_reads_a_plain_batch_and_leaves_bad_input_to_the_model() -> None:
    body = {
        "events": [
            {"subject_id": SID, "data_type": "notes", "purpose": "app_functionality"},
            {
                "subject_id": SID,
                "data_type": "notes",
                "purpose": "analytics",
                "value": {"title": "x"},
                "blob_b64": "aGVsbG8=",
                "source": "device:7f3a",
            },
        ]
    }
    raw = json.dumps(body).encode()
    fast = _fast_events(raw, "cloud")
    assert fast is not None and list(fast) == _model_events(raw)
    assert fast[1].blob == b"hello"
    body["events"][0]["purpose"] = "sales"
    assert _fast_events(json.dumps(body).encode(), "cloud") is None
    assert _fast_events(b"not json", "cloud") is None
    assert _fast_events(b'{"events": []}', "cloud") is None


def test_fast_parse_checks_a_repeated_field_by_its_value_not_its_position() -> None:
    good = {"subject_id": SID, "data_type": "notes", "purpose": "analytics", "value": 1}
    for field, bad in (
        ("subject_id", SID + "\n"),
        ("subject_id", [SID]),
        ("data_type", "Notes"),
        ("source", "device 7f3a"),
        ("source", ["device:7f3a"]),
        ("source", 5),
    ):
        ok = {**good, "source": "device:7f3a"} if field == "source" else good
        body = {"events": [ok, ok, {**good, field: bad}, ok]}
        raw = json.dumps(body).encode()
        assert _fast_events(raw, "cloud") is None, (field, bad)
        assert _model_events(raw) == "refused", (field, bad)
    raw = json.dumps({"events": [good, {**good, "source": "device:7f3a"}] * 3}).encode()
    fast = _fast_events(raw, "cloud")
    assert fast is not None and list(fast) == _model_events(raw)
