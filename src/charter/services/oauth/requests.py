"""
A framework-neutral OAuth request for Authlib: the routers parse the HTTP request (query and
form as lists of pairs, so repeated parameters are seen) and hand this over.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._data: dict[str, str] = {}
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._data.setdefault(key, value)
            self._datalist[key].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class OAuthRequest(OAuth2Request):  # type: ignore[misc]
    """One HTTP request to an OAuth endpoint."""

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        query: Sequence[tuple[str, str]] = (),
        form: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self._args = {k: v for k, v in reversed(list(query))}
        self._form = {k: v for k, v in reversed(list(form))}
        self.payload = _Payload([*query, *form])

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form
