"""``RateLimits``: past its rate a party's requests are refused with a 429 and
Retry-After, nothing carried out; other parties keep their own rate; a request is
charged to the party its credential authenticates as (any of its keys, its first
request too), and what does not authenticate charges nobody."""

from __future__ import annotations

import random

import pytest
import requests

from services.servicekit.errors import ServiceError
from services.servicekit.fairness import UNVERIFIED, KnownCallers
from services.servicekit.http import (
    HTTP_REQUESTS,
    ApiCall,
    ApiInfo,
    Route,
    api,
    openapi_document,
)
from services.servicekit.rate_limits import PartyRateLimits, RateLimitConfigError, RateLimits
from services.servicekit.tests.edges import start_edge


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


def test_retry_after_is_the_whole_seconds_until_one_request_is_back_never_fewer():
    clock = Clock()
    limits = RateLimits(per_second=0.25, burst=1, clock=clock)
    assert (limits.spend("a"), limits.spend("a")) == (0, 4)
    clock.now += 3.5
    assert limits.spend("a") == 1
    # Waiting exactly what it was told gets it through, whatever the float rounding
    # (without the slack, 1,618 of these 20,000 were told to wait again).
    draw = random.Random(1)
    for _ in range(20_000):
        clock.now = 1000.0
        limits = RateLimits(per_second=0.1, burst=1, clock=clock)
        limits.spend("b")
        clock.now += draw.random() * 30  # part of the way to its next request, or past
        wait = 0
        while not wait:
            wait = limits.spend("b")
        clock.now += wait
        assert limits.spend("b") == 0, (clock.now, wait)


@pytest.mark.parametrize(("section", "key"), [
    ({"per_second": "fast"}, "per_second"), ({"per_second": -1}, "per_second"),
    ({"per_second": float("nan")}, "per_second"), ({"per_second": "1e-320"}, "per_second"),
    ({"per_second": False}, "per_second"), ({"per_second": None}, "per_second"),
    ({"burst": 0}, "burst"), ({"burst": 2.5}, "burst"), ({"burst": True}, "burst"),
    ({"burst": 10**7}, "burst"),
])
def test_a_bad_rate_limit_in_a_config_is_refused_naming_it(section, key):
    with pytest.raises(RateLimitConfigError, match=rf"RATE_LIMITS\.{key}"):
        RateLimits.from_config({"RATE_LIMITS": section})


@pytest.mark.parametrize("section", [0, False, "off", [1, 2]])
def test_rate_limits_that_are_not_a_mapping_are_refused_not_taken_for_the_defaults(section):
    with pytest.raises(RateLimitConfigError, match=r"^RATE_LIMITS: .* \(per_second: 0 turns"):
        RateLimits.from_config({"RATE_LIMITS": section})


def test_rate_limits_default_on_and_are_turned_off_with_a_zero_rate():
    default = RateLimits.from_config({})
    assert default is not None and (default.per_second, default.burst) == (1000.0, 2000)
    assert RateLimits.from_config({"RATE_LIMITS": {"per_second": 0}}) is None


# -- a service that authenticates, then charges the party ----------------------------------


ROUTES = [
    Route("GET", "/v1/health", "health", "Never authenticated.", acting="public"),
    Route("GET", "/v1/ping", "ping", "A read.", acting="organisation"),
    Route("POST", "/v1/pings", "record_ping", "A command.", acting="organisation"),
]


class LimitedEdge:
    name = "limited-edge"
    callers = KnownCallers()
    rate_limits = PartyRateLimits()
    handled: list[str] = []

    @api(ROUTES, ApiInfo(name="limited-edge", title="t", version="1", description="d"))
    def handle(self, call: ApiCall) -> dict[str, str]:
        if call.route.operation_id == "health":
            return {"status": "ok"}
        # "org<x>-<key>" is a key of organisation <x>; any other is refused, as a
        # revoked or made-up one is by the gateway and the moderation API.
        credential = call.credential or ""
        if not credential.startswith("org"):
            self.callers.forget(credential)
            raise ServiceError.make(401, "unauthenticated", "Unknown credential.")
        party = credential.split("-")[0]
        self.callers.known(credential, party)
        self.rate_limits.charge(party)
        LimitedEdge.handled.append(credential)
        return {"pong": "yes"}


@pytest.fixture
def edge(container_factory):
    LimitedEdge.handled = []
    # A rate no test reaches in its run: only the burst counts.
    _, entrypoint, url = start_edge(container_factory, LimitedEdge,
                                    RATE_LIMITS={"per_second": 0.001, "burst": 3})
    return entrypoint, url


def send(url: str, credential: str | None, method: str = "GET",
         path: str = "/v1/ping") -> requests.Response:
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    path = path if method == "GET" else "/v1/pings"
    return requests.request(method, url + path, headers=headers, timeout=10)


def test_past_its_burst_a_party_gets_a_429_with_retry_after_and_nothing_runs(edge):
    entrypoint, url = edge
    refused = HTTP_REQUESTS.labels(api="limited-edge", route="/v1/pings", method="POST",
                                   status="429")
    before = refused._value.get()
    # Its first request (not known yet) counts; so does every key of hers.
    answers = [send(url, "orga-key1"), send(url, "orga-key2", "POST"),
               send(url, "orga-key3", "POST")]
    over = send(url, "orga-key4", "POST")

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert over.status_code == 429
    assert over.headers["Content-Type"] == "application/problem+json"
    assert int(over.headers["Retry-After"]) >= 1
    assert over.json()["code"] == "rate_limited" and over.json()["status"] == 429
    assert LimitedEdge.handled == ["orga-key1", "orga-key2", "orga-key3"], \
        "the refused one was not carried out"
    assert (entrypoint.slots.taken, entrypoint.slots.callers()) == (0, 0)
    assert refused._value.get() == before + 1


def test_another_party_keeps_its_own_rate_and_the_health_check_is_never_refused(edge):
    _, url = edge
    assert [send(url, "orgc-key").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert [send(url, "orgd-key").status_code for _ in range(3)] == [200] * 3
    assert [send(url, credential, path="/v1/health").status_code
            for credential in (None, "orgc-key", "made-up")] == [200] * 3


def test_a_revoked_or_made_up_key_spends_nobodys_rate(edge):
    """Whoever holds a leaked key, revoked since, cannot use it to have its organisation
    refused; nor does a stranger's flood of made-up keys cost anyone anything."""
    entrypoint, url = edge
    assert send(url, "orge-key").ok  # known: its requests wait in orge's turn
    assert [send(url, "leaked").status_code for _ in range(6)] == [401] * 6
    assert [send(url, f"made-up{n}").status_code for n in range(6)] == [401] * 6
    assert [send(url, "orge-key").status_code for _ in range(2)] == [200, 200]
    # A credential that stops authenticating stops counting as its party's in the slots.
    entrypoint.callers.known("revoked-now", "orge")
    assert send(url, "revoked-now").status_code == 401
    assert entrypoint.callers.caller_of("revoked-now") == UNVERIFIED


def test_the_openapi_document_says_each_authenticated_operation_may_answer_429():
    document = openapi_document(ROUTES, ApiInfo(name="e", title="t", version="1",
                                                description="d"))
    responses = {path: operation["responses"] for path, item in document["paths"].items()
                 for operation in item.values()}
    assert "429" not in responses["/v1/health"]
    for path in ("/v1/ping", "/v1/pings"):
        assert "Retry-After" in responses[path]["429"]["headers"]
