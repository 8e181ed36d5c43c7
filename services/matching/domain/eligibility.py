"""Who may be suggested, proposed or paired (R2, R3).

A member is eligible when she has accepted the *current* charter version for her
role (R3), is not excluded (R2) and her personal data is not erased. A new
charter version, an exclusion or an erasure takes her out at once: the pool
(``pool.Pool``) re-decides eligibility on every such event.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.matching.domain.candidate import Candidate
from services.servicekit.errors import NotFound, RuleViolation

__all__ = ["INELIGIBILITY", "Eligibility", "assert_eligible", "eligibility"]

#: Why a member is not eligible, and the charter rule behind it (None: no charter
#: rule, erasure is the member's right).
INELIGIBILITY: dict[str, str | None] = {
    "erased": None,
    "excluded": "R2",
    "no_charter_published": "R3",
    "charter_not_accepted": "R3",
    "charter_stale": "R3",
}


@dataclass(frozen=True)
class Eligibility:
    """``reasons`` are ``INELIGIBILITY`` codes, most serious first; none: eligible."""

    member_id: str
    reasons: tuple[str, ...] = ()

    @property
    def eligible(self) -> bool:
        return not self.reasons

    def require(self, field: str = "member_id") -> None:
        """Raise for her first reason: an erased member is not found (as if she had
        never been), an excluded one breaks R2, a charter reason R3."""
        if not self.reasons:
            return
        reason = self.reasons[0]
        if reason == "erased":
            raise NotFound("No such member.", field=field)
        if reason == "excluded":
            # R2: exclusion is permanent; she can never be matched again.
            raise RuleViolation("R2", "This member is permanently excluded and cannot be "
                                "matched.", field=field)
        # R3: only a member who accepted the current charter for her role takes part.
        detail = {
            "no_charter_published": "No charter is published yet: nobody can be matched.",
            "charter_not_accepted": "This member has not accepted the charter for her role.",
            "charter_stale": "A new charter version was published: this member must accept "
                             "it before she can be matched.",
        }[reason]
        raise RuleViolation("R3", detail, field=field)


def eligibility(candidate: Candidate, current_charter: int | None) -> Eligibility:
    """Her eligibility against ``current_charter``, the last published version.

    An acceptance of a version newer than the last one matching has seen counts:
    ``CharterPublished`` and ``CharterAccepted`` have different Kafka keys, so they
    may arrive in either order, and she can only have accepted a published text.
    """
    reasons: list[str] = []
    if candidate.erased:
        reasons.append("erased")
    if candidate.excluded:
        reasons.append("excluded")  # R2
    if current_charter is None:
        reasons.append("no_charter_published")  # R3
    elif candidate.accepted_charter is None:
        reasons.append("charter_not_accepted")  # R3
    elif candidate.accepted_charter < current_charter:
        reasons.append("charter_stale")  # R3: a new version needs a new acceptance
    return Eligibility(candidate.member_id, tuple(reasons))


def assert_eligible(candidate: Candidate, current_charter: int | None,
                    field: str = "member_id") -> None:
    """Raise (``RuleViolation`` R2/R3, ``NotFound`` if erased) unless eligible."""
    eligibility(candidate, current_charter).require(field)
