"""A moderator's decision on a case: the quorum policy and the checks (R2, R8).

"Four eyes": an exclusion is irreversible (R2), so a confirmation takes effect
only when ``quorum`` *different* moderators voted to confirm (configuration,
default 2, never fewer). A dismissal needs one moderator: it closes the case,
excludes no one, and a later report opens a new case.

The reasons are codes (``CONFIRMATION_REASONS``, ``DISMISSAL_REASONS`` in the
contract): counted per reason, and no free text can hide in them (R8). The
rationale is free text, so it arrives sealed under the moderators' key and the
domain only checks that it is sealed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from contracts import sealed
from contracts.events.moderation import CONFIRMATION_REASONS, DISMISSAL_REASONS, MIN_QUORUM
from contracts.fields import FINGERPRINT_PATTERN
from services.moderation.domain.report import uuid_text
from services.servicekit.errors import Conflict, Forbidden, Invalid

__all__ = ["CONFIRMATION_REASONS", "DEFAULT_QUORUM", "DISMISSAL_REASONS", "MIN_QUORUM",
           "DecisionPolicy", "Tally", "Vote", "check_fingerprint", "check_four_eyes",
           "check_rationale", "check_reason", "check_seen_version", "moderator"]

DEFAULT_QUORUM = 2

_FINGERPRINT = re.compile(FINGERPRINT_PATTERN)


@dataclass(frozen=True)
class DecisionPolicy:
    """The service's configuration of decisions: ``quorum`` different moderators
    confirm an exclusion. Read at each vote, so a changed quorum applies to the
    votes still to come (and ``CaseConfirmed`` records the one in force)."""

    quorum: int = DEFAULT_QUORUM

    def __post_init__(self) -> None:
        if isinstance(self.quorum, bool) or not isinstance(self.quorum, int):
            raise ValueError(f"the quorum is an int, not {self.quorum!r}")
        if self.quorum < MIN_QUORUM:
            # R2: an irreversible exclusion is never one person's decision.
            raise ValueError(f"the quorum is at least {MIN_QUORUM} (four eyes), not {self.quorum}")


@dataclass(frozen=True)
class Vote:
    """One moderator's vote to confirm (an ``ExclusionConfirmed`` event)."""

    moderator_id: str
    reason: str | None  # null only for a v1 vote, cast before reason codes
    rationale: str  # sealed (R8)
    at: str


@dataclass(frozen=True)
class Tally:
    """Where a case's confirmation stands: what ``Case.confirm`` returns."""

    moderator_ids: tuple[str, ...]  # distinct, in vote order
    quorum: int

    @property
    def votes(self) -> int:
        return len(self.moderator_ids)

    @property
    def reached(self) -> bool:
        return self.votes >= self.quorum

    @property
    def missing(self) -> int:
        return max(0, self.quorum - self.votes)


def moderator(moderator_id: str) -> str:
    return uuid_text(moderator_id, "moderator_id")


def check_reason(reason: str, allowed: Sequence[str]) -> str:
    if reason not in allowed:
        raise Invalid(f"Not a reason code: {reason!r}; one of {', '.join(allowed)}.",
                      field="reason")
    return reason


def check_rationale(rationale: str) -> str:
    """R8: the rationale is sealed under the moderators' key, never plaintext."""
    if not sealed.is_sealed(rationale):
        raise Invalid("The rationale must be sealed (enc:v1:...), never plaintext.",
                      field="rationale", rule="R8")
    return rationale


def check_fingerprint(fingerprint: str) -> str:
    """R2: the exclusion bars the person, not the account, so it carries her
    identity fingerprint (from identity's ``MemberRegistered``)."""
    if not isinstance(fingerprint, str) or not _FINGERPRINT.match(fingerprint):
        raise Invalid("Not an identity fingerprint 'fp:<v1|v2>:<key-id>:<hex>'.",
                      field="identity_fingerprint")
    return fingerprint


def check_seen_version(seen_version: int, current_version: int) -> None:
    """A moderator decides on the case as she read it (its version, like an ETag):
    if a report joined or another moderator voted or decided since, she is told
    and re-reads it rather than deciding on what she did not see. This is also
    how the second of two simultaneous deciders is refused after the store's
    optimistic concurrency made her command reload the case."""
    if isinstance(seen_version, bool) or not isinstance(seen_version, int):
        raise Invalid("case_version must be the integer version you read.", field="case_version")
    if seen_version != current_version:
        raise Conflict(
            f"The case changed since you read it (version {seen_version}, now "
            f"{current_version}): read it again, then decide.",
            field="case_version",
        )


def check_four_eyes(moderator_id: str, votes: Sequence[Vote]) -> None:
    """R2 (four eyes): the same moderator voting twice does not count twice."""
    if any(v.moderator_id == moderator_id for v in votes):
        raise Forbidden(
            "You already voted to confirm this case: a second, different moderator "
            "must concur (four eyes).",
            field="moderator_id", rule="R2",
        )
