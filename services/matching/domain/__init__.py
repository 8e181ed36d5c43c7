"""The pure domain of matching: no server, no clock, no I/O.

One idea per module:

- ``criteria``: the criteria of a score, the hard constraints, the algorithm version.
- ``weights``: ``Weights`` and ``MatchingConfig``, from configuration, validated.
- ``candidate``: ``Candidate``, a member as the pool knows her.
- ``eligibility``: who may be matched (R2, R3): ``eligibility``, ``assert_eligible``.
- ``pool``: ``Pool``, candidates kept from identity and moderation events.
- ``profiles``: ``MenteeProfile``, ``MentorProfile``: what a score is computed from.
- ``scoring``: one pair, excluded or scored, with its explanation (the reference).
- ``suggestions``: ``MentorIndex``, the top mentors for a mentee, vectorised.
- ``cohort``: the optimal assignment of an intake, and the greedy baseline.
- ``proposal``: ``propose`` (a checked, scored request) and ``rederive``.
- ``capacity``: the checks behind "one pair per mentee" and "never over capacity".
- ``pair``: ``Pair``, the aggregate of a proposal and the pair it becomes (R9).
"""

from services.matching.domain.candidate import Candidate
from services.matching.domain.capacity import (
    OPEN_STATES,
    assert_capacity,
    assert_mentee_free,
    free_places,
)
from services.matching.domain.cohort import (
    Assignment,
    CohortPair,
    assign_greedy,
    assign_optimal,
    intake,
)
from services.matching.domain.criteria import (
    ALGORITHM_VERSION,
    CRITERIA,
    CRITERION_MEANINGS,
    EXCLUSION_MEANINGS,
    EXCLUSIONS,
)
from services.matching.domain.eligibility import Eligibility, assert_eligible, eligibility
from services.matching.domain.pair import Pair
from services.matching.domain.pool import Pool, PoolChange
from services.matching.domain.profiles import MenteeProfile, MentorProfile
from services.matching.domain.proposal import Proposal, audit, propose, rederive
from services.matching.domain.scoring import Excluded, Score, Unmatchable, evaluate, score
from services.matching.domain.suggestions import MentorIndex, Suggestion, Suggestions
from services.matching.domain.weights import MatchingConfig, Weights

__all__ = [
    "ALGORITHM_VERSION", "CRITERIA", "CRITERION_MEANINGS", "EXCLUSIONS", "EXCLUSION_MEANINGS",
    "OPEN_STATES", "Assignment", "Candidate", "CohortPair", "Eligibility", "Excluded",
    "MatchingConfig", "MenteeProfile", "MentorIndex", "MentorProfile", "Pair", "Pool",
    "PoolChange", "Proposal", "Score", "Suggestion", "Suggestions", "Unmatchable", "Weights",
    "assert_capacity", "assert_eligible", "assert_mentee_free", "assign_greedy",
    "assign_optimal", "audit", "eligibility", "evaluate", "free_places", "intake", "propose",
    "rederive", "score",
]
