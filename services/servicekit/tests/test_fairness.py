"""``FairSlots``: the workers of an HTTP edge shared out among its callers.

Green threads stand for requests, as under the edge's eventlet server; what is
checked is who gets a slot, in what order (timing belongs in ``make bench``:
``bench/fairness.py``).
"""

from __future__ import annotations

from collections import deque

import eventlet

from services.servicekit.fairness import FairSlots


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
    assert (requests.slots.taken, requests.slots.waiting()) == (0, 0)


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


def test_a_request_given_up_while_waiting_leaves_its_place_to_the_others():
    requests = Requests(FairSlots(1))
    _, gone, _ = requests.send("a", "b", "c")
    gone.kill()  # its client went away: the server ends its green thread
    assert requests.slots.waiting() == 1
    requests.finish_oldest()
    assert requests.served == ["a", "c"]
    requests.finish_oldest()
    assert (requests.slots.taken, requests.slots.waiting()) == (0, 0)


def test_a_request_given_up_as_its_slot_was_handed_over_passes_the_slot_on():
    requests = Requests(FairSlots(1))
    _, gone, _ = requests.send("a", "b", "c")
    requests.slots.give_back("a")  # hands the slot to b, killed before it runs
    gone.kill()
    eventlet.sleep(0)
    assert requests.served == ["a", "c"]
    assert (requests.slots.taken, requests.slots.held("b"), requests.slots.held("c")) == (
        1, 0, 1)
