"""The vocabulary of a score: its criteria, the hard constraints that exclude a
match instead of scoring it low, and the algorithm version that combines them.

Partners read scores through these names, so each comes with a plain
explanation (the gateway may show it as is). The criteria are the contract's
(``contracts.events.matching.CRITERIA``): a proposal's event records one weight
and one component per criterion, in this order.
"""

from __future__ import annotations

from contracts.events.matching import CRITERIA

__all__ = ["ALGORITHM_VERSION", "CRITERIA", "CRITERION_MEANINGS", "EXCLUSIONS",
           "EXCLUSION_MEANINGS"]

#: The version of the scoring formulas (``scoring``). Recorded in every proposal so
#: that it can be re-derived: changing a formula means a new version, with the old
#: one kept for re-derivation (``proposal.ALGORITHMS``).
ALGORITHM_VERSION = 1

#: What each criterion's value in [0, 1] measures (algorithm version 1).
CRITERION_MEANINGS: dict[str, str] = {
    "topics": "share of the mentee's needs that the mentor's expertise covers "
              "(0 when she stated none)",
    "languages": "share of the mentee's languages that the mentor speaks",
    "modality": "1 when both prefer the same way to meet, 0.5 when one of them "
                "takes either",
    "region": "1 when they can meet in person in the same region, otherwise 0",
    "capacity": "the mentor's free places over her capacity (spreads the load)",
    "organisation": "1 within one organisation, 0 across two open ones",
}

#: Hard constraints: a pair that breaks one is not scored at all (never suggested,
#: never proposed, never in a cohort). Ordered as they are reported.
EXCLUSIONS: tuple[str, ...] = (
    "same_person",
    "no_shared_language",
    "incompatible_modality",
    "different_region",
    "no_free_capacity",
    "organisation_not_open",
)

EXCLUSION_MEANINGS: dict[str, str] = {
    "same_person": "the mentor and the mentee are one person (same identity fingerprint)",
    "no_shared_language": "they share no language",
    "incompatible_modality": "one meets only remotely, the other only in person",
    "different_region": "they would meet in person but not in the same region",
    "no_free_capacity": "the mentor has no free place",
    "organisation_not_open": "another organisation, and the two are not both open",
}
