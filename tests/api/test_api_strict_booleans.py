"""
A request body's yes/no field is a JSON ``true`` or ``false``: a string, a number or null is a
422 naming the field (pydantic's lax mode would read ``"yes"``, ``"off"``, ``1`` or ``0`` as a
choice the person never made in those words).
"""

from __future__ import annotations

import pytest
from api_support import Api

NOT_BOOLEANS = ("yes", "off", "true", 1, 0, None)

ROUTES = (
    ("PUT", "/v1/cloud/categories/contacts", "sync", {}),
    ("PUT", "/v1/apps/personalization", "on", {}),
    ("POST", "/v1/browser/history/clear", "confirm", {"device_id": "phone-1"}),
)


@pytest.mark.parametrize(("method", "path", "field", "rest"), ROUTES)
def test_a_yes_no_field_takes_only_true_or_false(
    api: Api, method: str, path: str, field: str, rest: dict[str, str]
) -> None:
    sid = api.subject(api.key("cloud"))
    token = api.token(sid)
    for value in NOT_BOOLEANS:
        response = api.client.request(method, path, json={**rest, field: value}, headers=token)
        assert response.status_code == 422, (path, value, response.text)
        assert response.json()["error"]["field"] == field, (path, value)
    for value in (True, False):  # a boolean gets past validation (whatever the route says next)
        response = api.client.request(method, path, json={**rest, field: value}, headers=token)
        assert response.status_code != 422 or response.json()["error"]["field"] != field, (
            path,
            value,
            response.text,
        )
