"""Small, explicit builders for the unit tests: every default is a plain value a
test can override by name."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from typing import Any

from services.matching.domain.candidate import Candidate
from services.matching.domain.profiles import MenteeProfile, MentorProfile
from services.matching.domain.weights import Weights

_NAMESPACE = uuid.UUID("5d7c0a52-93a8-4c4e-8c7e-0d1c6a9b3e21")
NOW = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)

WEIGHTS = Weights.from_config({"topics": 4, "languages": 1.5, "modality": 1, "region": 1,
                               "capacity": 1.5, "organisation": 1})


def uid(label: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, label))


ORG = uid("organisation A")
OTHER_ORG = uid("organisation B")


def fingerprint(label: str) -> str:
    return "fp:v1:platform-1:" + uuid.uuid5(_NAMESPACE, label).hex * 2


def mentee(label: str = "mentee", **changes: Any) -> MenteeProfile:
    fields: dict[str, Any] = {
        "member_id": uid(label), "organisation_id": ORG, "matching_scope": "own",
        "topics": {"software", "career_change"}, "languages": {"fr", "en"},
        "preferred_modality": "remote", "region": None, "fingerprint": fingerprint(label),
    }
    return MenteeProfile(**(fields | changes))


def mentor(label: str = "mentor", **changes: Any) -> MentorProfile:
    fields: dict[str, Any] = {
        "member_id": uid(label), "organisation_id": ORG, "matching_scope": "own",
        "topics": {"software", "leadership"}, "languages": {"fr"},
        "preferred_modality": "remote", "region": None, "fingerprint": fingerprint(label),
        "capacity": 2, "load": 0,
    }
    return MentorProfile(**(fields | changes))


def candidate(label: str, role: str, **changes: Any) -> Candidate:
    """An eligible member (charter version 1 accepted) unless told otherwise."""
    fields: dict[str, Any] = {
        "member_id": uid(label), "organisation_id": ORG, "role": role,
        "fingerprint": fingerprint(label), "languages": frozenset({"fr"}),
        "topics": frozenset({"software"}), "preferred_modality": "remote", "region": None,
        "capacity": 2 if role == "mentor" else None, "accepted_charter": 1,
    }
    return Candidate(**(fields | changes))


# -- random profiles (seeded), for properties over many pairs -------------------------------

TOPICS = [f"t{i}" for i in range(12)]
LANGUAGES = ["fr", "en", "es", "de"]
REGIONS = ["fr-idf", "fr-ara", "be-bru"]
ORGS = [uid(f"random organisation {i}") for i in range(3)]


def _random_common(rng: random.Random, label: str) -> dict[str, Any]:
    modality = rng.choice(["remote", "in_person", "either"])
    return {
        "member_id": uid(label),
        "organisation_id": rng.choice(ORGS),
        "matching_scope": rng.choice(["own", "open", "open"]),
        "topics": set(rng.sample(TOPICS, rng.randint(0, 4))),
        "languages": set(rng.sample(LANGUAGES, rng.randint(1, 2))),
        "preferred_modality": modality,
        "region": rng.choice(REGIONS) if modality == "in_person" or rng.random() < 0.5
        else None,
        # A few people in both roles: same fingerprint on both sides.
        "fingerprint": fingerprint(f"person {rng.randint(0, 40)}"),
    }


def random_mentees(rng: random.Random, n: int, prefix: str = "rm") -> list[MenteeProfile]:
    return [MenteeProfile(**_random_common(rng, f"{prefix} mentee {i}")) for i in range(n)]


def random_mentors(rng: random.Random, n: int, prefix: str = "rm") -> list[MentorProfile]:
    out = []
    for i in range(n):
        capacity = rng.randint(1, 3)
        out.append(MentorProfile(**_random_common(rng, f"{prefix} mentor {i}"),
                                 capacity=capacity, load=rng.randint(0, capacity)))
    return out
