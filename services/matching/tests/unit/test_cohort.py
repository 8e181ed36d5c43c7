"""Cohorts: the optimal assignment is optimal (equal to brute force on small
intakes, never below greedy), respects capacities and hard constraints, and is
deterministic."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import pytest

from services.matching.domain.cohort import assign_greedy, assign_optimal, intake
from services.matching.domain.profiles import MenteeProfile, MentorProfile
from services.matching.domain.scoring import Score, evaluate, exclusions
from services.matching.domain.suggestions import MentorIndex
from services.matching.tests.unit.factories import (
    ORG,
    OTHER_ORG,
    WEIGHTS,
    candidate,
    mentee,
    mentor,
    random_mentees,
    random_mentors,
)


def brute_force(mentees: Sequence[MenteeProfile], mentors: Sequence[MentorProfile]) -> float:
    """The best total over every assignment (each mentee to a feasible mentor with
    a free place, or to nobody)."""
    scores = [[evaluate(a, b, WEIGHTS) for b in mentors] for a in mentees]
    places = [m.free_places for m in mentors]

    def best(i: int) -> float:
        if i == len(mentees):
            return 0.0
        found = best(i + 1)  # she stays unmatched
        for j, outcome in enumerate(scores[i]):
            if isinstance(outcome, Score) and places[j] > 0:
                places[j] -= 1
                found = max(found, outcome.total + best(i + 1))
                places[j] += 1
        return found

    return best(0)


def check_valid(assignment, mentors: Sequence[MentorProfile]) -> None:
    free = {m.member_id: m.free_places for m in mentors}
    for mentor_id, count in assignment.mentor_counts().items():
        assert count <= free[mentor_id]  # never over capacity
    mentees = [p.mentee.member_id for p in assignment.pairs]
    assert len(mentees) == len(set(mentees))  # one mentor per mentee
    for pair in assignment.pairs:
        assert exclusions(pair.mentee, pair.mentor) == ()  # no hard constraint broken
    assert assignment.total == pytest.approx(math.fsum(p.total for p in assignment.pairs))


@pytest.mark.parametrize("seed", range(40))
def test_optimal_equals_brute_force_on_small_intakes(seed):
    rng = random.Random(seed)
    mentees = random_mentees(rng, rng.randint(1, 6), prefix=f"s{seed}")
    mentors = random_mentors(rng, rng.randint(1, 4), prefix=f"s{seed}")
    optimal = assign_optimal(mentees, mentors, WEIGHTS)
    check_valid(optimal, mentors)
    assert optimal.total == pytest.approx(brute_force(mentees, mentors), abs=1e-9)


@pytest.mark.parametrize("seed", range(15))
def test_optimal_is_never_below_greedy(seed):
    rng = random.Random(100 + seed)
    mentees = random_mentees(rng, 80, prefix=f"g{seed}")
    mentors = random_mentors(rng, 50, prefix=f"g{seed}")
    optimal = assign_optimal(mentees, mentors, WEIGHTS)
    greedy = assign_greedy(mentees, mentors, WEIGHTS)
    check_valid(optimal, mentors)
    check_valid(greedy, mentors)
    assert optimal.total >= greedy.total - 1e-9


def test_greedy_can_be_beaten():
    # Greedy gives the best pair first (ada-x, 1.0); then bea has nobody left.
    # The optimum gives x to bea and y to ada: more in total.
    ada = mentee("ada", topics={"a", "b"}, languages={"fr", "en"})
    bea = mentee("bea", topics={"a", "b"}, languages={"en"})
    x = mentor("x", topics={"a", "b"}, languages={"fr", "en"}, capacity=1)
    y = mentor("y", topics={"a"}, languages={"fr"}, capacity=1)
    greedy = assign_greedy([ada, bea], [x, y], WEIGHTS)
    optimal = assign_optimal([ada, bea], [x, y], WEIGHTS)
    assert len(greedy.pairs) == 1 and len(optimal.pairs) == 2
    assert optimal.total > greedy.total
    assert {(p.mentee.member_id, p.mentor.member_id) for p in optimal.pairs} == {
        (ada.member_id, y.member_id), (bea.member_id, x.member_id)}


def test_capacities_are_filled_not_exceeded():
    mentees = [mentee(f"m{i}") for i in range(7)]
    mentors = [mentor("two places", capacity=3, load=1), mentor("three places", capacity=3)]
    assignment = assign_optimal(mentees, mentors, WEIGHTS)
    assert assignment.mentor_counts() == {mentors[0].member_id: 2, mentors[1].member_id: 3}
    assert len(assignment.unmatched) == 2


def test_a_mentee_without_a_feasible_mentor_stays_unmatched():
    alone = mentee("alone", languages={"wo"})
    assignment = assign_optimal([alone, mentee("other")], [mentor(capacity=5)], WEIGHTS)
    assert assignment.unmatched == (alone.member_id,)
    assert [p.mentee.member_id for p in assignment.pairs] == [mentee("other").member_id]


def test_the_same_intake_in_any_order_gives_the_same_assignment():
    rng = random.Random(5)
    mentees = random_mentees(rng, 40, prefix="order")
    mentors = random_mentors(rng, 30, prefix="order")
    first = assign_optimal(mentees, mentors, WEIGHTS)
    rng.shuffle(mentees)
    rng.shuffle(mentors)
    again = assign_optimal(mentees, mentors, WEIGHTS)
    assert [(p.mentee.member_id, p.mentor.member_id) for p in again.pairs] == [
        (p.mentee.member_id, p.mentor.member_id) for p in first.pairs]
    assert again.total == first.total


def test_the_score_matrix_is_the_reference_scoring():
    rng = random.Random(6)
    mentees = random_mentees(rng, 30, prefix="matrix")
    mentors = random_mentors(rng, 40, prefix="matrix")
    index = MentorIndex.build(mentors)
    scores, feasible = index.score_matrix(mentees, WEIGHTS, chunk=7)  # several blocks
    for i, a in enumerate(mentees):
        for j, b in enumerate(index.profiles):
            outcome = evaluate(a, b, WEIGHTS)
            assert feasible[i, j] == isinstance(outcome, Score)
            if isinstance(outcome, Score):
                assert scores[i, j] == outcome.total


def test_each_cohort_pair_explains_its_score():
    assignment = assign_optimal([mentee()], [mentor()], WEIGHTS)
    [pair] = assignment.pairs
    assert pair.score(WEIGHTS).total == pair.total


def test_an_empty_intake_or_pool():
    assert assign_optimal([], [mentor()], WEIGHTS).pairs == ()
    assert assign_optimal([mentee()], [], WEIGHTS).unmatched == (mentee().member_id,)
    assert assign_greedy([mentee()], [mentor(load=2)], WEIGHTS).total == 0.0


def test_the_intake_is_the_organisation_s_eligible_mentees_without_an_open_pair():
    members = [candidate("ada", "mentee"), candidate("bea", "mentee"),
               candidate("cleo", "mentee", organisation_id=OTHER_ORG),
               candidate("dora", "mentor"),
               candidate("eva", "mentee", accepted_charter=None),  # R3
               candidate("fay", "mentee", excluded=True)]  # R2
    chosen = intake(members, organisation_id=ORG, current_charter=1,
                    open_pair_members=[candidate("bea", "mentee").member_id])
    assert [m.member_id for m in chosen] == [candidate("ada", "mentee").member_id]
