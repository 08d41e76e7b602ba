"""
Serving a deployment with uvicorn, bounded against slow and many clients.

- **Headers in time:** a connection must send a request's headers within
  ``CHARTER_HEADER_TIMEOUT`` seconds (10) of opening or of its previous response, and the
  body within ``CHARTER_BODY_TIMEOUT`` seconds (60) of the headers; otherwise it is closed.
  Dripping one byte a second no longer holds a connection forever.
- **So many connections:** at most ``CHARTER_MAX_CONNECTIONS`` are open (default: the open
  file limit less a reserve). At the cap, a new connection evicts the oldest one still
  waiting for its headers (the slowest client); only when none is waiting is the new one
  closed. A health check gets through a flood of slow clients.
- **Shedding before any work:** under overload (:mod:`charter.api.admission`), a complete
  request without a body that admission refuses is answered 503 with ``Retry-After`` by the
  protocol itself, from prepared bytes: no parsing past the request line, no ASGI task, no
  middleware; the 503s of a turn of the loop are written in that turn, right after the
  requests it admitted have started. What it admits is parsed and served as usual, counted
  once.
- **Every waiting connection accepted at once:** uvloop (libuv) accepts one connection per
  turn of the event loop, so under a storm of connections each newcomer (and the request it
  already sent) waited behind hundreds of turns; :class:`DrainingServer` also accepts, each
  time the listening socket is ready, every connection waiting in its backlog.
- The open-file soft limit is raised to the hard limit at start.

For the internet, run it behind a reverse proxy that buffers requests (see docs/api.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import resource
import socket
import sys
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote

import h11
import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.h11_impl import H11Protocol

from charter.api.admission import ADMITTED, EXEMPT, Admission, arrive, refusal
from charter.config import Settings
from charter.errors import ConfigError

ACCEPT_BATCH = 1024
"""Connections accepted at most each time the listening socket is ready (then the loop turns)."""

FD_RESERVE = 64
"""File descriptors kept for databases, blobs and logs when the cap follows the limit."""


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """How long a client may take and how many may be connected."""

    header_timeout: float = 10.0
    body_timeout: float = 60.0
    max_connections: int = 1000

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ServerLimits:
        """Limits from ``CHARTER_HEADER_TIMEOUT``, ``CHARTER_BODY_TIMEOUT`` and
        ``CHARTER_MAX_CONNECTIONS``; the connection cap defaults to the open file limit
        less :data:`FD_RESERVE`.

        Raises:
            ConfigError: a value that is not a positive number.
        """
        source = dict(os.environ if env is None else env)
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        default_cap = max(16, min(10_000, soft - FD_RESERVE))
        return cls(
            _number(source, "CHARTER_HEADER_TIMEOUT", 10.0),
            _number(source, "CHARTER_BODY_TIMEOUT", 60.0),
            int(_number(source, "CHARTER_MAX_CONNECTIONS", default_cap)),
        )


def _number(env: dict[str, str], name: str, default: float) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1
    if value <= 0:
        raise ConfigError(f"{name} must be a positive number")
    return value


_NOT_PLAIN = (
    b"\r\ncontent-length:",
    b"\r\ntransfer-encoding:",
    b"\r\nconnection:",
    b"\r\nupgrade:",
    b"\r\nexpect:",
)
"""Headers that take a request off the fast shedding path (a body, a connection change)."""


def plain_path(data: bytes) -> str | None:
    """The path of ``data`` if it is exactly one complete HTTP/1.1 request with no body and
    no connection-changing header (what the protocol may shed without parsing further);
    None otherwise."""
    end = data.find(b"\r\n\r\n")
    if end != len(data) - 4:
        return None
    line_end = data.find(b"\r\n")
    method, _, rest = data[:line_end].partition(b" ")
    target, _, version = rest.partition(b" ")
    if version != b"HTTP/1.1" or not target.startswith(b"/") or not method.isalpha():
        return None
    head = data[line_end:].lower()
    if any(name in head for name in _NOT_PLAIN):
        return None
    path = target.partition(b"?")[0].decode("latin-1")
    return unquote(path) if "%" in path else path


def refusal_head(name: str) -> tuple[bytes, bytes]:
    """The status line and headers (without the server's default ones) and the body of a
    class's 503 as bytes on the wire."""
    start, body = refusal(name)
    head = b"HTTP/1.1 503 Service Unavailable\r\n" + b"".join(
        key + b": " + value + b"\r\n" for key, value in start["headers"]
    )
    return head, body["body"]


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with header and body deadlines, a connection cap and shedding
    before any work (see the module)."""

    limits: ClassVar[ServerLimits] = ServerLimits()
    admission: ClassVar[Admission | None] = None
    """The app's admission control (``app.state.admission``); None: no shedding here."""
    refusals: ClassVar[dict[str, tuple[bytes, bytes]]] = {}
    pending: ClassVar[list[BoundedH11Protocol]] = []
    """Connections with a 503 decided in this turn of the loop and not yet written (see
    :func:`write_pending`)."""
    flush: ClassVar[asyncio.Handle | None] = None
    """The scheduled :func:`write_pending`, or None."""
    defaults: ClassVar[tuple[list[tuple[bytes, bytes]], bytes]] = ([], b"")
    """The server's default headers (``date``, ``server``) and their bytes, kept while the
    server keeps the same list."""
    waiting: ClassVar[OrderedDict[int, BoundedH11Protocol]] = OrderedDict()
    """Connections waiting for a request's headers, oldest first (by id)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._armed_at = 0.0
        self.unsent: bytes | None = None
        """A 503 decided but not yet written (see :func:`write_pending`)."""
        self.shed_at: float | None = None
        """When a request was last shed (loop time), or None."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections and not self._evict_slowest():
            transport.close()
            return
        super().connection_made(transport)
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.waiting.pop(id(self), None)
        if getattr(self, "transport", None) is not None:
            super().connection_lost(exc)

    def send_unsent(self) -> None:
        """Write this connection's 503 not yet written, if any (answers keep their order)."""
        answer, self.unsent = self.unsent, None
        if answer is not None and not self.transport.is_closing():
            self.transport.write(answer)

    def data_received(self, data: bytes) -> None:
        if self.unsent is not None:  # more bytes before the turn's end: answer in order
            self.send_unsent()
        admission = self.admission
        conn = self.conn
        if admission is None or conn.their_state is not h11.IDLE or conn.our_state is not h11.IDLE:
            super().data_received(data)
            return
        path = plain_path(data)
        if path is None or path in EXEMPT or conn.trailing_data[0]:
            super().data_received(data)
            return
        name, admitted = arrive(admission, path)
        if not admitted:
            self._shed(name)
            return
        tasks = len(self.tasks)
        token = ADMITTED.set(name)
        try:
            super().data_received(data)
        finally:
            ADMITTED.reset(token)
            if len(self.tasks) == tasks:  # refused by the parser: no request will finish
                admission.done(name)
            elif BoundedH11Protocol.flush is not None:  # the 503s after this request's start
                BoundedH11Protocol.flush.cancel()
                BoundedH11Protocol.flush = self.loop.call_soon(write_pending)

    def _shed(self, name: str) -> None:
        """Answer the request just read 503 from prepared bytes and wait for the next one.
        The connection's timers are not re-armed (that would cost more than the answer): the
        keep-alive and header deadlines count from the last shed when they fire."""
        head, body = self.refusals[name]
        defaults = self.server_state.default_headers
        if defaults is not BoundedH11Protocol.defaults[0]:
            joined = b"".join(k + b": " + v + b"\r\n" for k, v in defaults)
            BoundedH11Protocol.defaults = (defaults, joined)
        answer = head + BoundedH11Protocol.defaults[1] + b"\r\n" + body
        self.unsent = answer
        BoundedH11Protocol.pending.append(self)
        if BoundedH11Protocol.flush is None:
            BoundedH11Protocol.flush = self.loop.call_soon(write_pending)
        self.server_state.total_requests += 1
        self.shed_at = self.loop.time()
        if id(self) in self.waiting:
            self.waiting.move_to_end(id(self))  # active, not the slowest

    def timeout_keep_alive_handler(self) -> None:
        shed_at = self.shed_at
        if shed_at is not None and self.loop.time() < shed_at + self.timeout_keep_alive:
            self.timeout_keep_alive_task = self.loop.call_at(
                shed_at + self.timeout_keep_alive, self.timeout_keep_alive_handler
            )
            return
        super().timeout_keep_alive_handler()

    def handle_events(self) -> None:
        super().handle_events()
        state = self.conn.their_state
        if state is h11.SEND_BODY and id(self) in self.waiting:
            self.waiting.pop(id(self), None)
            self._arm(self.limits.body_timeout)
        elif state in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR):
            self.waiting.pop(id(self), None)
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_headers()

    def _await_headers(self) -> None:
        self.waiting[id(self)] = self
        self._arm(self.limits.header_timeout)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._armed_at = self.loop.time()
        self._deadline = self.loop.call_later(seconds, self.deadline_passed)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def deadline_passed(self) -> None:
        self._deadline = None
        shed_at = self.shed_at
        if shed_at is not None and shed_at > self._armed_at:  # a request came (and was shed)
            self._armed_at = shed_at
            self._deadline = self.loop.call_at(
                shed_at + self.limits.header_timeout, self.deadline_passed
            )
            return
        self.waiting.pop(id(self), None)
        if self.conn.their_state in (h11.IDLE, h11.SEND_BODY):
            self.transport.close()

    def _evict_slowest(self) -> bool:
        while self.waiting:
            _, oldest = self.waiting.popitem(last=False)
            if not oldest.transport.is_closing():
                oldest.transport.close()
                return True
        return False


def write_pending() -> None:
    """Write the 503s shed in this turn of the event loop. They are written once the requests
    admitted in the same turn have started (the callback is queued behind the last of them),
    not each as it is read: a write to a socket costs more than the decision, and the
    admitted requests would otherwise wait for every 503 of their turn to be written."""
    BoundedH11Protocol.flush = None
    pending, BoundedH11Protocol.pending = BoundedH11Protocol.pending, []
    for protocol in pending:
        protocol.send_unsent()


def shed_in_protocol(app: Any) -> None:
    """Let the protocol shed with the admission control of ``app`` (``app.state.admission``;
    an app without one is not shed by the protocol)."""
    admission = getattr(getattr(app, "state", None), "admission", None)
    if isinstance(admission, Admission):
        BoundedH11Protocol.admission = admission
        BoundedH11Protocol.refusals = {name: refusal_head(name) for name in admission.limits}


class DrainingServer(uvicorn.Server):
    """uvicorn's server that also drains the listen backlog each time it is ready (see the
    module): a duplicate of each listening socket is watched by the event loop, and every
    connection waiting on it is accepted and handed to a protocol as uvicorn's would be."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._listeners: list[socket.socket] = []

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.started:
            return
        loop = asyncio.get_running_loop()
        for server in self.servers:
            for listening in server.sockets:
                listener = socket.socket(fileno=os.dup(listening.fileno()))
                listener.setblocking(False)
                loop.add_reader(listener.fileno(), self.accept_waiting, loop, listener)
                self._listeners.append(listener)

    def _protocol(self) -> asyncio.Protocol:
        config = self.config
        return config.http_protocol_class(  # type: ignore[call-arg]
            config=config, server_state=self.server_state, app_state=self.lifespan.state
        )

    def accept_waiting(self, loop: asyncio.AbstractEventLoop, listener: socket.socket) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # out of descriptors or aborted: uvloop's own accept reports it
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            loop.create_task(loop.connect_accepted_socket(self._protocol, conn))

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        for listener in self._listeners:
            loop.remove_reader(listener.fileno())
            listener.close()
        self._listeners.clear()
        await super().shutdown(sockets)


def serve(config: uvicorn.Config) -> None:
    """Run :class:`DrainingServer` with ``config`` as ``uvicorn.run`` runs its server (one
    process, no reload); exits with uvicorn's start-up failure code if it did not start."""
    server = DrainingServer(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def raise_open_file_limit() -> int:
    """Raise the open-file soft limit to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard
    return soft


def freeze_startup_heap() -> None:
    """Move every object made while starting (modules, the catalog, the app and its routes)
    out of the garbage collector's view: they live as long as the process, and a full
    collection no longer walks them while requests wait (it stalled the single SQLite writer
    for 100-400 ms under collect load)."""
    gc.collect()
    gc.freeze()


SERVER_OPTIONS: dict[str, Any] = {
    "http": BoundedH11Protocol,
    "timeout_keep_alive": 5,
    "backlog": 2048,
}
"""uvicorn's options for ``charter serve``, one process or several: the bounded protocol,
keep-alive connections closed after 5 idle seconds, a listen backlog for bursts."""


def run(app: Any, *, host: str, port: int, log_level: str = "info") -> None:
    """Serve ``app`` with the bounded protocol and limits from the environment."""
    raise_open_file_limit()
    freeze_startup_heap()
    BoundedH11Protocol.limits = ServerLimits.from_env()
    shed_in_protocol(app)
    serve(uvicorn.Config(app, host=host, port=port, log_level=log_level, **SERVER_OPTIONS))


def check_workers(settings: Settings, regions: Iterable[str], workers: int) -> None:
    """
    Refuse more than one server process unless every database is PostgreSQL.

    SQLite lets one writer in at a time: in one process, writers queue on a lock and
    concurrent switch changes share a group commit; several processes would instead poll
    SQLite's lock against each other. One process is the right size there.

    Raises:
        ConfigError: a SQLite database and ``workers`` > 1 (the message names them).
    """
    if workers <= 1:
        return
    urls = {"control": settings.control_database_url()}
    urls.update({region: settings.region_url(region) for region in sorted(regions)})
    local = [name for name, url in urls.items() if not url.startswith("postgresql")]
    if local:
        raise ConfigError(
            f"--workers {workers} needs every database on PostgreSQL, but {', '.join(local)} "
            "use SQLite, which lets one writer in at a time: serve it with one worker, or set "
            "CHARTER_CONTROL_DATABASE_URL and CHARTER_DATABASE_URL_<REGION> for every region"
        )


def worker_app() -> Any:
    """The app of one worker process (``uvicorn --factory``): the deployment from the
    environment, the bounded protocol's limits read again (each worker is a fresh process)."""
    from charter.app import Charter  # noqa: PLC0415 - imported in the worker
    from charter.asgi import create_app  # noqa: PLC0415

    BoundedH11Protocol.limits = ServerLimits.from_env()
    app = create_app(Charter.open(Settings.from_env()))
    shed_in_protocol(app)
    freeze_startup_heap()
    return app


def run_workers(
    workers: int,
    *,
    data_dir: Path,
    issuer: str | None,
    host: str,
    port: int,
    log_level: str = "info",
) -> None:
    """Serve with ``workers`` processes (PostgreSQL deployments; see :func:`check_workers`)."""
    raise_open_file_limit()
    os.environ["CHARTER_DATA_DIR"] = str(data_dir)
    if issuer is not None:
        os.environ["CHARTER_ISSUER"] = issuer
    uvicorn.run(
        "charter.cli.server:worker_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level=log_level,
        **SERVER_OPTIONS,
    )
