"""``RateLimits``: past its rate a party's requests are refused at once with a 429 and
Retry-After, before they take a slot or a worker; other parties are not touched;
requests without a credential, or whose credential is not authenticated yet, are
never refused (only shared out by the slots, fairness.py)."""

from __future__ import annotations

import socket

import pytest
import requests

from services.servicekit.fairness import KnownCallers
from services.servicekit.http import (
    HTTP_REQUESTS,
    ApiCall,
    ApiEntrypoint,
    ApiInfo,
    Route,
    api,
    openapi_document,
)
from services.servicekit.rate_limits import RateLimitConfigError, RateLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_caller_sends_its_burst_then_at_its_rate_and_is_told_when_to_come_back():
    clock = Clock()
    limits = RateLimits(per_second=2, burst=3, clock=clock)
    assert [limits.spend("a") for _ in range(4)] == [0, 0, 0, 1]
    clock.now += 0.5  # one request's worth refilled
    assert [limits.spend("a") for _ in range(2)] == [0, 1]
    clock.now += 60  # a quiet minute refills the burst, not more
    assert [limits.spend("a") for _ in range(4)] == [0, 0, 0, 1]


def test_one_callers_flood_leaves_the_others_their_own_rate():
    limits = RateLimits(per_second=1, burst=2, clock=Clock())
    assert [limits.spend("flood") for _ in range(5)] == [0, 0, 1, 1, 1]
    assert [limits.spend("other") for _ in range(2)] == [0, 0]


def test_retry_after_is_the_whole_seconds_until_one_request_is_back():
    clock = Clock()
    limits = RateLimits(per_second=0.25, burst=1, clock=clock)
    assert (limits.spend("a"), limits.spend("a")) == (0, 4)
    clock.now += 3.5
    assert limits.spend("a") == 1


@pytest.mark.parametrize(("section", "key"), [
    ({"per_second": "fast"}, "per_second"), ({"per_second": -1}, "per_second"),
    ({"per_second": float("nan")}, "per_second"), ({"burst": 0}, "burst"),
    ({"burst": 2.5}, "burst"), ({"burst": True}, "burst"),
])
def test_a_bad_rate_limit_in_a_config_is_refused_naming_it(section, key):
    with pytest.raises(RateLimitConfigError, match=rf"RATE_LIMITS\.{key}"):
        RateLimits.from_config({"RATE_LIMITS": section})


def test_rate_limits_default_on_and_are_turned_off_with_a_zero_rate():
    default = RateLimits.from_config({})
    assert default is not None and (default.per_second, default.burst) == (1000.0, 2000)
    assert RateLimits.from_config({"RATE_LIMITS": {"per_second": 0}}) is None


# -- the edge ----------------------------------------------------------------------------


ROUTES = [
    Route("GET", "/v1/ping", "ping", "A request that takes a worker.", acting="public"),
    Route("POST", "/v1/pings", "record_ping", "A command.", acting="public"),
]


class LimitedEdge:
    name = "limited-edge"
    callers = KnownCallers()
    handled: list[str] = []

    @api(ROUTES, ApiInfo(name="limited-edge", title="t", version="1", description="d"))
    def handle(self, call: ApiCall) -> dict[str, str]:
        LimitedEdge.handled.append(call.credential or "")
        # As a service does once it has authenticated the credential (fairness.py):
        # "org<x>-<key>" is a key of organisation <x>; any other is made up.
        if call.credential and call.credential.startswith("org"):
            self.callers.known(call.credential, call.credential.split("-")[0])
        return {"pong": "yes"}


@pytest.fixture
def edge(container_factory):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    container = container_factory(LimitedEdge, {
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", "max_workers": 4,
        # A rate no test reaches in its run: only the burst counts.
        "RATE_LIMITS": {"per_second": 0.001, "burst": 3}})
    container.start()
    LimitedEdge.handled = []
    return next(e for e in container.entrypoints if isinstance(e, ApiEntrypoint)), \
        f"http://127.0.0.1:{port}"


def send(url: str, credential: str | None, method: str = "GET") -> requests.Response:
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    path = "/v1/ping" if method == "GET" else "/v1/pings"
    return requests.request(method, url + path, headers=headers, timeout=10)


def test_past_its_burst_a_caller_gets_a_429_with_retry_after_and_nothing_runs(edge):
    entrypoint, url = edge
    refused = HTTP_REQUESTS.labels(api="limited-edge", route="/v1/pings", method="POST",
                                   status="429")
    before = refused._value.get()
    assert send(url, "orga-key1").ok and send(url, "orga-key2").ok  # not known yet: free
    answers = [send(url, "orga-key1", "POST") for _ in range(3)]
    over = send(url, "orga-key2", "POST")  # another key of hers: the same caller

    assert all(a.ok for a in answers)
    assert over.status_code == 429
    assert over.headers["Content-Type"] == "application/problem+json"
    assert int(over.headers["Retry-After"]) >= 1
    assert over.json()["code"] == "rate_limited" and over.json()["status"] == 429
    assert LimitedEdge.handled.count("orga-key1") == 4, "the refused one was not carried out"
    assert (entrypoint.slots.taken, entrypoint.slots.callers()) == (0, 0)
    assert refused._value.get() == before + 1


def test_others_and_requests_not_authenticated_yet_or_without_credential_go_on(edge):
    """Only a known party is limited: a flood of made-up keys would otherwise refuse
    every partner's first request, the one that makes her known (rate_limits.py)."""
    _, url = edge
    for _ in range(4):
        send(url, "orgc-key")
    assert send(url, "orgc-key").status_code == 429
    assert send(url, "orgd-key").ok  # made known
    assert [send(url, "orgd-key").status_code for _ in range(3)] == [200] * 3, "her own burst"
    assert [send(url, f"made-up{n}").status_code for n in range(6)] == [200] * 6
    assert [send(url, None).status_code for _ in range(6)] == [200] * 6


def test_the_openapi_document_says_every_operation_may_answer_429():
    document = openapi_document(ROUTES, ApiInfo(name="e", title="t", version="1",
                                                description="d"))
    for path in document["paths"].values():
        for operation in path.values():
            assert "Retry-After" in operation["responses"]["429"]["description"]
