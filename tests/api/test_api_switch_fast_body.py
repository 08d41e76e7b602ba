"""
The switch route's fast body parser accepts nothing :class:`SwitchChanges` refuses, and
reads what it accepts exactly as the model does (any other body goes to the model, which
gives the usual 422).
"""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from charter.api.routers.switches import SwitchChanges, fast_changes

KEYS = st.one_of(
    st.sampled_from(["cloud.authorization", "system.personalized_ads", "a.b", "A.b", "cloud"]),
    st.from_regex(r"[a-z][a-z0-9_]{0,3}\.[a-z_]{1,3}", fullmatch=True),
    st.text(max_size=6),
)
VALUES = st.one_of(st.booleans(), st.integers(-1, 2), st.sampled_from(["true", "no", None]))
CHANGES = st.one_of(
    st.dictionaries(KEYS, VALUES, max_size=4),
    st.dictionaries(KEYS, st.booleans(), min_size=99, max_size=102),
    st.lists(st.booleans(), max_size=2),
    st.none(),
)
BODIES = st.one_of(
    st.fixed_dictionaries(
        {"changes": CHANGES},
        optional={
            "source": st.sampled_from(["user", "device", "first_run", "gpc", None, 3]),
            "extra": st.booleans(),
        },
    ),
    st.lists(st.booleans(), max_size=2),
)


@given(BODIES)
def test_the_fast_parser_agrees_with_the_model(body: object) -> None:
    raw = orjson.dumps(body)
    fast = fast_changes(raw)
    try:
        model = SwitchChanges.model_validate_json(raw)
    except ValidationError:
        assert fast is None
        return
    if fast is not None:
        assert fast == (model.changes, model.source)


def test_a_body_that_is_not_json_goes_to_the_model() -> None:
    assert fast_changes(b"{not json") is None
    assert fast_changes(b'{"changes": {"cloud.authorization": false}}') == (
        {"cloud.authorization": False},
        None,
    )
