"""One mentee and one mentor: excluded by a hard constraint, or scored (algorithm
version 1), with the part each criterion played.

This is the reference definition of a score. ``suggestions.MentorIndex`` computes
the very same floats for thousands of mentors at once with numpy (same
operations in the same order, so the results are equal bit for bit: the unit
tests hold them to it), and ``proposal.rederive`` re-computes a recorded score
with it.

A score is ``sum(weight[c] * value[c] for c in CRITERIA)``, each value in [0, 1]
and the weights summing to 1, so a score is in [0, 1] and its components (the
products) add up to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.matching.domain.criteria import (
    ALGORITHM_VERSION,
    CRITERIA,
    EXCLUSION_MEANINGS,
    EXCLUSIONS,
)
from services.matching.domain.profiles import MenteeProfile, MentorProfile
from services.matching.domain.weights import Weights
from services.servicekit.errors import Invalid

__all__ = ["Excluded", "Score", "Unmatchable", "evaluate", "exclusions", "score",
           "values"]


class Unmatchable(Invalid):
    """A proposal between two members a hard constraint keeps apart."""

    def __init__(self, reasons: tuple[str, ...]) -> None:
        described = "; ".join(f"{r} ({EXCLUSION_MEANINGS[r]})" for r in reasons)
        super().__init__(f"Not a possible match: {described}.", field="mentor_id")
        self.reasons = reasons


@dataclass(frozen=True)
class Score:
    """A score and its explanation.

    ``values``: each criterion's value in [0, 1]; ``components``: weight x value,
    the part each criterion played; they sum to ``total``.
    """

    total: float
    values: Mapping[str, float]
    components: Mapping[str, float]
    weights: Weights
    algorithm_version: int = ALGORITHM_VERSION

    def explain(self) -> dict[str, Any]:
        """JSON-ready, for a partner: the score and, per criterion, its weight, its
        value and its contribution."""
        weights = self.weights.as_dict()
        return {
            "score": self.total,
            "algorithm_version": self.algorithm_version,
            "criteria": {
                c: {"weight": weights[c], "value": self.values[c],
                    "contribution": self.components[c]}
                for c in CRITERIA
            },
        }


@dataclass(frozen=True)
class Excluded:
    """Not scored: the hard constraints the pair breaks (``criteria.EXCLUSIONS``)."""

    reasons: tuple[str, ...]


def in_person_possible(mentee_modality: str, mentor_modality: str) -> bool:
    """Neither of them meets only remotely."""
    return "remote" not in (mentee_modality, mentor_modality)


def in_person_required(mentee_modality: str, mentor_modality: str) -> bool:
    """They can only meet in person: neither is remote-only, one is in-person-only."""
    return in_person_possible(mentee_modality, mentor_modality) and (
        "in_person" in (mentee_modality, mentor_modality)
    )


def same_region(mentee: MenteeProfile, mentor: MentorProfile) -> bool:
    return mentee.region is not None and mentee.region == mentor.region


def exclusions(mentee: MenteeProfile, mentor: MentorProfile) -> tuple[str, ...]:
    """The hard constraints the pair breaks, in ``EXCLUSIONS`` order; () when none."""
    broken: set[str] = set()
    if mentee.fingerprint is not None and mentee.fingerprint == mentor.fingerprint:
        broken.add("same_person")  # one person registered in both roles
    if not mentee.languages & mentor.languages:
        broken.add("no_shared_language")
    modalities = {mentee.preferred_modality, mentor.preferred_modality}
    if modalities == {"remote", "in_person"}:
        broken.add("incompatible_modality")
    elif in_person_required(mentee.preferred_modality, mentor.preferred_modality) and (
        not same_region(mentee, mentor)
    ):
        broken.add("different_region")
    if mentor.load >= mentor.capacity:
        broken.add("no_free_capacity")
    if mentee.organisation_id != mentor.organisation_id and not (
        mentee.matching_scope == "open" and mentor.matching_scope == "open"
    ):
        # Both sides must have opened their matching to other organisations.
        broken.add("organisation_not_open")
    return tuple(r for r in EXCLUSIONS if r in broken)


def values(mentee: MenteeProfile, mentor: MentorProfile) -> dict[str, float]:
    """Each criterion's value in [0, 1] (meaningful for a pair that is not excluded).

    Integer ratios are computed as ``int / int``, which is what numpy's vectorised
    path computes too (both exact before one correctly rounded division).
    """
    needs = len(mentee.topics)
    return {
        "topics": len(mentee.topics & mentor.topics) / needs if needs else 0.0,
        "languages": len(mentee.languages & mentor.languages) / len(mentee.languages),
        "modality": 1.0 if mentee.preferred_modality == mentor.preferred_modality else 0.5,
        "region": 1.0 if (
            in_person_possible(mentee.preferred_modality, mentor.preferred_modality)
            and same_region(mentee, mentor)
        ) else 0.0,
        "capacity": (mentor.capacity - mentor.load) / mentor.capacity,
        "organisation": 1.0 if mentee.organisation_id == mentor.organisation_id else 0.0,
    }


def combine(values_: Mapping[str, float], weights: Weights) -> Score:
    """Weights x values, summed in criterion order (the order is part of the
    algorithm: float addition is not associative, and re-derivation is exact)."""
    weight = weights.as_dict()
    components = {c: weight[c] * values_[c] for c in CRITERIA}
    total = 0.0
    for c in CRITERIA:
        total += components[c]
    # Normalised weights may sum to 1 + 1 ulp; a score never leaves [0, 1].
    return Score(total=min(total, 1.0), values=dict(values_), components=components,
                 weights=weights)


def evaluate(mentee: MenteeProfile, mentor: MentorProfile, weights: Weights) -> Score | Excluded:
    """The pair's ``Score``, or ``Excluded`` with the hard constraints it breaks."""
    broken = exclusions(mentee, mentor)
    if broken:
        return Excluded(broken)
    return combine(values(mentee, mentor), weights)


def score(mentee: MenteeProfile, mentor: MentorProfile, weights: Weights) -> Score:
    """The pair's ``Score``; ``Unmatchable`` (naming the constraints) if excluded."""
    outcome = evaluate(mentee, mentor, weights)
    if isinstance(outcome, Excluded):
        raise Unmatchable(outcome.reasons)
    return outcome
