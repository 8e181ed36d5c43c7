"""The limits across pairs: a mentor never over capacity and a mentee with one open
pair, including when requests race (the service serialises them per mentor and
per mentee with row locks; here, locks of the same shape around the same checks)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.matching.domain.capacity import (
    OPEN_STATES,
    assert_capacity,
    assert_mentee_free,
    free_places,
)
from services.matching.domain.pair import Pair
from services.matching.domain.proposal import propose
from services.matching.tests.unit.factories import NOW, WEIGHTS, candidate, uid
from services.servicekit.errors import Conflict


def test_a_mentor_with_a_free_place_passes():
    assert_capacity(load=2, capacity=3)
    assert free_places(2, 3) == 1


@pytest.mark.parametrize(("load", "capacity"), [(3, 3), (4, 3)])
def test_a_mentor_without_a_free_place_is_refused_clearly(load, capacity):
    with pytest.raises(Conflict) as caught:
        assert_capacity(load, capacity)
    assert caught.value.field == "mentor_id"
    assert f"{load} of her {capacity}" in caught.value.detail
    assert free_places(load, capacity) == 0


def test_a_mentee_has_one_open_pair_at_a_time():
    assert_mentee_free(0)
    with pytest.raises(Conflict) as caught:
        assert_mentee_free(1)
    assert caught.value.field == "mentee_id"


def test_pending_and_formed_pairs_are_the_open_ones():
    assert {"proposed", "formed"} == OPEN_STATES


def test_concurrent_requests_never_exceed_a_mentor_s_capacity():
    """Thirty mentees ask the same mentor (capacity 3) at once. Serialised by a lock
    on the mentor, with her open pairs counted inside it, exactly three proposals
    are recorded and the others are refused with a Conflict."""
    the_mentor = candidate("popular", "mentor", capacity=3)
    mentor_lock = threading.Lock()  # the service's SELECT ... FOR UPDATE on her row
    open_pairs: list[Pair] = []  # the service's projection of her pairs
    start = threading.Barrier(30)

    def ask(i: int) -> str:
        asking = candidate(f"asking {i}", "mentee")
        start.wait()
        with mentor_lock:
            load = sum(1 for p in open_pairs if p.is_open)
            try:
                proposal = propose(asking, the_mentor, charter_version=1, mentor_load=load,
                                   weights=WEIGHTS)
                pair = Pair.request(uid(f"pair {i}"), proposal, at=NOW, expiry_days=7,
                                    mentee_open_pairs=0, mentor_load=load)
            except Conflict:
                return "refused"
            open_pairs.append(pair)
            return "proposed"

    with ThreadPoolExecutor(max_workers=30) as pool:
        outcomes = list(pool.map(ask, range(30)))
    assert outcomes.count("proposed") == the_mentor.capacity
    assert outcomes.count("refused") == 27
    # A decline frees a place for the next request.
    open_pairs[0].decline(the_mentor.member_id, "unavailable", NOW)
    assert sum(1 for p in open_pairs if p.is_open) == 2


def test_the_aggregate_itself_refuses_a_place_taken_since_the_score():
    asking = candidate("late", "mentee")
    proposal = propose(asking, candidate("busy", "mentor", capacity=2), charter_version=1,
                       mentor_load=1, weights=WEIGHTS)
    with pytest.raises(Conflict):
        Pair.request(uid("late pair"), proposal, at=NOW, expiry_days=7, mentee_open_pairs=0,
                     mentor_load=2)
