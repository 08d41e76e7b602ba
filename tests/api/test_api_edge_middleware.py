"""The deployment's one request-checking layer (charter.api.edge): it answers every request as
the separate middlewares did (body limits, JSON media types, catch-all, CORS, admission), on
the deployment app itself and against those middlewares stacked as before."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI, Request
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from starlette.types import Message, Scope

from charter.api import errors
from charter.api.admission import CLASSES, Admission
from charter.api.edge import EdgeMiddleware
from charter.api.limits import BodyLimitMiddleware
from charter.api.media import JsonBodyMiddleware
from charter.app import Charter

LIMIT = 64


class Item(BaseModel):
    name: str


def little_app(stack: str) -> FastAPI:
    """A JSON route, a raw-body route and a route that fails, behind the old middlewares
    (``stack="old"``, as create_api stacked them before the edge, admission aside) or the
    edge."""
    app = FastAPI()
    errors.install_handlers(app)

    @app.post("/v1/items")
    async def add(item: Item) -> dict[str, str]:
        return {"name": item.name}

    @app.post("/v1/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @app.get("/v1/boom")
    async def boom() -> None:
        raise RuntimeError("secret value 42")

    if stack == "old":
        app.add_middleware(errors.CatchAllMiddleware)
        app.add_middleware(JsonBodyMiddleware)
        app.add_middleware(BodyLimitMiddleware, default=LIMIT, routes={})
    else:
        app.add_middleware(
            EdgeMiddleware,
            admission=Admission(dict.fromkeys(CLASSES, 1_000)),
            cors_allowed=lambda origin: False,
            max_body=LIMIT,
            routes={},
        )
    return app


def call(
    app: FastAPI, method: str, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> tuple[int, bytes]:
    """One request straight over ASGI: (status, body)."""
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks or [b""])
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT"]),
    path=st.sampled_from(["/v1/items", "/v1/raw", "/v1/boom", "/v1/none"]),
    length=st.one_of(st.none(), st.sampled_from(["0", "", " 12 ", "x"]), st.integers(0, 200)),
    chunked=st.booleans(),
    content_type=st.sampled_from(
        [None, b"application/json", b"text/plain", b"application/json; charset=utf-8"]
    ),
    chunks=st.lists(st.binary(max_size=50), max_size=3),
    json_body=st.booleans(),
)
@example(  # a declared empty body wins over Transfer-Encoding, as before
    method="POST",
    path="/v1/items",
    length="0",
    chunked=True,
    content_type=b"text/plain",
    chunks=[b"{}"],
    json_body=False,
)
def test_the_edge_answers_as_the_separate_middlewares_did(
    method: str,
    path: str,
    length: int | str | None,
    chunked: bool,
    content_type: bytes | None,
    chunks: list[bytes],
    json_body: bool,
) -> None:
    if json_body:
        chunks = [b'{"name": "x"}']
    headers: list[tuple[bytes, bytes]] = []
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    if chunked:
        headers.append((b"transfer-encoding", b"chunked"))
    if content_type is not None:
        headers.append((b"content-type", content_type))
    before = call(little_app("old"), method, path, headers, chunks)
    after = call(little_app("edge"), method, path, headers, chunks)
    assert after == before
    if path == "/v1/boom" and method == "GET" and before[0] == 500:
        assert b"secret" not in after[1]  # the catch-all's generic message


def test_the_edge_keeps_each_answer() -> None:
    app = little_app("edge")
    json = [(b"content-type", b"application/json")]
    assert (
        call(app, "POST", "/v1/items", [*json, (b"content-length", b"13")], [b'{"name": "x"}'])[0]
        == 200
    )
    status, body = call(app, "POST", "/v1/items", [(b"content-length", b"2")], [b"{}"])
    assert status == 415 and b"unsupported_media_type" in body
    status, body = call(app, "POST", "/v1/raw", [(b"content-length", b"999")], [])
    assert status == 413 and b"too_large" in body
    chunked = [(b"transfer-encoding", b"chunked")]
    status, body = call(app, "POST", "/v1/raw", chunked, [b"x" * 40, b"x" * 40])
    assert status == 413 and b"too_large" in body  # cut while it streams
    assert call(app, "POST", "/v1/raw", chunked, [b"x" * 40])[0] == 200
    status, body = call(app, "GET", "/v1/boom", [], [])
    assert status == 500 and b"internal_error" in body and b"secret" not in body


def test_the_deployment_app_sends_cors_headers_on_the_provider_endpoints_only(
    app: FastAPI, client: Any, charter: Charter
) -> None:
    charter.oauth.clients.add("Spa", ["http://127.0.0.1:8001/cb"])
    origin = {"Origin": "http://127.0.0.1:8001"}
    found = client.get("/.well-known/openid-configuration", headers=origin)
    assert found.status_code == 200
    assert found.headers["access-control-allow-origin"] == "http://127.0.0.1:8001"
    assert found.headers["vary"] == "Origin"
    stranger = client.get(
        "/.well-known/openid-configuration", headers={"Origin": "http://127.0.0.1:9"}
    )
    assert "access-control-allow-origin" not in stranger.headers
    assert stranger.headers["vary"] == "Origin"
    preflight = client.options(
        "/oauth/token", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-methods"] == "GET, POST"
    other = client.get("/healthz", headers=origin)
    assert "access-control-allow-origin" not in other.headers and "vary" not in other.headers


@pytest.mark.parametrize("path", ["/v1/subjects", "/v1/account/login"])
def test_the_deployment_app_bounds_and_checks_bodies(client: Any, path: str) -> None:
    too_big = client.post(
        path,
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": str(10 << 20)},
    )
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "too_large"
    plain = client.post(
        path, content=b'{"kind": "account"}', headers={"Content-Type": "text/plain"}
    )
    assert plain.status_code == 415
    assert plain.json()["error"]["code"] == "unsupported_media_type"


def test_the_deployment_app_answers_an_unexpected_failure_in_the_error_shape(
    app: FastAPI, client: Any
) -> None:
    async def boom() -> None:
        raise RuntimeError("secret value 42")

    app.add_api_route("/v1/test-boom", boom)
    answer = client.get("/v1/test-boom")
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal_error"
    assert "secret" not in answer.text


def test_the_deployment_app_is_one_layer_over_fastapi(app: FastAPI) -> None:
    ours = [m.cls for m in app.user_middleware]
    assert ours == [EdgeMiddleware]
