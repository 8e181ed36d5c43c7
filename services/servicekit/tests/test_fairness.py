"""``FairSlots``: the workers of an HTTP edge shared out among its callers, who are
known by ``KnownCallers``; and the edge itself (``servicekit.http``) giving every
slot back.

Green threads stand for requests, as under the edge's eventlet server; what is
checked is who gets a slot, in what order (timing belongs in ``make bench``:
``bench/fairness.py``).
"""

from __future__ import annotations

import socket
from collections import deque

import eventlet
import pytest
import requests as requests_lib

from services.eventcore.testing import wait_until
from services.servicekit.fairness import ANONYMOUS, UNVERIFIED, FairSlots, KnownCallers
from services.servicekit.http import ApiCall, ApiInfo, Route, api
from services.servicekit.tests.edges import start_edge


class Requests:
    """Requests sent in order, each holding its slot until ``finish_oldest``."""

    def __init__(self, slots: FairSlots) -> None:
        self.slots = slots
        self.served: list[str] = []
        self._holding: deque[str] = deque()

    def send(self, *callers: str) -> list[eventlet.GreenThread]:
        def request(caller: str) -> None:
            self.slots.take(caller)
            self.served.append(caller)
            self._holding.append(caller)

        threads = []
        for caller in callers:
            threads.append(eventlet.spawn(request, caller))
            eventlet.sleep(0)  # queued in the order sent
        return threads

    def finish_oldest(self) -> None:
        self.slots.give_back(self._holding.popleft())
        eventlet.sleep(0)


def test_a_caller_alone_takes_every_slot_and_then_waits_its_turn():
    requests = Requests(FairSlots(3))
    requests.send(*["a"] * 5)
    assert (requests.served, requests.slots.taken, requests.slots.waiting()) == (["a"] * 3, 3, 2)
    requests.finish_oldest()
    assert (requests.served, requests.slots.taken, requests.slots.waiting()) == (["a"] * 4, 3, 1)


def test_another_callers_request_is_served_before_the_first_callers_backlog():
    requests = Requests(FairSlots(2))
    requests.send(*["a"] * 6, "b", "c", "b")
    assert requests.served == ["a", "a"]
    for _ in range(7):
        requests.finish_oldest()
    # In turn among those waiting: a, b, c, then a and b again, then a's rest.
    assert requests.served[2:] == ["a", "b", "c", "a", "b", "a", "a"]
    requests.finish_oldest()
    requests.finish_oldest()
    assert (requests.slots.taken, requests.slots.waiting(), requests.slots.callers()) == (
        0, 0, 0), "nothing kept of callers gone"


def test_a_caller_holds_no_more_than_its_share_and_the_others_get_the_rest_at_once():
    """A flood holds its share of the slots; the others' requests take the rest at
    once, and a slot stays free rather than go past a caller's share."""
    requests = Requests(FairSlots(6, per_caller=2))
    requests.send(*["a"] * 5)
    assert (requests.served, requests.slots.held("a"), requests.slots.waiting()) == (
        ["a", "a"], 2, 3)
    requests.send("b", "c", "b", "b")
    assert requests.served == ["a", "a", "b", "c", "b"]  # no wait: slots were free
    assert (requests.slots.taken, requests.slots.waiting()) == (5, 4)
    requests.finish_oldest()  # one of a's: its next request
    requests.finish_oldest()
    assert requests.served[5:] == ["a", "a"] and requests.slots.held("b") == 2
    requests.finish_oldest()  # b's first: b's last request at last
    assert requests.served[-1] == "b" and requests.slots.waiting() == 1


def test_a_request_ended_while_waiting_leaves_its_place_to_the_others():
    requests = Requests(FairSlots(1))
    _, gone, _ = requests.send("a", "b", "c")
    gone.kill()  # as the server kills its green threads when the service stops
    assert requests.slots.waiting() == 1
    requests.finish_oldest()
    assert requests.served == ["a", "c"]
    requests.finish_oldest()
    assert (requests.slots.taken, requests.slots.waiting(), requests.slots.callers()) == (
        0, 0, 0)


def test_a_request_ended_as_its_slot_was_handed_over_passes_the_slot_on():
    requests = Requests(FairSlots(1))
    _, gone, _ = requests.send("a", "b", "c")
    requests.slots.give_back("a")  # hands the slot to b, killed before it runs
    gone.kill()
    eventlet.sleep(0)
    assert requests.served == ["a", "c"]
    assert (requests.slots.taken, requests.slots.held("b"), requests.slots.held("c")) == (
        1, 0, 1)


def test_a_caller_is_the_party_its_credential_was_authenticated_for():
    """An organisation's keys are one caller; credentials not authenticated yet are
    one caller between them, however many (a stranger making one up per request);
    requests without one are another."""
    callers = KnownCallers()
    assert callers.caller_of(None) == callers.caller_of("") == ANONYMOUS
    assert callers.caller_of("mk_made_up_1") == callers.caller_of("mk_made_up_2") == UNVERIFIED
    callers.known("mk_first_key", "organisation-a")
    callers.known("mk_second_key", "organisation-a")
    callers.known("mk_theirs", "organisation-b")
    assert callers.caller_of("mk_first_key") == callers.caller_of("mk_second_key")
    assert len({callers.caller_of(c) for c in ("mk_first_key", "mk_theirs", "mk_made_up_1",
                                               None)}) == 4
    # A party is never taken for one of the shared callers, whatever its name.
    callers.known("mk_odd", UNVERIFIED)
    assert callers.caller_of("mk_odd") != UNVERIFIED


# -- the edge: every slot given back, the metrics page outside them -----------------------


ROUTES = [
    Route("GET", "/v1/ping", "ping", "A request that takes a worker.", acting="public"),
    Route("POST", "/v1/pings", "record_ping", "A command that takes a worker.",
          acting="public"),
    Route("GET", "/metrics", "metrics", "No worker.", acting="public", raw="text/plain",
          inline=lambda: "up 1\n"),
]


class Edge:
    name = "fairness-edge"
    callers = KnownCallers()
    handled = 0

    @api(ROUTES, ApiInfo(name="fairness-edge", title="t", version="1", description="d"))
    def handle(self, call: ApiCall) -> dict[str, str]:
        Edge.handled += 1
        return {"pong": "yes"}


@pytest.fixture
def edge(container_factory):
    return start_edge(container_factory, Edge)


def test_the_edge_gives_every_slot_back_even_when_no_worker_could_be_spawned(edge, monkeypatch):
    container, entrypoint, url = edge
    assert requests_lib.get(url + "/v1/ping", timeout=10).json() == {"pong": "yes"}
    assert entrypoint.slots.taken == 0

    def refused(*args, **kwargs):
        raise RuntimeError("the container is being killed")

    monkeypatch.setattr(container, "spawn_worker", refused)
    assert requests_lib.get(url + "/v1/ping", timeout=10).status_code == 500
    assert (entrypoint.slots.taken, entrypoint.slots.callers()) == (0, 0)


def test_the_metrics_page_is_answered_with_every_slot_taken(edge):
    _, entrypoint, url = edge
    floods = [f"flood-{n}" for n in range(entrypoint.slots.capacity)]
    for flood in floods:
        entrypoint.slots.take(flood)
    page = requests_lib.get(url + "/metrics", timeout=10)
    assert (page.status_code, page.text) == (200, "up 1\n")
    for flood in floods:
        entrypoint.slots.give_back(flood)


def test_a_read_whose_client_gave_up_while_it_waited_takes_no_worker(edge):
    """Its turn comes after its client closed the connection: its slot is given
    straight back, no worker answers it, and it is counted as 499; a client still
    there is answered; a command's client gone meanwhile still has it carried out
    (one that half-closed after sending looks the same, and waits for it)."""
    from services.servicekit.http import CLIENT_GONE, HTTP_REQUESTS

    _, entrypoint, url = edge
    port = int(url.rsplit(":", 1)[1])
    gone = HTTP_REQUESTS.labels(api="fairness-edge", route="/v1/ping", method="GET",
                                status=str(CLIENT_GONE))
    before, handled = gone._value.get(), Edge.handled
    floods = [f"flood-{n}" for n in range(entrypoint.slots.capacity)]
    for flood in floods:
        entrypoint.slots.take(flood)

    def waiting_request(line: bytes = b"GET /v1/ping") -> socket.socket:
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(line + b" HTTP/1.1\r\nHost: edge\r\nContent-Length: 0\r\n\r\n")
        return client

    left, stayed, commanded = waiting_request(), waiting_request(), waiting_request(
        b"POST /v1/pings")
    wait_until(lambda: entrypoint.slots.waiting() == 3, what="the three requests waiting")
    left.close()
    commanded.close()
    for flood in floods:
        entrypoint.slots.give_back(flood)
    stayed.settimeout(10)
    answer = stayed.recv(65536)
    stayed.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:80]
    wait_until(lambda: entrypoint.slots.taken == 0 and Edge.handled == handled + 2,
               what="every slot back, and the read still awaited and the command answered")
    assert gone._value.get() == before + 1


def test_a_half_closed_client_that_did_not_wait_is_answered(edge):
    """No wait, no look: a client that half-closes after sending (nc -N, socat) is
    answered, as it expects."""
    _, _, url = edge
    handled = Edge.handled
    client = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))
    client.sendall(b"GET /v1/ping HTTP/1.1\r\nHost: edge\r\nConnection: close\r\n\r\n")
    client.shutdown(socket.SHUT_WR)
    client.settimeout(10)
    answer = client.recv(65536)
    client.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:80]
    assert Edge.handled == handled + 1
