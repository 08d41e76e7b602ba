"""``charter serve``'s protocol sheds a plain request that admission refuses before any ASGI
task exists, from prepared bytes, and leaves the connection ready for the next request; what
admission serves is parsed and served as usual, counted once."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import h11
import uvicorn
from hypothesis import given
from hypothesis import strategies as st
from starlette.types import Receive, Scope, Send
from uvicorn.server import ServerState

from charter.api.admission import ADMITTED, Admission, arrive
from charter.cli import server

SWITCHES = (
    b"GET /v1/subjects/s1/switches HTTP/1.1\r\nHost: charter\r\nAuthorization: Bearer x\r\n\r\n"
)


class Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 8000) if name in ("sockname", "peername") else default

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _protocol(admission: Admission, seen: list[tuple[str | None, str]]) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        name, admitted = arrive(admission, scope["path"])
        seen.append((ADMITTED.get(), name))
        assert admitted
        try:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
        finally:
            admission.done(name)

    config = uvicorn.Config(app, proxy_headers=False, lifespan="off")
    config.load()
    server.BoundedH11Protocol.admission = admission
    server.BoundedH11Protocol.refusals = {
        name: server.refusal_head(name) for name in admission.limits
    }
    protocol = server.BoundedH11Protocol(config=config, server_state=ServerState(), app_state={})
    transport = Transport()
    protocol.connection_made(transport)
    return protocol, transport


def test_a_refused_plain_request_is_answered_503_by_the_protocol() -> None:
    async def scenario() -> None:
        admission = Admission({"switches": 1})
        seen: list[tuple[str | None, str]] = []
        protocol, transport = _protocol(admission, seen)
        try:
            admission.in_flight["switches"] = 1  # the class is full
            protocol.data_received(SWITCHES)
            await asyncio.sleep(0)  # the turn's 503s are written at its end
            assert transport.written.startswith(b"HTTP/1.1 503 ")
            assert b"\r\nretry-after: 1\r\n" in transport.written.lower()
            assert b'"overloaded"' in transport.written
            assert not protocol.tasks  # no ASGI task, no middleware
            assert protocol.conn.their_state is h11.IDLE  # ready for the next request
            assert admission.shed["switches"] == 1
            # room again: the next request on the same connection is served, counted once
            admission.in_flight["switches"] = 0
            transport.written = b""
            protocol.data_received(SWITCHES)
            await asyncio.gather(*protocol.tasks)
            assert transport.written.startswith(b"HTTP/1.1 200 ")
            assert seen == [("switches", "switches")]
            assert admission.in_flight["switches"] == 0
        finally:
            server.BoundedH11Protocol.admission = None
            protocol.connection_lost(None)

    asyncio.run(scenario())


def test_a_request_the_parser_refuses_is_not_left_in_flight() -> None:
    async def scenario() -> None:
        admission = Admission()
        protocol, transport = _protocol(admission, [])
        try:
            protocol.data_received(b"GET /v1/x HTTP/1.1\r\nBad Header: x\r\n\r\n")
            assert transport.written.startswith(b"HTTP/1.1 400 ")
            assert admission.in_flight["api"] == 0
        finally:
            server.BoundedH11Protocol.admission = None
            protocol.connection_lost(None)

    asyncio.run(scenario())


BODY_HEADERS = ["Content-Length: 0", "Transfer-Encoding: chunked", "Connection: close"]


@given(
    header=st.sampled_from(BODY_HEADERS),
    case=st.sampled_from([str.lower, str.upper, str.title]),
    path=st.from_regex(r"/[a-z0-9/]{0,20}", fullmatch=True),
)
def test_only_plain_requests_take_the_fast_path(header: str, case: Any, path: str) -> None:
    plain = f"GET {path}?q=1 HTTP/1.1\r\nHost: h\r\n\r\n".encode()
    assert server.plain_path(plain) == path
    name, _, value = header.partition(":")
    other = f"POST {path} HTTP/1.1\r\nHost: h\r\n{case(name)}:{value}\r\n\r\n".encode()
    assert server.plain_path(other) is None
    assert server.plain_path(plain + plain) is None  # pipelined: h11 takes it
    assert server.plain_path(plain[:-2]) is None  # incomplete


def test_shedding_keeps_an_active_connection_open_past_its_timers() -> None:
    async def scenario() -> None:
        admission = Admission({"switches": 1})
        protocol, transport = _protocol(admission, [])
        try:
            admission.in_flight["switches"] = 1
            protocol.data_received(SWITCHES)  # shed: the timers are not re-armed ...
            # ... so when they fire, they count from the shed, which was just now
            protocol.timeout_keep_alive_handler()
            protocol.deadline_passed()
            assert not transport.closed
            assert protocol.waiting.get(id(protocol)) is protocol
            protocol.shed_at = None  # no request since: the deadline closes it
            protocol.deadline_passed()
            assert transport.closed
        finally:
            server.BoundedH11Protocol.admission = None
            protocol.connection_lost(None)

    asyncio.run(scenario())


class Loop:
    """The two calls the backlog drain makes of the event loop, recorded."""

    def __init__(self) -> None:
        self.accepted: list[socket.socket] = []

    def create_task(self, coro: Any) -> None:
        coro.close()

    def connect_accepted_socket(self, factory: Any, sock: socket.socket) -> Any:
        self.accepted.append(sock)

        async def made() -> None:
            pass

        return made()


def test_the_whole_listen_backlog_is_accepted_at_once() -> None:
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    listener.setblocking(False)
    clients = [socket.create_connection(listener.getsockname()) for _ in range(40)]
    loop = Loop()
    try:
        draining = server.DrainingServer(uvicorn.Config(app=None))
        draining.accept_waiting(loop, listener)  # type: ignore[arg-type]
        assert len(loop.accepted) == 40  # not one per turn of the loop
        draining.accept_waiting(loop, listener)  # type: ignore[arg-type]
        assert len(loop.accepted) == 40  # nothing waiting: returns at once
    finally:
        for sock in clients + loop.accepted + [listener]:
            sock.close()


def test_a_turns_503s_are_written_after_its_admitted_requests_start() -> None:
    async def scenario() -> None:
        admission = Admission({"switches": 1})
        written_at_start: list[bytes] = []
        seen: list[tuple[str | None, str]] = []
        shed_protocol, shed_transport = _protocol(admission, seen)
        served_protocol, _ = _protocol(admission, seen)

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            written_at_start.append(shed_transport.written)
            name, _ = arrive(admission, scope["path"])
            admission.done(name)

        served_protocol.app = app
        try:
            admission.in_flight["switches"] = 1
            shed_protocol.data_received(SWITCHES)  # shed first ...
            admission.in_flight["switches"] = 0
            served_protocol.data_received(SWITCHES)  # ... then one admitted, same turn
            await asyncio.gather(*served_protocol.tasks)
            await asyncio.sleep(0)
            assert written_at_start == [b""]  # the admitted one started before the 503 ...
            assert shed_transport.written.startswith(b"HTTP/1.1 503 ")  # ... then it went
        finally:
            server.BoundedH11Protocol.admission = None
            shed_protocol.connection_lost(None)
            served_protocol.connection_lost(None)

    asyncio.run(scenario())


def test_answers_keep_their_order_when_a_client_sends_again_within_the_turn() -> None:
    async def scenario() -> None:
        admission = Admission({"switches": 1})
        protocol, transport = _protocol(admission, [])
        try:
            admission.in_flight["switches"] = 1
            protocol.data_received(SWITCHES)  # shed, its 503 not yet written
            admission.in_flight["switches"] = 0
            protocol.data_received(SWITCHES)  # pipelined in the same turn: admitted
            await asyncio.gather(*protocol.tasks)
            await asyncio.sleep(0)
            assert transport.written.startswith(b"HTTP/1.1 503 ")
            assert transport.written.count(b"HTTP/1.1 ") == 2
            assert transport.written.rindex(b"HTTP/1.1 200 ") > 0
        finally:
            server.BoundedH11Protocol.admission = None
            protocol.connection_lost(None)

    asyncio.run(scenario())
