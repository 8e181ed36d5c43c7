"""Examples of the matching context's events (see ``contracts.examples``)."""

from __future__ import annotations

from typing import Any

from contracts.examples.base import AT, MENTEE, MENTOR, ORG, PAIR, example_id

#: A second, open organisation (the mentor's, in the cross-organisation example).
OTHER_ORG = example_id("other organisation")

EXAMPLES: dict[tuple[str, int], dict[str, Any]] = {
    ("MatchProposed", 1): {
        "pair_id": PAIR,
        "mentor_id": MENTOR,
        "mentee_id": MENTEE,
        "score": 0.82,
        "proposed_at": AT,
        "expires_at": "2025-03-11T10:00:00+00:00",
    },
    # A mentee's request, as matching's algorithm version 1 scores it: she needs
    # two topics the mentor covers (1.0), speaks both her languages (1.0), both
    # prefer remote (1.0, so region plays no part: 0.0), the mentor has one of her
    # two places taken (0.5), and she is of another open organisation (0.0).
    ("MatchProposed", 2): {
        "pair_id": PAIR,
        "mentor_id": MENTOR,
        "mentee_id": MENTEE,
        "source": "request",
        "requested_by": MENTEE,
        "cohort_id": None,
        "score": 0.725,
        "algorithm_version": 1,
        "weights": {"topics": 0.4, "languages": 0.15, "modality": 0.1, "region": 0.1,
                    "capacity": 0.15, "organisation": 0.1},
        "components": {"topics": 0.4, "languages": 0.15, "modality": 0.1, "region": 0.0,
                       "capacity": 0.075, "organisation": 0.0},
        "inputs": {
            "mentee": {"organisation_id": ORG, "matching_scope": "open",
                       "topics": ["career_change", "software"], "languages": ["en", "fr"],
                       "preferred_modality": "remote", "region": None},
            "mentor": {"organisation_id": OTHER_ORG, "matching_scope": "open",
                       "topics": ["leadership", "software", "career_change"],
                       "languages": ["fr", "en", "de"], "preferred_modality": "remote",
                       "region": "fr-idf", "capacity": 2, "load": 1},
        },
        "proposed_at": AT,
        "expires_at": "2025-03-11T10:00:00+00:00",
    },
    ("MatchAccepted", 1): {"pair_id": PAIR, "member_id": MENTEE, "accepted_at": AT},
    ("MatchDeclined", 1): {
        "pair_id": PAIR,
        "member_id": MENTOR,
        "reason": "unavailable",
        "declined_at": AT,
    },
    ("MatchExpired", 1): {"pair_id": PAIR, "expired_at": AT},
    ("ProposalWithdrawn", 1): {
        "pair_id": PAIR,
        "reason": "withdrawn",
        "withdrawn_by": MENTEE,
        "withdrawn_at": AT,
    },
    ("PairFormed", 1): {
        "pair_id": PAIR,
        "mentor_id": MENTOR,
        "mentee_id": MENTEE,
        "formed_at": AT,
    },
    # The pair of the request above: a mentee of ORG, a mentor of another open one.
    ("PairFormed", 2): {
        "pair_id": PAIR,
        "mentor_id": MENTOR,
        "mentee_id": MENTEE,
        "mentor_organisation_id": OTHER_ORG,
        "mentee_organisation_id": ORG,
        "formed_at": AT,
    },
    ("PairEnded", 1): {
        "pair_id": PAIR,
        "reason": "completed",
        "ended_by": MENTEE,
        "ended_at": AT,
    },
}
