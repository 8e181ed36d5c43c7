"""moderation: cases of commercial solicitation (R1) and their outcome (R2).
Topic ``moderation.events``; subject (Kafka key) of every event: the case id,
so a decision and its consequences (``MemberExcluded`` + ``ProfileFlagged``,
appended together) stay in order."""

from __future__ import annotations

from marshmallow import validate

from contracts import charter
from contracts.events.base import EventData
from contracts.fields import Boolean, Ciphertext, Fingerprint, Id, Timestamp, choice
from contracts.registry import event

CONTEXT = "moderation"

DISMISSAL_REASONS = ("insufficient_evidence", "not_commercial", "duplicate")


@event(CONTEXT, "CaseOpened", version=1)
class CaseOpenedV1(EventData):
    """A first report against a member opens her case."""

    case_id = Id(required=True)
    reported_member_id = Id(required=True)
    report_id = Id(required=True)
    opened_at = Timestamp(required=True)


@event(CONTEXT, "ReportJoinedCase", version=1)
class ReportJoinedCaseV1(EventData):
    """A further report against the same member joins her open case."""

    case_id = Id(required=True)
    report_id = Id(required=True)
    reporter_id = Id(required=True)
    joined_at = Timestamp(required=True)


@event(CONTEXT, "ExclusionConfirmed", version=1)
class ExclusionConfirmedV1(EventData):
    """One moderator's vote that the solicitation happened. The rationale is
    sealed under the moderators' key (R8)."""

    case_id = Id(required=True)
    moderator_id = Id(required=True)
    rationale = Ciphertext(required=True)
    confirmed_at = Timestamp(required=True)


@event(CONTEXT, "CaseDismissed", version=1)
class CaseDismissedV1(EventData):
    case_id = Id(required=True)
    moderator_id = Id(required=True)
    reason = choice(DISMISSAL_REASONS, required=True)
    rationale = Ciphertext(required=True)
    dismissed_at = Timestamp(required=True)


@event(CONTEXT, "MemberExcluded", version=1)
class MemberExcludedV1(EventData):
    """R2: systematic and permanent exclusion; there is no reinstatement event.
    The fingerprint bars the same person under any organisation, for ever,
    even after her personal data is erased."""

    case_id = Id(required=True)
    member_id = Id(required=True)
    identity_fingerprint = Fingerprint(required=True)
    permanent = Boolean(required=True, validate=validate.Equal(True))
    excluded_at = Timestamp(required=True)


@event(CONTEXT, "ProfileFlagged", version=1)
class ProfileFlaggedV1(EventData):
    """R2: the excluded member's profile is flagged, with the offence (R1)."""

    case_id = Id(required=True)
    member_id = Id(required=True)
    identity_fingerprint = Fingerprint(required=True)
    flag = choice(charter.PROFILE_FLAGS, required=True)
    flagged_at = Timestamp(required=True)
