"""matching: proposals, and the life of a mentor-mentee pair. Topic
``matching.events``; subject (Kafka key) of every event: the pair id, given
at proposal time so a proposal and the pair it becomes are one stream."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validate, validates_schema

from contracts import charter
from contracts.events.base import EventData
from contracts.fields import Id, Number, Timestamp, choice
from contracts.registry import event

CONTEXT = "matching"


class _TwoMembers(EventData):
    """A pair is two different people."""

    @validates_schema
    def _distinct(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("mentor_id") is not None and data.get("mentor_id") == data.get("mentee_id"):
            raise ValidationError("The mentee cannot be her own mentor.", field_name="mentee_id")

DECLINE_REASONS = ("unavailable", "not_a_fit", "other")


@event(CONTEXT, "MatchProposed", version=1)
class MatchProposedV1(_TwoMembers):
    """Matching proposes a mentor to a mentee; both must accept before it expires.
    Both must have accepted the current charter (R3) to be proposed."""

    pair_id = Id(required=True)
    mentor_id = Id(required=True)
    mentee_id = Id(required=True)
    score = Number(required=True, validate=validate.Range(min=0, max=1))
    proposed_at = Timestamp(required=True)
    expires_at = Timestamp(required=True)


@event(CONTEXT, "MatchAccepted", version=1)
class MatchAcceptedV1(EventData):
    pair_id = Id(required=True)
    member_id = Id(required=True)
    accepted_at = Timestamp(required=True)


@event(CONTEXT, "MatchDeclined", version=1)
class MatchDeclinedV1(EventData):
    """A reason code, not a free text (R8)."""

    pair_id = Id(required=True)
    member_id = Id(required=True)
    reason = choice(DECLINE_REASONS, required=True)
    declined_at = Timestamp(required=True)


@event(CONTEXT, "MatchExpired", version=1)
class MatchExpiredV1(EventData):
    pair_id = Id(required=True)
    expired_at = Timestamp(required=True)


@event(CONTEXT, "PairFormed", version=1)
class PairFormedV1(_TwoMembers):
    """Both accepted: the pair exists and may record sessions."""

    pair_id = Id(required=True)
    mentor_id = Id(required=True)
    mentee_id = Id(required=True)
    formed_at = Timestamp(required=True)


@event(CONTEXT, "PairEnded", version=1)
class PairEndedV1(EventData):
    """R9: either member may end the pair (``ended_by``); when the counterpart
    is excluded (R2) the platform ends it and ``ended_by`` is null."""

    pair_id = Id(required=True)
    reason = choice(charter.PAIR_END_REASONS, required=True)
    ended_by = Id(required=True, allow_none=True)
    ended_at = Timestamp(required=True)

    @validates_schema
    def _who_ended_it(self, data: dict[str, Any], **kwargs: Any) -> None:
        by_platform = data.get("reason") == "counterpart_excluded"
        if by_platform and data.get("ended_by") is not None:
            raise ValidationError(
                "Must be null when the counterpart was excluded.", field_name="ended_by"
            )
        if not by_platform and data.get("ended_by") is None:
            raise ValidationError(
                "The member who ended the pair is required.", field_name="ended_by"
            )
