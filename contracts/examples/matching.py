"""Examples of the matching context's events (see ``contracts.examples``)."""

from __future__ import annotations

from typing import Any

from contracts.examples.base import AT, MENTEE, MENTOR, PAIR

EXAMPLES: dict[tuple[str, int], dict[str, Any]] = {
    ("MatchProposed", 1): {
        "pair_id": PAIR,
        "mentor_id": MENTOR,
        "mentee_id": MENTEE,
        "score": 0.82,
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
    ("PairFormed", 1): {
        "pair_id": PAIR,
        "mentor_id": MENTOR,
        "mentee_id": MENTEE,
        "formed_at": AT,
    },
    ("PairEnded", 1): {
        "pair_id": PAIR,
        "reason": "completed",
        "ended_by": MENTEE,
        "ended_at": AT,
    },
}
