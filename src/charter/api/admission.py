"""
Admission control: a request that waited too long for the event loop, or one past its class's
limit of requests in flight, is answered 503 with ``Retry-After`` at once instead of being
served late, so the requests that are admitted stay fast.

**Waiting.** A server on one event loop takes requests in turns: every request whose bytes
arrived is started one after another in the same turn of the loop. A request handled within
one turn never counts as "in flight" for long, so under a flood the in-flight counts stay low
while requests queue in the loop and in the kernel. What grows is the loop's lag
(:class:`Admission`): the span of a turn, from its first request to its end, or, after a large
turn, the time since that turn ended (``charter serve``'s protocol decides as it reads, before
the admitted requests run: their work falls between two turns). A turn is *crowded* when it
starts more than :data:`MIN_BATCH` requests and the lag passes :data:`MAX_WAIT`; once crowded,
turns stay so while they are that large. Once turns have been crowded for :data:`INTERVAL` on
end (a standing queue, not a burst), a turn serves its first request and admits at most
:data:`BUDGET` requests in all, each drawn at random (with the chance the budget over the last
turn's size gives), so no client is starved by coming later in the loop's order; every other
request is shed, as is one that would start more than :data:`MAX_WAIT` after its turn's first.
A 503 costs a small part of a served request, so the turns stay short and the admitted
requests' latency stays near the calm one. A few clients at once (at most :data:`MIN_BATCH`
requests in a turn) are never shed for waiting, however slow the machine.

**In flight.** Classes (by path): ``collect`` (``/v1/collect``), ``switches`` (a subject's
switches), ``signin`` (sign-in, registration, codes and the token endpoint: each may cost an
argon2 hash), ``pages`` (the Privacy Center) and ``api`` (every other route). Requests that
await a worker thread or a commit stay in flight across turns: past a class's limit the next
one is shed. Limits come from ``CHARTER_MAX_IN_FLIGHT`` (e.g. ``collect=16,signin=32``); the
sign-in hashing gate of the account service stays behind this as a second, tighter bound.

``/healthz`` is never refused.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from charter.api.errors import error_response

CLASSES = ("collect", "switches", "signin", "pages", "api")
"""The request classes, each with its own limit."""

DEFAULT_LIMITS: Mapping[str, int] = {
    "collect": 8,
    "switches": 16,
    "signin": 16,
    "pages": 32,
    "api": 32,
}
"""Requests in flight per class before 503, sized for one worker on a small machine (a
switch change takes 3-4 ms of CPU: 16 in flight is already ~60 ms of queue). Measured with
``bench/gate.py``: 8 in flight kept admitted switch reads at p99 0.5 s under a 200-connection
flood, 128 at 1.2 s."""

MAX_WAIT = 0.005
"""Seconds a request may wait behind the others of its turn of the event loop (see the
module docstring). About five simple requests: measured with ``bench/gate.py --overload-only``."""

MIN_BATCH = 8
"""Requests a turn starts before any is shed for waiting: a handful of clients is never shed."""

BUDGET = 4
"""Requests a turn admits at most in a standing queue (as many as the calm clients the
overload p99 is measured against), drawn at random among the turn's (see the module)."""

INTERVAL = 0.1
"""Seconds of crowded turns on end before requests are shed for waiting: a burst is served."""

RETRY_AFTER = 1
EXEMPT = frozenset({"/healthz"})

ADMITTED: ContextVar[str | None] = ContextVar("charter_admitted", default=None)
"""Set (to its class) in the context of a request that the server's protocol has already
admitted before its ASGI task existed (``charter.cli.server``): :func:`arrive` then counts
it no second time."""

_SWITCHES = re.compile(r"^/v1/subjects/[^/]+/switches(/|$)")
_SIGNIN = (
    "/v1/account/login",
    "/v1/account/register",
    "/v1/account/help",
    "/v1/account/me/password",
    "/v1/account/reauth",
    "/oauth/token",
    "/signin",
)


def request_class(path: str) -> str:
    """The admission class of a request path."""
    if path.startswith("/v1/collect"):
        return "collect"
    if _SWITCHES.match(path):
        return "switches"
    if path.startswith(_SIGNIN):
        return "signin"
    if path.startswith(("/v1/", "/oauth/", "/.well-known/", "/openapi", "/docs", "/redoc")):
        return "api"
    return "pages"


def parse_limits(text: str | None) -> dict[str, int]:
    """
    Limits from ``class=number`` pairs separated by commas, over :data:`DEFAULT_LIMITS`.

    Raises:
        ValueError: an unknown class or a number that is not a positive integer (the
            message names it and lists the classes).
    """
    limits = dict(DEFAULT_LIMITS)
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, _, number = part.partition("=")
        name, number = name.strip(), number.strip()
        if name not in CLASSES:
            raise ValueError(f"unknown request class {name!r}; use {', '.join(CLASSES)}")
        if not number.isdigit() or int(number) <= 0:
            raise ValueError(f"the limit of {name} must be a positive whole number")
        limits[name] = int(number)
    return limits


class Admission:
    """
    The admission decision, free of I/O: which request is served and which is shed.

    The caller reports each request's start (:meth:`admit`), the end of every admitted one
    (:meth:`done`) and the end of each turn of the event loop (:meth:`end_turn`); the first
    request after :meth:`end_turn` starts a new turn. Times are the caller's clock, in seconds;
    ``rng`` draws the random share of a turn a standing queue admits (see the module).
    """

    def __init__(
        self,
        limits: Mapping[str, int] = DEFAULT_LIMITS,
        *,
        max_wait: float = MAX_WAIT,
        min_batch: int = MIN_BATCH,
        budget: int = BUDGET,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.perf_counter,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if max_wait <= 0 or interval < 0 or min_batch < 1 or budget < 1:
            raise ValueError(
                "max_wait must be positive, interval not negative, min_batch and budget >= 1"
            )
        self.limits = {name: limits.get(name, DEFAULT_LIMITS[name]) for name in CLASSES}
        self.max_wait = max_wait
        self.min_batch = min_batch
        self.budget = budget
        self.interval = interval
        self.clock = clock
        self.rng = rng
        self.in_flight = dict.fromkeys(CLASSES, 0)
        self.shed = dict.fromkeys(CLASSES, 0)
        """Requests shed so far, per class (for either reason)."""
        self.shed_waiting = 0
        """Of those, the requests shed for a standing queue (waiting too long in their turn, or
        past the turn's budget)."""
        self.turn_started: float | None = None
        """When the current turn's first request started; None between turns."""
        self.turn_count = 0
        """Requests started (admitted or shed) in the current turn."""
        self.turn_admitted = 0
        """Of those, the requests admitted."""
        self.crowded_since: float | None = None
        """Start of the first of the crowded turns that led up to this one; None if the last
        turn was not crowded."""
        self.last_end: float | None = None
        """When the last turn ended."""
        self.last_count = 0
        """Requests started in the last turn."""

    @property
    def in_turn(self) -> bool:
        """Whether a turn is under way (a request started since :meth:`end_turn`)."""
        return self.turn_started is not None

    def admit(self, name: str, now: float) -> bool:
        """
        Whether a request of class ``name`` starting at ``now`` is served. Counts it in flight
        if so (the caller must call :meth:`done`), as shed if not.
        """
        started = self.turn_started
        if started is None:
            self.turn_started = started = now
            self.turn_count = self.turn_admitted = 0
        self.turn_count += 1
        if self.in_flight[name] >= self.limits[name]:
            self.shed[name] += 1
            return False
        if self._standing(now, started) and self._over_budget(now, started):
            self.shed[name] += 1
            self.shed_waiting += 1
            return False
        self.in_flight[name] += 1
        self.turn_admitted += 1
        return True

    def _standing(self, now: float, started: float) -> bool:
        """Whether the turns have been crowded for the interval and this one is large (it, or
        the one before it, started more than ``min_batch`` requests)."""
        since = started if self.crowded_since is None else self.crowded_since
        large = self.turn_count > self.min_batch or self.last_count > self.min_batch
        return large and now - since >= self.interval

    def _over_budget(self, now: float, started: float) -> bool:
        """In a standing queue: whether this request is shed (it is not its turn's first and
        would wait past ``max_wait`` in its turn, or the turn has admitted its budget, or it
        is not drawn)."""
        if self.turn_count == 1:  # a turn's first request is served: a lone one always is
            return False
        if self.turn_count > self.min_batch and now - started > self.max_wait:
            return True
        if self.turn_admitted >= self.budget:
            return True
        expected = max(self.last_count, self.turn_count)
        return self.rng() * expected >= self.budget

    def done(self, name: str) -> None:
        """An admitted request of class ``name`` has finished."""
        self.in_flight[name] -= 1

    def end_turn(self, now: float | None = None) -> None:
        """The event loop's turn ended at ``now`` (default: the clock): the next request
        starts a new one. A turn is crowded when it started more than ``min_batch`` requests
        and the loop lagged more than ``max_wait`` (the turn's span, or, after a large turn,
        the time since that one ended: the requests served in between count). Once crowded,
        the turns stay so while they are large: cut to the budget, they lag less, but the
        queue is still standing (no flapping between serving all and shedding)."""
        started = self.turn_started
        if started is None:
            return
        end = self.clock() if now is None else now
        lag = end - started
        if self.last_end is not None and self.last_count > self.min_batch:
            lag = max(lag, end - self.last_end)
        if self.turn_count > self.min_batch and (
            lag > self.max_wait or self.crowded_since is not None
        ):
            if self.crowded_since is None:
                self.crowded_since = started
        else:
            self.crowded_since = None
        self.turn_started = None
        self.last_end = end
        self.last_count = self.turn_count


def arrive(admission: Admission, path: str) -> tuple[str, bool]:
    """A request for ``path`` starts on the running event loop: its class, and whether
    ``admission`` serves it (then the caller calls :meth:`Admission.done`). The first request
    of a turn has the turn's end marked once the requests ready with it have run. A request
    admitted already (:data:`ADMITTED` set) is served under that class, not counted again."""
    admitted = ADMITTED.get()
    if admitted is not None:
        return admitted, True
    name = request_class(path)
    if not admission.in_turn:
        asyncio.get_running_loop().call_soon(admission.end_turn)
    return name, admission.admit(name, admission.clock())


def refusal(name: str) -> tuple[Message, Message]:
    """The ASGI messages of a class's 503 (the one error shape, with Retry-After)."""
    message = f"the server is at capacity for {name} requests; retry after {RETRY_AFTER} second(s)"
    response = error_response(503, "overloaded", message, None, {"Retry-After": str(RETRY_AFTER)})
    start: Message = {
        "type": "http.response.start",
        "status": 503,
        "headers": response.raw_headers,
    }
    return start, {"type": "http.response.body", "body": bytes(response.body)}


class AdmissionMiddleware:
    """
    Sheds with 503 what :class:`Admission` refuses. A turn of the event loop ends when a
    callback scheduled by its first request runs: it was queued behind every request already
    ready to start, so the requests it counts are those that waited together.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: Mapping[str, int] = DEFAULT_LIMITS,
        admission: Admission | None = None,
    ) -> None:
        self.app = app
        self.admission = admission if admission is not None else Admission(limits)
        self._refusals = {name: refusal(name) for name in CLASSES}
        """The 503 of each class, made once: shedding must cost as little as possible."""

    @property
    def in_flight(self) -> dict[str, int]:
        return self.admission.in_flight

    @property
    def shed(self) -> dict[str, int]:
        return self.admission.shed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        name, admitted = arrive(self.admission, scope["path"])
        if not admitted:
            start, body = self._refusals[name]
            await send(start)
            await send(body)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.admission.done(name)
