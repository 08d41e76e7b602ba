"""Admission control: past a class's limit of requests in flight, or once the event loop's
turns have been crowded for a while, 503 with Retry-After at once; other classes and /healthz
are unaffected; the admitted request completes; a few clients, or a burst, are never shed."""

from __future__ import annotations

import asyncio
import math
import random

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.types import Receive, Scope, Send

from charter.api.admission import (
    BUDGET,
    CLASSES,
    DEFAULT_LIMITS,
    INTERVAL,
    MAX_WAIT,
    MIN_BATCH,
    Admission,
    AdmissionMiddleware,
    parse_limits,
    request_class,
)
from charter.app import Charter

UNLIMITED = dict.fromkeys(CLASSES, 1_000_000)
"""In-flight limits no test reaches: only waiting can shed."""


class FakeClock:
    """A clock that moves only when told to (seconds)."""

    def __init__(self, step: float = 0.0) -> None:
        self.now = 1_000.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def run_turn(admission: Admission, clock: FakeClock, size: int, cost: float) -> list[bool]:
    """One turn of the event loop: ``size`` requests started one after another, each taking
    ``cost`` seconds of the loop (served at once: no request stays in flight)."""
    decisions = []
    for _ in range(size):
        admitted = admission.admit("switches", clock.now)
        decisions.append(admitted)
        if admitted:
            clock.now += cost
            admission.done("switches")
        else:
            clock.now += cost / 20  # a 503 costs a small part of a served request
    admission.end_turn(clock.now)
    return decisions


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


@given(
    st.lists(st.tuples(st.integers(1, MIN_BATCH), st.floats(0.0, 5.0)), min_size=1, max_size=200)
)
def test_a_few_clients_are_never_shed_however_slow_the_machine(
    turns: list[tuple[int, float]],
) -> None:
    clock = FakeClock()
    admission = Admission(UNLIMITED, clock=clock)
    for size, cost in turns:
        assert all(run_turn(admission, clock, size, cost))
    assert admission.shed == dict.fromkeys(CLASSES, 0)
    assert admission.in_flight == dict.fromkeys(CLASSES, 0)


@given(size=st.integers(MIN_BATCH + 1, 500), cost=st.floats(MAX_WAIT / 50, MAX_WAIT))
def test_a_burst_shorter_than_the_interval_is_served(size: int, cost: float) -> None:
    clock = FakeClock()
    admission = Admission(UNLIMITED, clock=clock)
    run_turn(admission, clock, 4, cost)  # calm before
    size = min(size, int(INTERVAL / cost))  # the whole turn within the interval
    assert all(run_turn(admission, clock, size, cost))


@given(
    size=st.integers(40, 400),
    cost=st.floats(0.0005, 0.004),
    seed=st.integers(0, 2**32),
)
def test_a_standing_queue_is_cut_to_the_budget_at_random_and_recovers(
    size: int, cost: float, seed: int
) -> None:
    clock = FakeClock()
    admission = Admission(UNLIMITED, clock=clock, rng=random.Random(seed).random)
    onset = clock.now
    while clock.now - onset < INTERVAL:  # the flood's first interval: crowded turns
        run_turn(admission, clock, size, cost)
    positions: set[int] = set()
    for _ in range(60):  # a standing queue: each turn admits at most the budget
        decisions = run_turn(admission, clock, size, cost)
        assert decisions.count(True) <= BUDGET
        positions.update(i for i, admitted in enumerate(decisions) if admitted)
    assert any(i >= BUDGET for i in positions)  # drawn at random: not the first come
    assert admission.shed_waiting == admission.shed["switches"] >= 60 * (size - BUDGET)
    assert admission.in_flight == dict.fromkeys(CLASSES, 0)
    # calm again: the first small turn still follows a large one (its first requests are
    # decided before its size is known), then all are served, and a burst too
    run_turn(admission, clock, MIN_BATCH, cost)
    assert all(run_turn(admission, clock, MIN_BATCH, cost))
    assert all(run_turn(admission, clock, 30, MAX_WAIT / 60))


def test_the_loop_lag_after_a_large_turn_counts_the_requests_served_in_between() -> None:
    # decisions come before the work (the protocol decides as it reads): each turn's span is
    # short, but the loop came back to read only after serving what it admitted
    clock = FakeClock()
    admission = Admission(
        UNLIMITED, min_batch=2, budget=1, interval=0.001, clock=clock, rng=lambda: 0.0
    )
    for turn in range(3):
        decisions = [admission.admit("api", clock.now + k * 1e-6) for k in range(10)]
        admission.end_turn(clock.now + 1e-5)
        for _ in range(decisions.count(True)):
            admission.done("api")
        clock.now += 0.02  # the admitted requests' work, after the turn
        if turn == 0:
            assert all(decisions)  # the first turn: no lag measured yet
    assert decisions.count(True) == 1  # a standing queue: the budget
    assert admission.crowded_since is not None


def test_the_wait_is_counted_from_the_turns_first_request() -> None:
    clock = FakeClock()
    admission = Admission(UNLIMITED, max_wait=0.010, min_batch=2, interval=0.0, clock=clock)
    assert admission.admit("api", 0.0)
    assert admission.admit("api", 0.004)
    assert admission.admit("api", 0.010)  # exactly at the limit: served
    assert not admission.admit("api", 0.0101)
    assert admission.shed == {**dict.fromkeys(CLASSES, 0), "api": 1}
    admission.end_turn(0.02)
    assert admission.admit("api", 5.0)  # a new turn, a new count
    assert admission.in_flight["api"] == 4


def test_bad_admission_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="max_wait"):
        Admission(max_wait=0)
    with pytest.raises(ValueError, match="min_batch"):
        Admission(min_batch=0)


def test_overload_over_http_is_answered_503_with_retry_after(app, api) -> None:
    """The whole app: forty requests arrive in one turn of the event loop, each starting
    4.1 ms of a fake clock after the one before. From the one that starts the interval after
    the first on, they are shed with 503, Retry-After and the one error shape."""
    headers = api.key("cloud")
    sid = api.subject(headers)
    token = api.token(sid)
    admission = app.state.admission
    admission.clock = FakeClock(step=0.0041)
    admission.limits = dict(UNLIMITED)  # on PostgreSQL reads wait for a thread: in flight
    path = f"/v1/subjects/{sid}/switches"

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await asyncio.gather(*(client.get(path, headers=token) for _ in range(40)))

    answers = asyncio.run(run())
    statuses = [a.status_code for a in answers]
    first_shed = math.ceil(INTERVAL / 0.0041)
    assert statuses == [200] * first_shed + [503] * (40 - first_shed), statuses
    shed = answers[-1]
    assert shed.headers["Retry-After"] == "1"
    assert shed.json()["error"]["code"] == "overloaded"
    assert "switches" in shed.json()["error"]["message"]
    assert admission.shed_waiting == 40 - first_shed
    assert admission.in_flight == dict.fromkeys(CLASSES, 0)
    admission.clock = FakeClock(step=1.0)  # a slow machine, a few clients: never shed
    assert api.client.get(path, headers=token).status_code == 200
    assert api.client.get("/healthz").status_code == 200


def test_a_deployment_admits_with_its_configured_limits(charter: Charter) -> None:
    from charter.asgi import create_app  # noqa: PLC0415

    admission = create_app(charter).state.admission
    assert admission.limits == parse_limits(charter.settings.max_in_flight)
    assert admission.max_wait == MAX_WAIT
