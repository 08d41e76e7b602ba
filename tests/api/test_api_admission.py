"""Admission control: past a class's limit of requests in flight, 503 with Retry-After at
once; other classes and /healthz are unaffected; the admitted request completes."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.types import Receive, Scope, Send

from charter.api.admission import (
    CLASSES,
    DEFAULT_LIMITS,
    AdmissionMiddleware,
    parse_limits,
    request_class,
)


class Blocking:
    """An app whose requests wait until released (no sleeps: an event says when)."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.arrivals: asyncio.Queue[str] = asyncio.Queue()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] != "/healthz":
            self.arrivals.put_nowait(scope["path"])
            await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})


def test_excess_requests_are_shed_at_once_and_admitted_ones_finish() -> None:
    async def run() -> None:
        inner = Blocking()
        app = AdmissionMiddleware(inner, limits={**DEFAULT_LIMITS, "collect": 1})
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            first = asyncio.create_task(client.post("/v1/collect", content=b"{}"))
            assert await inner.arrivals.get() == "/v1/collect"
            shed = await client.post("/v1/collect", content=b"{}")
            assert shed.status_code == 503
            assert shed.headers["Retry-After"] == "1"
            assert shed.json()["error"]["code"] == "overloaded"
            assert "collect" in shed.json()["error"]["message"]
            assert (await client.get("/healthz")).status_code == 200  # never refused
            inner.release.set()
            assert (await first).status_code == 200
            assert (await client.get("/v1/subjects/x/switches")).status_code == 200
        assert app.in_flight == dict.fromkeys(CLASSES, 0)
        assert app.shed["collect"] == 1

    asyncio.run(run())


def test_each_class_has_its_own_limit() -> None:
    async def run() -> None:
        inner = Blocking()
        app = AdmissionMiddleware(inner, limits={**DEFAULT_LIMITS, "signin": 1})
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            held = asyncio.create_task(client.post("/v1/account/login", content=b"{}"))
            assert await inner.arrivals.get() == "/v1/account/login"
            assert (await client.post("/oauth/token")).status_code == 503  # same class
            other = asyncio.create_task(client.get("/v1/subjects/s/records"))
            # admitted while sign-in is full: another class
            assert await inner.arrivals.get() == "/v1/subjects/s/records"
            inner.release.set()
            assert (await held).status_code == 200
            assert (await other).status_code == 200

    asyncio.run(run())


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1/collect", "collect"),
        ("/v1/subjects/s_1/switches", "switches"),
        ("/v1/subjects/s_1/switches/history", "switches"),
        ("/v1/account/login", "signin"),
        ("/v1/account/register", "signin"),
        ("/oauth/token", "signin"),
        ("/signin", "signin"),
        ("/v1/subjects/s_1/records", "api"),
        ("/.well-known/openid-configuration", "api"),
        ("/", "pages"),
        ("/admin/requests", "pages"),
    ],
)
def test_request_classes(path: str, expected: str) -> None:
    assert request_class(path) == expected


@given(st.dictionaries(st.sampled_from(CLASSES), st.integers(1, 10_000)))
def test_limits_parse_over_the_defaults(given_limits: dict[str, int]) -> None:
    text = ",".join(f"{k}={v}" for k, v in given_limits.items())
    assert parse_limits(text) == {**DEFAULT_LIMITS, **given_limits}


@pytest.mark.parametrize("bad", ["nope=3", "collect=0", "collect=-2", "collect=many", "api"])
def test_bad_limits_say_what_is_wrong(bad: str) -> None:
    with pytest.raises(ValueError, match=r"class|positive"):
        parse_limits(bad)


def test_openapi_documents_503_everywhere_and_507_on_writes(client) -> None:
    spec = client.get("/openapi.json").json()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert "503" in op["responses"], (path, method)
            if method in ("post", "put", "patch", "delete"):
                assert "507" in op["responses"], (path, method)
