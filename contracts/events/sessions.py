"""sessions: meeting plan, sessions, cadence, objectives, action items, notes,
feedback and reports of commercial solicitation. Topic ``sessions.events``;
subject (Kafka key) of every event: the pair id, so a pair's cadence (R7) is
computed from one ordered stream.

Every text here is sealed (R8) under the pair's key, except report details,
sealed under the moderators' key: they are for moderators only.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validate, validates_schema

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
