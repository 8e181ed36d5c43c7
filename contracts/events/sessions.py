"""sessions: meeting plan, sessions, cadence, objectives, action items, notes,
feedback and reports of commercial solicitation. Topic ``sessions.events``;
subject (Kafka key) of every event: the pair id, so a pair's cadence (R7) is
computed from one ordered stream.

Every text here is sealed (R8) under its author's key for the pair
(``pair-<pair>-by-<member>``, shredded with her erasure), except report details,
sealed under the moderators' key: they are for moderators only.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from contracts import charter
from contracts.events.base import EventData
from contracts.fields import (
    Ciphertext,
    Day,
    Id,
    Integer,
    Number,
    Timestamp,
    choice,
    modality,
    session_minutes,
)
from contracts.registry import event, upcaster

CONTEXT = "sessions"

CANCELLATION_REASONS = ("rescheduled", "unavailable", "other")

#: Why the platform, not a member, cancelled a session: its pair was closed
#: (``PairEnded`` from matching, or ``MemberExcluded`` from moderation, R2).
PLATFORM_CANCELLATION_REASONS = ("pair_ended", "member_excluded")

#: Why a pair's sessions record was closed (``PairClosed``).
PAIR_CLOSE_CAUSES = ("pair_ended", "member_excluded")

#: R4: what the mentee states at the first meeting (and may add to later).
OBJECTIVE_KINDS = ("need", "expectation", "objective")

#: R5: how many upcoming dates a meeting plan lists at most.
MAX_NEXT_DATES = 12

#: R1/R2: how many sessions a report may name at most.
MAX_REPORTED_SESSIONS = 50


def _no_repeats(values: list[Any] | None, field_name: str, what: str) -> None:
    """Lists of ids or dates that stand for a set: each value at most once."""
    if not values:
        return
    if len(set(values)) != len(values):
        raise ValidationError(f"The {what} must not repeat.", field_name=field_name)


def _interval_days(**kwargs: Any) -> Integer:
    """R5: at least one meeting every month to month and a half."""
    return Integer(
        validate=validate.Range(
            min=1,
            max=charter.MAX_MEETING_INTERVAL_DAYS,
            error="At least one meeting every {max} days: {min} to {max} (R5).",
        ),
        **kwargs,
    )


@event(CONTEXT, "PairOpened", version=1)
class PairOpenedV1(EventData):
    """The first event of every sessions stream (stream id = pair id): the pair
    as matching formed it (``PairFormed``), with each member's organisation, so
    the stream is self-contained and replayable without matching's events.
    ``formed_at`` is where cadence counts from until a first session (R7)."""

    pair_id = Id(required=True)
    mentor_id = Id(required=True)
    mentee_id = Id(required=True)
    mentor_organisation_id = Id(required=True)
    mentee_organisation_id = Id(required=True)
    formed_at = Timestamp(required=True)

    @validates_schema
    def _two_people(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("mentor_id") is not None and data.get("mentor_id") == data.get("mentee_id"):
            raise ValidationError("The mentee cannot be her own mentor.", field_name="mentee_id")


@event(CONTEXT, "PairClosed", version=1)
class PairClosedV1(EventData):
    """The pair takes no more commands: matching ended it (``cause`` pair_ended,
    with matching's ``end_reason`` and ``ended_by``) or moderation excluded one
    of its members (``cause`` member_excluded, R2, with ``excluded_member_id``).
    Its sessions still to come are cancelled in the same command."""

    pair_id = Id(required=True)
    cause = choice(PAIR_CLOSE_CAUSES, required=True)
    end_reason = choice(charter.PAIR_END_REASONS, required=True, allow_none=True)
    ended_by = Id(required=True, allow_none=True)
    excluded_member_id = Id(required=True, allow_none=True)
    closed_at = Timestamp(required=True)

    @validates_schema
    def _one_cause(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("cause") == "pair_ended":
            if data.get("end_reason") is None:
                raise ValidationError("Required when the pair ended.", field_name="end_reason")
            if data.get("excluded_member_id") is not None:
                raise ValidationError("Only when a member was excluded.",
                                      field_name="excluded_member_id")
            by_platform = data.get("end_reason") == "counterpart_excluded"
            if by_platform != (data.get("ended_by") is None):
                raise ValidationError(
                    "Null exactly when the counterpart was excluded.", field_name="ended_by"
                )
        if data.get("cause") == "member_excluded":
            if data.get("excluded_member_id") is None:
                raise ValidationError("Required when a member was excluded.",
                                      field_name="excluded_member_id")
            for name in ("end_reason", "ended_by"):
                if data.get(name) is not None:
                    raise ValidationError("Only when the pair ended.", field_name=name)


@event(CONTEXT, "MeetingPlanRecorded", version=1)
class MeetingPlanRecordedV1(EventData):
    """R5: calendar and frequency, fixed at the first meeting (and revisable by
    recording a new plan). R9: either member records it."""

    pair_id = Id(required=True)
    interval_days = _interval_days(required=True)
    preferred_modality = modality(required=True)
    first_meeting_on = Day(required=True)
    recorded_by = Id(required=True)
    recorded_at = Timestamp(required=True)


@event(CONTEXT, "MeetingPlanRecorded", version=2)
class MeetingPlanRecordedV2(EventData):
    """R5: calendar and frequency, fixed at the first meeting: the interval (at
    most 45 days), the preferred modality and the next dates. Revised by
    recording it again: each plan is an event, the history stays. R9: either
    member records it."""

    pair_id = Id(required=True)
    interval_days = _interval_days(required=True)
    preferred_modality = modality(required=True)
    first_meeting_on = Day(required=True)
    next_dates = fields.List(Day(), required=True,
                             validate=validate.Length(max=MAX_NEXT_DATES))
    recorded_by = Id(required=True)
    recorded_at = Timestamp(required=True)

    @validates_schema
    def _in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        dates = data.get("next_dates") or []
        _no_repeats(dates, "next_dates", "next dates")
        if dates != sorted(dates):
            raise ValidationError("The next dates are listed in order.", field_name="next_dates")


@upcaster("MeetingPlanRecorded", from_version=1)
def meeting_plan_recorded_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 listed no next dates: the plan had only its first meeting."""
    return {**data, "next_dates": []}


@event(CONTEXT, "SessionScheduled", version=1)
class SessionScheduledV1(EventData):
    pair_id = Id(required=True)
    session_id = Id(required=True)
    starts_at = Timestamp(required=True)
    planned_minutes = session_minutes(required=True)  # R6
    modality = modality(required=True)  # R6
    scheduled_by = Id(required=True)  # R9: either member


@event(CONTEXT, "SessionHeld", version=1)
class SessionHeldV1(EventData):
    """The first release: hours as a float and the front end's own mode words.
    Read only through its upcaster to v2; new code writes v2."""

    pair_id = Id(required=True)
    session_id = Id(required=True)
    started_at = Timestamp(required=True)
    duration_hours = Number(required=True, validate=validate.Range(min=1, max=2))
    mode = choice(("online", "face_to_face"), required=True)
    recorded_by = Id(required=True)


@event(CONTEXT, "SessionHeld", version=2)
class SessionHeldV2(EventData):
    """R6: a session lasts 60 to 120 minutes, remote or in person.
    R9: either member records it (``held_by``); the other may confirm."""

    pair_id = Id(required=True)
    session_id = Id(required=True)
    started_at = Timestamp(required=True)
    duration_minutes = session_minutes(required=True)
    modality = modality(required=True)
    held_by = Id(required=True)


_V1_MODES = {"online": "remote", "face_to_face": "in_person"}


@upcaster("SessionHeld", from_version=1)
def session_held_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Hours to whole minutes, mode words to R6's modality, ``recorded_by`` to
    ``held_by``. v1 allowed 1.0..2.0 hours, so minutes stay within 60..120."""
    upcast = {k: v for k, v in data.items() if k not in ("duration_hours", "mode", "recorded_by")}
    upcast["duration_minutes"] = round(data["duration_hours"] * 60)
    upcast["modality"] = _V1_MODES[data["mode"]]
    upcast["held_by"] = data["recorded_by"]
    return upcast


@event(CONTEXT, "SessionConfirmed", version=1)
class SessionConfirmedV1(EventData):
    """R9: the other member confirms a session one of them recorded."""

    pair_id = Id(required=True)
    session_id = Id(required=True)
    confirmed_by = Id(required=True)
    confirmed_at = Timestamp(required=True)


@event(CONTEXT, "SessionCancelled", version=1)
class SessionCancelledV1(EventData):
    pair_id = Id(required=True)
    session_id = Id(required=True)
    cancelled_by = Id(required=True)
    reason = choice(CANCELLATION_REASONS, required=True)
    cancelled_at = Timestamp(required=True)


@event(CONTEXT, "SessionCancelled", version=2)
class SessionCancelledV2(EventData):
    """A session that will not take place. A member cancels it (``cancelled_by``,
    a member's reason), or the platform does when the pair is closed
    (``cancelled_by`` null, reason ``pair_ended`` or ``member_excluded``)."""

    pair_id = Id(required=True)
    session_id = Id(required=True)
    cancelled_by = Id(required=True, allow_none=True)
    reason = choice(CANCELLATION_REASONS + PLATFORM_CANCELLATION_REASONS, required=True)
    cancelled_at = Timestamp(required=True)

    @validates_schema
    def _who_cancelled(self, data: dict[str, Any], **kwargs: Any) -> None:
        by_platform = data.get("reason") in PLATFORM_CANCELLATION_REASONS
        if by_platform and data.get("cancelled_by") is not None:
            raise ValidationError("Must be null when the platform cancelled the session.",
                                  field_name="cancelled_by")
        if not by_platform and data.get("cancelled_by") is None:
            raise ValidationError("The member who cancelled is required.",
                                  field_name="cancelled_by")


@upcaster("SessionCancelled", from_version=1)
def session_cancelled_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 was always a member's cancellation, with a member's reason: unchanged."""
    return dict(data)


@event(CONTEXT, "PairBecameOverdue", version=1)
class PairBecameOverdueV1(EventData):
    """R7: no session within the agreed interval (45 days at most).
    ``last_session_at`` is null when no session was ever held (counted from
    the pair's formation)."""

    pair_id = Id(required=True)
    interval_days = _interval_days(required=True)
    last_session_at = Timestamp(required=True, allow_none=True)
    due_on = Day(required=True)
    detected_at = Timestamp(required=True)


@event(CONTEXT, "PairCadenceRestored", version=1)
class PairCadenceRestoredV1(EventData):
    """R7: an overdue pair held a session again."""

    pair_id = Id(required=True)
    session_id = Id(required=True)
    overdue_days = Integer(required=True, validate=validate.Range(min=1))
    restored_at = Timestamp(required=True)


@event(CONTEXT, "ObjectiveStated", version=1)
class ObjectiveStatedV1(EventData):
    """R4: the mentee states her own objective; she owns it."""

    pair_id = Id(required=True)
    objective_id = Id(required=True)
    mentee_id = Id(required=True)
    text = Ciphertext(required=True)
    stated_at = Timestamp(required=True)


@event(CONTEXT, "ObjectiveStated", version=2)
class ObjectiveStatedV2(EventData):
    """R4: the mentee states her own needs, expectations and objectives (``kind``);
    she owns them. The first statement is revision 1."""

    pair_id = Id(required=True)
    objective_id = Id(required=True)
    mentee_id = Id(required=True)
    kind = choice(OBJECTIVE_KINDS, required=True)
    text = Ciphertext(required=True)
    stated_at = Timestamp(required=True)


@upcaster("ObjectiveStated", from_version=1)
def objective_stated_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 knew objectives only."""
    return {**data, "kind": "objective"}


@event(CONTEXT, "ObjectiveRevised", version=1)
class ObjectiveRevisedV1(EventData):
    """R4: objectives evolve; each revision is a new event (history, not
    overwrite). Only the mentee revises; ``revision`` counts from 2."""

    pair_id = Id(required=True)
    objective_id = Id(required=True)
    mentee_id = Id(required=True)
    revision = Integer(required=True, validate=validate.Range(min=2))
    text = Ciphertext(required=True)
    revised_at = Timestamp(required=True)


@event(CONTEXT, "ObjectiveCommented", version=1)
class ObjectiveCommentedV1(EventData):
    """R4: the mentor may comment on an objective, not rewrite it."""

    pair_id = Id(required=True)
    objective_id = Id(required=True)
    comment_id = Id(required=True)
    author_id = Id(required=True)
    text = Ciphertext(required=True)
    commented_at = Timestamp(required=True)


@event(CONTEXT, "ObjectiveAchieved", version=1)
class ObjectiveAchievedV1(EventData):
    """R4: the mentee says she reached one of her objectives (counted, without
    its text, in the programme report)."""

    pair_id = Id(required=True)
    objective_id = Id(required=True)
    mentee_id = Id(required=True)
    achieved_at = Timestamp(required=True)


@event(CONTEXT, "ActionItemAdded", version=1)
class ActionItemAddedV1(EventData):
    """R10: an action item of an objective, owned by the mentee (either member
    may write it down: the mentor helps set up the plan)."""

    pair_id = Id(required=True)
    objective_id = Id(required=True)
    action_item_id = Id(required=True)
    owner_id = Id(required=True)
    added_by = Id(required=True)
    text = Ciphertext(required=True)
    due_on = Day(load_default=None, allow_none=True)
    added_at = Timestamp(required=True)


@event(CONTEXT, "ActionItemStateChanged", version=1)
class ActionItemStateChangedV1(EventData):
    """R10: open, done or dropped."""

    pair_id = Id(required=True)
    objective_id = Id(required=True)
    action_item_id = Id(required=True)
    previous_state = choice(charter.ACTION_ITEM_STATES, required=True)
    state = choice(charter.ACTION_ITEM_STATES, required=True)
    changed_by = Id(required=True)
    changed_at = Timestamp(required=True)

    @validates_schema
    def _a_change(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("state") is not None and data.get("state") == data.get("previous_state"):
            raise ValidationError("Must differ from previous_state.", field_name="state")


@event(CONTEXT, "NoteAdded", version=1)
class NoteAddedV1(EventData):
    """R8: a note of the pair, readable by the pair only."""

    pair_id = Id(required=True)
    note_id = Id(required=True)
    session_id = Id(load_default=None, allow_none=True)
    author_id = Id(required=True)
    text = Ciphertext(required=True)
    added_at = Timestamp(required=True)


@event(CONTEXT, "FeedbackGiven", version=1)
class FeedbackGivenV1(EventData):
    """R11: after a session, one member's feedback for the other, pair only."""

    pair_id = Id(required=True)
    session_id = Id(required=True)
    feedback_id = Id(required=True)
    from_member_id = Id(required=True)
    to_member_id = Id(required=True)
    text = Ciphertext(required=True)
    given_at = Timestamp(required=True)

    @validates_schema
    def _for_the_other(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("from_member_id") and data.get("from_member_id") == data.get("to_member_id"):
            raise ValidationError("Feedback is for the other member.", field_name="to_member_id")


@event(CONTEXT, "CommercialSolicitationReported", version=1)
class CommercialSolicitationReportedV1(EventData):
    """R1/R2: a member reports the other for commercial solicitation (R9:
    either may). ``details`` is sealed under the moderators' key: the pair's
    organisation and ops see that a report exists, never what it says (R8)."""

    pair_id = Id(required=True)
    report_id = Id(required=True)
    reporter_id = Id(required=True)
    reported_member_id = Id(required=True)
    session_id = Id(load_default=None, allow_none=True)
    details = Ciphertext(required=True)
    reported_at = Timestamp(required=True)

    @validates_schema
    def _not_oneself(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("reporter_id") and data.get("reporter_id") == data.get("reported_member_id"):
            raise ValidationError(
                "A member cannot report herself.", field_name="reported_member_id"
            )


@event(CONTEXT, "CommercialSolicitationReported", version=2)
class CommercialSolicitationReportedV2(EventData):
    """R1/R2: a member reports the other for commercial solicitation (R9: either
    may), naming the sessions concerned (none, when it happened elsewhere).
    ``details`` is sealed under the moderators' key: the pair's organisation and
    ops see that a report exists, never what it says (R8)."""

    pair_id = Id(required=True)
    report_id = Id(required=True)
    reporter_id = Id(required=True)
    reported_member_id = Id(required=True)
    session_ids = fields.List(Id(), required=True,
                              validate=validate.Length(max=MAX_REPORTED_SESSIONS))
    details = Ciphertext(required=True)
    reported_at = Timestamp(required=True)

    @validates_schema
    def _not_oneself(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("reporter_id") and data.get("reporter_id") == data.get("reported_member_id"):
            raise ValidationError(
                "A member cannot report herself.", field_name="reported_member_id"
            )
        _no_repeats(data.get("session_ids"), "session_ids", "sessions")


@upcaster("CommercialSolicitationReported", from_version=1)
def commercial_solicitation_reported_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1's one optional session becomes a list of none or one."""
    upcast = {k: v for k, v in data.items() if k != "session_id"}
    session_id = data.get("session_id")
    upcast["session_ids"] = [] if session_id is None else [session_id]
    return upcast
