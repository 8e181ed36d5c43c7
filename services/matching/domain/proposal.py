"""A proposal before it is recorded, and re-deriving a recorded one.

``propose`` is the request path: both members eligible (R3, R2), the mentor
visible to the mentee's organisation, no hard constraint, scored with the
configured weights. The resulting ``Proposal`` carries exactly what
``MatchProposed`` v2 records (inputs, weights, components, algorithm version),
so that ``rederive(event_data)`` recomputes the recorded score from the event
alone, for an audit of any match, for bias or otherwise, years later.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from services.matching.domain.candidate import Candidate
from services.matching.domain.capacity import assert_capacity
from services.matching.domain.cohort import CohortPair
from services.matching.domain.criteria import CRITERIA
from services.matching.domain.eligibility import assert_eligible
from services.matching.domain.profiles import MenteeProfile, MentorProfile
from services.matching.domain.scoring import (
    Score,
    combine,
    exclusions,
    score,
    values,
)
from services.matching.domain.suggestions import Suggestion
from services.matching.domain.weights import Weights
from services.servicekit.errors import Invalid, NotFound

__all__ = ["ALGORITHMS", "Proposal", "audit", "propose", "rederive", "rederive_score"]

#: Every algorithm version ever recorded, kept so that old proposals re-derive.
ALGORITHMS: dict[int, Callable[[MenteeProfile, MentorProfile, Weights], Score]] = {
    1: lambda mentee, mentor, weights: combine(values(mentee, mentor), weights),
}

#: Recorded and re-derived floats agree to this much (they are equal when the
#: event went through JSON, which keeps floats exactly; the margin is for stores
#: that keep numbers as decimals).
TOLERANCE = 1e-12


@dataclass(frozen=True)
class Proposal:
    """A mentee, a mentor (with her load when scored) and their score."""

    mentee: MenteeProfile
    mentor: MentorProfile
    score: Score

    @classmethod
    def from_suggestion(cls, mentee: MenteeProfile, suggestion: Suggestion) -> Proposal:
        return cls(mentee, suggestion.mentor, suggestion.score)

    @classmethod
    def from_cohort(cls, pair: CohortPair, weights: Weights) -> Proposal:
        return cls(pair.mentee, pair.mentor, pair.score(weights))

    def explanation(self) -> dict[str, Any]:
        """The explainability fields of ``MatchProposed`` v2 (JSON form)."""
        return {
            "score": self.score.total,
            "algorithm_version": self.score.algorithm_version,
            "weights": self.score.weights.as_dict(),
            "components": dict(self.score.components),
            "inputs": {"mentee": self.mentee.to_inputs(), "mentor": self.mentor.to_inputs()},
        }


def propose(mentee: Candidate, mentor: Candidate, *, charter_version: int | None,
            mentor_load: int, weights: Weights) -> Proposal:
    """A mentee's request for ``mentor``, checked and scored.

    ``mentor_load``: her active and pending pairs, counted under the lock on her
    (``capacity``). Raises ``RuleViolation`` R3 (a charter not accepted, or
    stale) or R2 (excluded) for either member, ``NotFound`` for an erased member or
    a mentor of another organisation the mentee may not see (the two must look
    alike), ``Conflict`` when the mentor has no free place, and ``Unmatchable``
    naming the other hard constraints the pair breaks.
    """
    assert_eligible(mentee, charter_version, field="mentee_id")  # R3, R2
    assert_eligible(mentor, charter_version, field="mentor_id")  # R3, R2
    mentee_profile = mentee.as_mentee()
    mentor_profile = mentor.as_mentor(mentor_load)
    # A full mentor is a conflict (someone else took the place), not a bad request.
    assert_capacity(mentor_load, mentor_profile.capacity)
    if "organisation_not_open" in exclusions(mentee_profile, mentor_profile):
        # Not hers to see: indistinguishable from a mentor that does not exist.
        raise NotFound("No such mentor.", field="mentor_id")
    return Proposal(mentee_profile, mentor_profile,
                    score(mentee_profile, mentor_profile, weights))


_Recorded = tuple[MenteeProfile, MentorProfile, Weights, int]


def _recorded(event_data: Mapping[str, Any]) -> _Recorded:
    version = event_data.get("algorithm_version")
    if version is None or event_data.get("inputs") is None:
        raise Invalid("This proposal was recorded before proposals recorded their inputs "
                      "(MatchProposed v1): it cannot be re-derived.",
                      field="algorithm_version")
    if version not in ALGORITHMS:
        raise Invalid(f"Unknown algorithm version {version!r}.", field="algorithm_version")
    inputs = event_data["inputs"]
    return (MenteeProfile.from_inputs(str(event_data["mentee_id"]), inputs["mentee"]),
            MentorProfile.from_inputs(str(event_data["mentor_id"]), inputs["mentor"]),
            Weights.from_recorded({c: float(w) for c, w in event_data["weights"].items()}),
            int(version))


def rederive_score(event_data: Mapping[str, Any]) -> Score:
    """The full score recomputed from ``MatchProposed`` v2 data (JSON or loaded form)
    by the algorithm version it names."""
    mentee, mentor, weights, version = _recorded(event_data)
    return ALGORITHMS[version](mentee, mentor, weights)


def rederive(event_data: Mapping[str, Any]) -> float:
    """The score recomputed from ``MatchProposed`` v2 data: equal to the recorded
    ``score`` for every proposal matching made."""
    return rederive_score(event_data).total


def audit(event_data: Mapping[str, Any]) -> list[str]:
    """What does not hold in a recorded proposal (empty: it re-derives exactly):
    a score or a component that differs, a hard constraint its inputs break."""
    mentee, mentor, weights, version = _recorded(event_data)
    again = ALGORITHMS[version](mentee, mentor, weights)
    findings = [f"hard constraint broken: {r}" for r in exclusions(mentee, mentor)]
    if not math.isclose(again.total, float(event_data["score"]), rel_tol=0,
                        abs_tol=TOLERANCE):
        findings.append(f"score: recorded {event_data['score']}, re-derived {again.total}")
    for c in CRITERIA:
        recorded = float(event_data["components"][c])
        if not math.isclose(again.components[c], recorded, rel_tol=0, abs_tol=TOLERANCE):
            findings.append(f"component {c}: recorded {recorded}, re-derived "
                            f"{again.components[c]}")
    return findings

