"""matching: proposals, and the life of a mentor-mentee pair. Topic
``matching.events``; subject (Kafka key) of every event: the pair id, given
at proposal time so a proposal and the pair it becomes are one stream."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from contracts import charter
from contracts.events.base import EventData
from contracts.events.identity import (
    LANGUAGE_PATTERN,
    MATCHING_SCOPES,
    MAX_MENTOR_CAPACITY,
    PREFERRED_MODALITIES,
    REGION_PATTERN,
)
from contracts.fields import Id, Integer, Number, Timestamp, choice, slug
from contracts.registry import event, upcaster

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


# -- v2: explainable, reproducible proposals ------------------------------------------------

#: How a proposal came about: a mentee picked one of her suggestions, or a cohort
#: assignment (an organisation's whole intake) proposed it.
PROPOSAL_SOURCES = ("request", "cohort")

#: The criteria a score is made of, in the order they are summed (matching's
#: algorithm version 1). A weight and a component per criterion.
CRITERIA = ("topics", "languages", "modality", "region", "capacity", "organisation")

#: Why a pending proposal was taken back: by the member who had accepted it
#: (``withdrawn``, R9), or by the platform because the other member was excluded (R2).
WITHDRAWAL_REASONS = ("withdrawn", "counterpart_excluded")

#: Sums of recorded floats agree with the recorded total to this much.
_SUM_TOLERANCE = 1e-9


class _Object(fields.Nested):
    """A nested object that, when wrong, is also named itself (``inputs``, not only
    ``inputs.mentor.load``), so a consumer sees which top-level field broke."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError as error:
            if isinstance(error.messages, dict) and "_schema" not in error.messages:
                raise ValidationError(
                    {"_schema": ["Invalid object: see its fields."], **error.messages}
                ) from error
            raise


def _share(**kwargs: Any) -> Number:
    return Number(required=True, validate=validate.Range(min=0, max=1), **kwargs)


class _Weights(EventData):
    """The weight of each criterion (the configuration in force); they sum to 1."""

    topics = _share()
    languages = _share()
    modality = _share()
    region = _share()
    capacity = _share()
    organisation = _share()


class _Components(EventData):
    """The part each criterion played: its weight times its value in [0, 1]; the
    components sum to the score."""

    topics = _share()
    languages = _share()
    modality = _share()
    region = _share()
    capacity = _share()
    organisation = _share()


class _MenteeInputs(EventData):
    """The mentee's side of the score: vocabularies only (R8)."""

    organisation_id = Id(required=True)
    matching_scope = choice(MATCHING_SCOPES, required=True)
    topics = fields.List(slug(), required=True, validate=validate.Length(max=20))
    languages = fields.List(
        fields.String(validate=validate.Regexp(LANGUAGE_PATTERN)),
        required=True, validate=validate.Length(min=1, max=10),
    )
    preferred_modality = choice(PREFERRED_MODALITIES, required=True)
    region = fields.String(required=True, allow_none=True,
                           validate=validate.Regexp(REGION_PATTERN))


class _MentorInputs(_MenteeInputs):
    """The mentor's side, with her capacity and the mentees she had (active or
    pending) when scored."""

    capacity = Integer(required=True, validate=validate.Range(min=1, max=MAX_MENTOR_CAPACITY))
    load = Integer(required=True, validate=validate.Range(min=0, max=MAX_MENTOR_CAPACITY))

    @validates_schema
    def _room(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["load"] >= data["capacity"]:
            raise ValidationError("A mentor is proposed only with a free place (load < "
                                  "capacity).", field_name="load")


class _Inputs(EventData):
    """What the score was computed from, so that it can be re-derived and audited."""

    mentee = _Object(_MenteeInputs, required=True)
    mentor = _Object(_MentorInputs, required=True)


#: The explainability fields of MatchProposed v2: all present, or all null (v1).
_EXPLANATION = ("source", "algorithm_version", "weights", "components", "inputs")


@event(CONTEXT, "MatchProposed", version=2)
class MatchProposedV2(_TwoMembers):
    """Matching proposes a mentor to a mentee, and says why (R3: both had accepted the
    current charter). ``source``: ``request`` (the mentee picked a suggestion:
    ``requested_by`` is her id, she accepts in the same append) or ``cohort`` (an
    intake's assignment: ``cohort_id``; both must accept). ``score`` is the sum of
    ``components`` (weight x value of each criterion) computed by matching's
    ``algorithm_version`` from ``inputs`` and ``weights``: re-deriving it from this
    event alone must give the same score.

    ``source``, ``requested_by``, ``cohort_id``, ``algorithm_version``, ``weights``,
    ``components`` and ``inputs`` are null only in proposals made as v1."""

    pair_id = Id(required=True)
    mentor_id = Id(required=True)
    mentee_id = Id(required=True)
    source = choice(PROPOSAL_SOURCES, required=True, allow_none=True)
    requested_by = Id(required=True, allow_none=True)
    cohort_id = Id(required=True, allow_none=True)
    score = Number(required=True, validate=validate.Range(min=0, max=1))
    algorithm_version = Integer(required=True, allow_none=True, validate=validate.Range(min=1))
    weights = _Object(_Weights, required=True, allow_none=True)
    components = _Object(_Components, required=True, allow_none=True)
    inputs = _Object(_Inputs, required=True, allow_none=True)
    proposed_at = Timestamp(required=True)
    expires_at = Timestamp(required=True)

    @validates_schema
    def _explained(self, data: dict[str, Any], **kwargs: Any) -> None:
        missing = [name for name in _EXPLANATION if data[name] is None]
        if missing and len(missing) < len(_EXPLANATION):
            raise ValidationError(
                f"Null only all together (a v1 proposal): {', '.join(_EXPLANATION)}.",
                field_name=missing[0],
            )
        source = data["source"]
        if source == "request" and data["requested_by"] != data["mentee_id"]:
            raise ValidationError("A request is the mentee's own.", field_name="requested_by")
        if source != "request" and data["requested_by"] is not None:
            raise ValidationError("Only a request has a requester.", field_name="requested_by")
        if (source == "cohort") != (data["cohort_id"] is not None):
            raise ValidationError("A cohort proposal, and only one, names its cohort.",
                                  field_name="cohort_id")
        if data["expires_at"] <= data["proposed_at"]:
            raise ValidationError("Expires after it is proposed.", field_name="expires_at")
        if missing:
            return
        weights, components = data["weights"], data["components"]
        if abs(sum(weights[c] for c in CRITERIA) - 1) > _SUM_TOLERANCE:
            raise ValidationError("The weights sum to 1.", field_name="weights")
        over = [c for c in CRITERIA if components[c] > weights[c] + _SUM_TOLERANCE]
        if over:
            raise ValidationError(f"A component is at most its weight: {', '.join(over)}.",
                                  field_name="components")
        if abs(sum(components[c] for c in CRITERIA) - data["score"]) > _SUM_TOLERANCE:
            raise ValidationError("The components sum to the score.", field_name="score")


@event(CONTEXT, "PairFormed", version=2)
class PairFormedV2(_TwoMembers):
    """Both accepted: the pair exists and may record sessions. It names both members'
    organisations (the two may differ when both opened their matching), so that a
    consumer needs no directory of members to know whose pair it is.

    ``mentor_organisation_id`` and ``mentee_organisation_id`` are null only in pairs
    formed as v1 (read through the upcaster)."""

    pair_id = Id(required=True)
    mentor_id = Id(required=True)
    mentee_id = Id(required=True)
    mentor_organisation_id = Id(required=True, allow_none=True)
    mentee_organisation_id = Id(required=True, allow_none=True)
    formed_at = Timestamp(required=True)


@upcaster("PairFormed", from_version=1)
def pair_formed_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """A v1 pair did not name the organisations: unknown (null), not guessed."""
    return {**data, "mentor_organisation_id": None, "mentee_organisation_id": None}


@upcaster("MatchProposed", from_version=1)
def match_proposed_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """A v1 proposal recorded its score only: how it came about and what it was
    computed from stay unknown (null), not guessed; it cannot be re-derived."""
    return {**data, **dict.fromkeys(
        ("source", "requested_by", "cohort_id", *_EXPLANATION[1:]), None)}


@event(CONTEXT, "ProposalWithdrawn", version=1)
class ProposalWithdrawnV1(EventData):
    """A pending proposal is taken back before the pair formed: by the member who had
    accepted it (R9, ``withdrawn_by`` her id), or by the platform because the other
    member was excluded (R2, ``counterpart_excluded``, ``withdrawn_by`` null). The
    remaining member is back in the pool."""

    pair_id = Id(required=True)
    reason = choice(WITHDRAWAL_REASONS, required=True)
    withdrawn_by = Id(required=True, allow_none=True)
    withdrawn_at = Timestamp(required=True)

    @validates_schema
    def _who_withdrew_it(self, data: dict[str, Any], **kwargs: Any) -> None:
        by_platform = data["reason"] == "counterpart_excluded"
        if by_platform and data["withdrawn_by"] is not None:
            raise ValidationError("Must be null when the counterpart was excluded.",
                                  field_name="withdrawn_by")
        if not by_platform and data["withdrawn_by"] is None:
            raise ValidationError("The member who withdrew is required.",
                                  field_name="withdrawn_by")
