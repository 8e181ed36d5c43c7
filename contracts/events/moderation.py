"""moderation: cases of commercial solicitation (R1) and their outcome (R2).
Topic ``moderation.events``; subject (Kafka key) of every event: the case id,
so a decision and its consequences (``MemberExcluded`` + ``ProfileFlagged``,
appended together) stay in order.

The life of a case: ``CaseOpened``, any ``ReportJoinedCase``, then either one
``CaseDismissed`` (a dismissal needs one moderator), or ``ExclusionConfirmed``
votes until the quorum of different moderators is reached ("four eyes"), when
``CaseConfirmed``, ``MemberExcluded`` and ``ProfileFlagged`` are appended
together. Nothing follows a decision: there is no reinstatement (R2).
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from contracts import charter
from contracts.events.base import EventData
from contracts.fields import Boolean, Ciphertext, Fingerprint, Id, Integer, Timestamp, choice
from contracts.registry import event, upcaster

CONTEXT = "moderation"

DISMISSAL_REASONS = ("insufficient_evidence", "not_commercial", "duplicate")

#: R1 says what a confirmed case is about: "no financial transaction, no commercial
#: relationship, the platform sells nothing and brokers no sales". A moderator who
#: votes to exclude names which (codes, never free text: counted per reason).
CONFIRMATION_REASONS = (
    "payment_requested",     # money, a fee or a gift asked for the mentoring itself
    "services_offered",      # paid services offered: coaching, consulting, training
    "products_offered",      # goods offered for sale
    "business_recruitment",  # recruiting into a business, network marketing, an investment
    "sale_brokered",         # a sale with a third party arranged (referral, commission)
)

#: "Four eyes": an exclusion is irreversible (R2), so it takes at least two
#: different moderators; the service may configure more, never fewer.
MIN_QUORUM = 2


@event(CONTEXT, "CaseOpened", version=1)
class CaseOpenedV1(EventData):
    """A first report against a member opens her case."""

    case_id = Id(required=True)
    reported_member_id = Id(required=True)
    report_id = Id(required=True)
    opened_at = Timestamp(required=True)


@event(CONTEXT, "CaseOpened", version=2)
class CaseOpenedV2(EventData):
    """A first report against a member opens her case (v2: who reported, and
    the case's number among the member's cases, from which its id is derived:
    ``uuid5(namespace, member id + sequence)``, so two concurrent first reports
    open the same stream and one of them joins instead).

    ``reporter_id`` and ``sequence`` are null only in cases opened as v1."""

    case_id = Id(required=True)
    reported_member_id = Id(required=True)
    report_id = Id(required=True)
    reporter_id = Id(required=True, allow_none=True)
    sequence = Integer(required=True, allow_none=True, validate=validate.Range(min=1))
    opened_at = Timestamp(required=True)

    @validates_schema
    def _not_oneself(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("reporter_id") and data.get("reporter_id") == data.get("reported_member_id"):
            raise ValidationError("A member cannot report herself.", field_name="reporter_id")


@upcaster("CaseOpened", from_version=1)
def case_opened_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 named neither the reporter nor the case's number: both stay unknown
    (null) rather than guessed."""
    return {**data, "reporter_id": None, "sequence": None}


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


@event(CONTEXT, "ExclusionConfirmed", version=2)
class ExclusionConfirmedV2(EventData):
    """One moderator's vote that the solicitation happened (R1), with the reason
    code of what she found; the rationale is sealed under the moderators' key
    (R8). A vote alone excludes no one: ``CaseConfirmed`` records the quorum.

    ``reason`` is null only for votes cast as v1, before reason codes."""

    case_id = Id(required=True)
    moderator_id = Id(required=True)
    reason = choice(CONFIRMATION_REASONS, required=True, allow_none=True)
    rationale = Ciphertext(required=True)
    confirmed_at = Timestamp(required=True)


@upcaster("ExclusionConfirmed", from_version=1)
def exclusion_confirmed_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """A v1 vote gave no reason code: null, not a guess."""
    return {**data, "reason": None}


@event(CONTEXT, "CaseConfirmed", version=1)
class CaseConfirmedV1(EventData):
    """R2: the quorum of different moderators concurred; the case is closed and
    ``MemberExcluded`` + ``ProfileFlagged`` follow in the same append.
    ``moderator_ids``: the concurring moderators in vote order; ``quorum``: the
    quorum in force when the last of them voted; ``reason``: the first vote's
    (each vote keeps its own in ``ExclusionConfirmed``)."""

    case_id = Id(required=True)
    member_id = Id(required=True)
    reason = choice(CONFIRMATION_REASONS, required=True)
    moderator_ids = fields.List(Id(), required=True, validate=validate.Length(min=MIN_QUORUM))
    quorum = Integer(required=True, validate=validate.Range(min=MIN_QUORUM))
    confirmed_at = Timestamp(required=True)

    @validates_schema
    def _four_eyes(self, data: dict[str, Any], **kwargs: Any) -> None:
        moderators = data.get("moderator_ids")
        quorum = data.get("quorum")
        if not isinstance(moderators, list):
            return
        if len(set(moderators)) != len(moderators):
            raise ValidationError("Each moderator counts once (four eyes).",
                                  field_name="moderator_ids")
        if isinstance(quorum, int) and len(moderators) < quorum:
            raise ValidationError(f"Fewer moderators than the quorum of {quorum}.",
                                  field_name="moderator_ids")


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
