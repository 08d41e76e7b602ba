"""The HTTP side of the client: one ``httpx.Client`` per server, bearer authentication, and
the API's error shape turned into :class:`ApiError`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx


class ApiError(Exception):
    """The server refused a request; ``code``, ``message`` and ``field`` are the API's."""

    def __init__(
        self, status: int, code: str, message: str, field: str | None = None, body: Any = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.body = body


class Transport:
    """Requests to one server with one credential. With ``refresh``, a request refused as
    unauthenticated (401) gets a new token from it and is sent once more."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        client: httpx.Client | None = None,
        refresh: Callable[[], str] | None = None,
    ) -> None:
        self.http = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.refresh = refresh

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200, 201),
    ) -> httpx.Response:
        """Send a request; any status outside ``expect`` raises :class:`ApiError`."""
        extra = dict(headers or {})
        if content is not None:
            extra.setdefault("Content-Type", "application/octet-stream")
        response = self.http.request(
            method, path, json=json, content=content, params=params, headers=self.headers | extra
        )
        if response.status_code == 401 and self.refresh is not None and 401 not in expect:
            self.headers = {**self.headers, "Authorization": f"Bearer {self.refresh()}"}
            response = self.http.request(
                method,
                path,
                json=json,
                content=content,
                params=params,
                headers=self.headers | extra,
            )
        if response.status_code not in expect:
            raise error_of(response)
        return response


def error_of(response: httpx.Response) -> ApiError:
    """The :class:`ApiError` of an error response (any body shape)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("error") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        return ApiError(
            response.status_code,
            str(detail.get("code") or "error"),
            str(detail.get("message") or ""),
            detail.get("field"),
            body,
        )
    return ApiError(response.status_code, "http_error", response.reason_phrase, None, body)
