"""Cohorts: the best assignment of a whole intake of mentees to mentors.

An intake is every eligible mentee of an organisation with no active or
pending pair (``intake``); the mentors are an index of the eligible ones.
``assign_optimal`` finds the assignment with the greatest total score such
that no mentor gets more mentees than her free places and no hard constraint
is broken: a maximum-weight bipartite matching,
solved exactly with ``scipy.optimize.linear_sum_assignment`` on
capacity-expanded mentor slots (a mentor with k free places is k identical
columns). A mentee left without a feasible mentor stays unmatched (she is not
forced on anyone: an infeasible slot is worth what being unmatched is, 0).

``assign_greedy`` is the baseline it is compared with (the benchmark reports
the ratio, >= 1 by construction): take the best remaining feasible pair, again
and again.

Both are deterministic: mentees and mentors are put in id order first, and
greedy breaks ties by mentee then mentor id.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from services.matching.domain.candidate import Candidate
from services.matching.domain.eligibility import eligibility
from services.matching.domain.profiles import MenteeProfile, MentorProfile
from services.matching.domain.scoring import Score, score
from services.matching.domain.suggestions import MentorIndex
from services.matching.domain.weights import Weights
from services.servicekit.errors import Invalid

__all__ = ["Assignment", "CohortPair", "assign_greedy", "assign_optimal", "intake"]


@dataclass(frozen=True)
class CohortPair:
    """One mentee and the mentor she is assigned, with the pair's score."""

    mentee: MenteeProfile
    mentor: MentorProfile
    total: float

    def score(self, weights: Weights) -> Score:
        """The full explanation (``scoring.score``) of this pair, as its proposal
        records it; equal to ``total``."""
        return score(self.mentee, self.mentor, weights)


@dataclass(frozen=True)
class Assignment:
    """A cohort's assignment: its pairs (in mentee id order), the mentees left
    unmatched, the total score, and the method that found it."""

    method: str
    pairs: tuple[CohortPair, ...]
    unmatched: tuple[str, ...]
    total: float

    def mentor_counts(self) -> dict[str, int]:
        """Mentees assigned per mentor (never above her free places)."""
        counts: dict[str, int] = {}
        for pair in self.pairs:
            counts[pair.mentor.member_id] = counts.get(pair.mentor.member_id, 0) + 1
        return counts


def intake(candidates: Iterable[Candidate], *, organisation_id: str,
           open_pair_members: Iterable[str], current_charter: int | None
           ) -> list[MenteeProfile]:
    """The intake of ``organisation_id``: its eligible mentees (R2, R3) among
    ``candidates`` who have no active or pending pair, in member id order."""
    busy = set(open_pair_members)
    return [c.as_mentee() for c in sorted(candidates, key=lambda c: c.member_id)
            if c.role == "mentee" and c.organisation_id == organisation_id
            and c.member_id not in busy and eligibility(c, current_charter).eligible]


def _prepare(mentees: Sequence[MenteeProfile], mentors: MentorIndex | Iterable[MentorProfile],
             weights: Weights) -> tuple[list[MenteeProfile], MentorIndex, np.ndarray, np.ndarray]:
    ordered = sorted(mentees, key=lambda m: m.member_id)
    if len({m.member_id for m in ordered}) != len(ordered):
        raise Invalid("A mentee appears twice in the cohort.", field="mentee_id")
    index = mentors if isinstance(mentors, MentorIndex) else MentorIndex(mentors)
    scores, feasible = index.score_matrix(ordered, weights)
    return ordered, index, scores, feasible


def _assignment(method: str, mentees: list[MenteeProfile], index: MentorIndex,
                chosen: list[tuple[int, int]], scores: np.ndarray) -> Assignment:
    chosen.sort()
    pairs = tuple(CohortPair(mentees[i], index.profiles[j], float(scores[i, j]))
                  for i, j in chosen)
    matched = {i for i, _ in chosen}
    unmatched = tuple(m.member_id for i, m in enumerate(mentees) if i not in matched)
    # fsum: exact, so the total does not depend on the order pairs were found in.
    return Assignment(method, pairs, unmatched, math.fsum(p.total for p in pairs))


def assign_optimal(mentees: Sequence[MenteeProfile],
                   mentors: MentorIndex | Iterable[MentorProfile],
                   weights: Weights) -> Assignment:
    """The assignment of greatest total score under the mentors' free places.

    Columns are mentor slots (a mentor repeated once per free place); an edge's
    cost is minus its score, and an infeasible edge costs 0, the same as leaving
    the mentee unmatched, so the solver never prefers it and it is dropped.
    """
    ordered, index, scores, feasible = _prepare(mentees, mentors, weights)
    # Only mentors some mentee can have, each with at most as many slots as mentees.
    usable = np.flatnonzero(feasible.any(axis=0) & (index.free_places > 0))
    places = np.minimum(index.free_places[usable], len(ordered))
    slots = np.repeat(usable, places)
    if len(ordered) == 0 or len(slots) == 0:
        return _assignment("optimal", ordered, index, [], scores)
    cost = -scores[:, slots]  # 0 where infeasible (score_matrix sets those to 0)
    rows, cols = linear_sum_assignment(cost)
    chosen = [(int(i), int(slots[c])) for i, c in zip(rows, cols, strict=True)
              if feasible[i, slots[c]]]
    return _assignment("optimal", ordered, index, chosen, scores)


def assign_greedy(mentees: Sequence[MenteeProfile],
                  mentors: MentorIndex | Iterable[MentorProfile],
                  weights: Weights) -> Assignment:
    """The baseline: repeatedly take the best remaining feasible pair whose mentee
    is unassigned and whose mentor has a free place."""
    ordered, index, scores, feasible = _prepare(mentees, mentors, weights)
    rows, cols = np.nonzero(feasible)
    # Best score first; ties by mentee, then mentor (both in id order).
    order = np.lexsort((cols, rows, -scores[rows, cols]))
    places = index.free_places.copy()
    assigned = np.zeros(len(ordered), dtype=np.bool_)
    chosen: list[tuple[int, int]] = []
    remaining = len(ordered)
    for k in order:
        i, j = int(rows[k]), int(cols[k])
        if assigned[i] or places[j] == 0:
            continue
        assigned[i] = True
        places[j] -= 1
        chosen.append((i, j))
        remaining -= 1
        if remaining == 0:
            break
    return _assignment("greedy", ordered, index, chosen, scores)
