"""The sessions API: a pair's meeting plan, sessions, cadence, objectives, action
items, notes, feedback and reports; the partners' programme report.

Texts (notes, objectives, comments, action items, feedback, report details)
arrive in plaintext over TLS from the partner's back end, acting for one member
of the pair; the sessions service seals them before they become events (R8).

Values a charter rule bounds (R5's interval, R6's minutes and modality) are
typed here but checked by the domain, so that a refusal names its rule; the
documented ``minimum``/``maximum``/``enum`` say what the rule allows. R1: there
is no price, fee or payment field here, nor anywhere.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from contracts import charter
from contracts.api.base import Page, Request, Response, text
from contracts.events.sessions import (
    CANCELLATION_REASONS,
    MAX_NEXT_DATES,
    MAX_REPORTED_SESSIONS,
    OBJECTIVE_KINDS,
    PAIR_CLOSE_CAUSES,
    PLATFORM_CANCELLATION_REASONS,
)
from contracts.fields import Day, Id, Integer, Timestamp, choice

PAIR_STATUSES = ("open", "closed")
SESSION_STATES = ("scheduled", "held", "cancelled")

#: Longest text a member writes in one go (sealed, it stays within the sealed format).
MAX_TEXT = 10_000


#: ``x-rule``: a refusal of the field's type names the rule too (``servicekit.payloads``).
_R6_MINUTES = "R6: a session lasts 60 to 120 minutes, a whole number of them."
_R6_MODALITY = "R6: a session is remote or in person."


def _minutes(**kwargs: Any) -> Integer:
    """R6 (checked by the domain, naming the rule)."""
    return Integer(metadata={"minimum": charter.SESSION_MIN_MINUTES,
                             "maximum": charter.SESSION_MAX_MINUTES, "x-rule": "R6",
                             "description": "R6: a session lasts 60 to 120 minutes."},
                   error_messages={"invalid": _R6_MINUTES, "null": _R6_MINUTES}, **kwargs)


def _modality(**kwargs: Any) -> fields.String:
    """R6 (checked by the domain, naming the rule)."""
    return fields.String(validate=validate.Length(max=40, error=_R6_MODALITY),
                         metadata={"enum": list(charter.MODALITIES), "x-rule": "R6",
                                   "description": "R6: remote or in person."},
                         error_messages={"invalid": _R6_MODALITY, "null": _R6_MODALITY},
                         **kwargs)


# -- requests ------------------------------------------------------------------------------


class RecordMeetingPlan(Request):
    """R5: fixed at the first meeting, revisable (each plan is kept)."""

    interval_days = Integer(required=True, metadata={
        "minimum": 1, "maximum": charter.MAX_MEETING_INTERVAL_DAYS, "x-rule": "R5",
        "description": "R5: at least one meeting every 45 days."},
        error_messages={"invalid": "R5: a whole number of days, 45 at most."})
    preferred_modality = _modality(required=True)
    first_meeting_on = Day(required=True, metadata={
        "description": "The day of the pair's first meeting."})
    next_dates = fields.List(Day(), load_default=list,
                             validate=validate.Length(max=MAX_NEXT_DATES),
                             metadata={"description": "The dates agreed from today on, in "
                                       "order, no further apart than the interval (R5)."})


class ScheduleSession(Request):
    starts_at = Timestamp(required=True)
    planned_minutes = _minutes(required=True)
    modality = _modality(required=True)


class RecordSessionHeld(Request):
    """R6: when it started, how long it lasted, remote or in person."""

    started_at = Timestamp(required=True)
    duration_minutes = _minutes(required=True)
    modality = _modality(required=True)


class CancelSession(Request):
    reason = choice(CANCELLATION_REASONS, required=True)


class StateObjective(Request):
    """R4: the mentee's own words."""

    kind = choice(OBJECTIVE_KINDS, required=True)
    text = text(MAX_TEXT, required=True)


class ReviseObjective(Request):
    text = text(MAX_TEXT, required=True)


class CommentObjective(Request):
    text = text(MAX_TEXT, required=True)


class AddActionItem(Request):
    """R10: an item of the objective, owned by the mentee."""

    text = text(MAX_TEXT, required=True)
    due_on = Day(load_default=None, allow_none=True)


class ChangeActionItemState(Request):
    state = choice(charter.ACTION_ITEM_STATES, required=True)


class AddNote(Request):
    """R8: readable by the pair only."""

    text = text(MAX_TEXT, required=True)
    session_id = Id(load_default=None, allow_none=True, metadata={
        "description": "The session the note is about, if any."})


class GiveFeedback(Request):
    """R11: for the other member, after a held session."""

    text = text(MAX_TEXT, required=True)


class ReportSolicitation(Request):
    """R1/R2: the other member solicited commercially. ``details`` is sealed for
    moderators at once: neither the pair nor its organisation reads it back (R8)."""

    details = text(MAX_TEXT, required=True)
    session_ids = fields.List(Id(), load_default=list,
                              validate=validate.Length(max=MAX_REPORTED_SESSIONS))


class TextPage(Page):
    """A page of a pair's notes or feedback, oldest first (``total`` says how many)."""


class PairQuery(Page):
    status = choice(PAIR_STATUSES)
    overdue = fields.Boolean()


# -- responses -----------------------------------------------------------------------------


class Recorded(Response):
    """A command done: the id of what it recorded, and the pair's new version."""

    id = fields.String(required=True)
    pair_id = fields.String(required=True)
    version = fields.Integer(required=True)


class MeetingPlan(Response):
    revision = fields.Integer(required=True)
    interval_days = fields.Integer(required=True)
    preferred_modality = fields.String(required=True)
    first_meeting_on = fields.String(required=True)
    next_dates = fields.List(fields.String(), required=True)
    recorded_by = fields.String(required=True)
    recorded_at = fields.String(required=True)


class Session(Response):
    session_id = fields.String(required=True)
    state = fields.String(required=True, metadata={"enum": list(SESSION_STATES)})
    modality = fields.String(required=True)
    starts_at = fields.String(required=True, allow_none=True)
    planned_minutes = fields.Integer(required=True, allow_none=True)
    scheduled_by = fields.String(required=True, allow_none=True)
    started_at = fields.String(required=True, allow_none=True)
    duration_minutes = fields.Integer(required=True, allow_none=True)
    held_by = fields.String(required=True, allow_none=True)
    confirmed_by = fields.String(required=True, allow_none=True)
    confirmed_at = fields.String(required=True, allow_none=True)
    cancelled_by = fields.String(required=True, allow_none=True, metadata={
        "description": "Null when the platform cancelled (the pair was closed)."})
    cancel_reason = fields.String(required=True, allow_none=True, metadata={
        "enum": [*CANCELLATION_REASONS, *PLATFORM_CANCELLATION_REASONS, None]})


class Cadence(Response):
    """R7: whether the pair meets within its interval."""

    interval_days = fields.Integer(required=True)
    last_session_at = fields.String(required=True, allow_none=True)
    due_on = fields.String(required=True, metadata={
        "description": "The pair meets by this day (UTC)."})
    overdue = fields.Boolean(required=True)
    overdue_since = fields.String(required=True, allow_none=True)


class PairCounts(Response):
    """Counts anyone who sees the pair may see (R8: never text)."""

    sessions_scheduled = fields.Integer(required=True)
    sessions_held = fields.Integer(required=True)
    sessions_confirmed = fields.Integer(required=True)
    sessions_cancelled = fields.Integer(required=True)
    objectives = fields.Integer(required=True)
    objectives_achieved = fields.Integer(required=True)
    action_items_open = fields.Integer(required=True)
    action_items_done = fields.Integer(required=True)
    action_items_dropped = fields.Integer(required=True)
    notes = fields.Integer(required=True)
    feedback = fields.Integer(required=True)
    reports = fields.Integer(required=True)


class PairSummary(Response):
    pair_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(PAIR_STATUSES)})
    mentor_id = fields.String(required=True)
    mentee_id = fields.String(required=True)
    mentor_organisation_id = fields.String(required=True)
    mentee_organisation_id = fields.String(required=True)
    formed_at = fields.String(required=True)
    closed_at = fields.String(required=True, allow_none=True)
    close_cause = fields.String(required=True, allow_none=True,
                                metadata={"enum": [*PAIR_CLOSE_CAUSES, None]})
    cadence = fields.Nested(Cadence, required=True)
    version = fields.Integer(required=True)


class PairList(Response):
    items = fields.List(fields.Nested(PairSummary), required=True)
    total = fields.Integer(required=True)


class Pair(PairSummary):
    """The pair's state: for its members and, without any text, its organisations."""

    plan = fields.Nested(MeetingPlan, required=True, allow_none=True)
    plan_history = fields.List(fields.Nested(MeetingPlan), required=True)
    sessions = fields.List(fields.Nested(Session), required=True)
    counts = fields.Nested(PairCounts, required=True)


class Note(Response):
    note_id = fields.String(required=True)
    session_id = fields.String(required=True, allow_none=True)
    author_id = fields.String(required=True)
    text = fields.String(required=True, allow_none=True)
    added_at = fields.String(required=True)


class NoteList(Response):
    items = fields.List(fields.Nested(Note), required=True)


class NotePage(NoteList):
    total = fields.Integer(required=True)


class Feedback(Response):
    feedback_id = fields.String(required=True)
    session_id = fields.String(required=True)
    from_member_id = fields.String(required=True)
    to_member_id = fields.String(required=True)
    text = fields.String(required=True, allow_none=True)
    given_at = fields.String(required=True)


class FeedbackList(Response):
    items = fields.List(fields.Nested(Feedback), required=True)


class FeedbackPage(FeedbackList):
    total = fields.Integer(required=True)


class ObjectiveRevision(Response):
    revision = fields.Integer(required=True)
    text = fields.String(required=True, allow_none=True)
    written_at = fields.String(required=True)


class ObjectiveComment(Response):
    comment_id = fields.String(required=True)
    author_id = fields.String(required=True)
    text = fields.String(required=True, allow_none=True)
    commented_at = fields.String(required=True)


class ActionItem(Response):
    action_item_id = fields.String(required=True)
    owner_id = fields.String(required=True)
    added_by = fields.String(required=True)
    text = fields.String(required=True, allow_none=True)
    state = fields.String(required=True, metadata={"enum": list(charter.ACTION_ITEM_STATES)})
    due_on = fields.String(required=True, allow_none=True)
    added_at = fields.String(required=True)


class Objective(Response):
    """R4: the mentee's words, every revision kept; comments beside them; R10 items."""

    objective_id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": list(OBJECTIVE_KINDS)})
    revision = fields.Integer(required=True)
    text = fields.String(required=True, allow_none=True)
    achieved = fields.Boolean(required=True)
    stated_at = fields.String(required=True)
    achieved_at = fields.String(required=True, allow_none=True)
    revisions = fields.List(fields.Nested(ObjectiveRevision), required=True)
    comments = fields.List(fields.Nested(ObjectiveComment), required=True)
    action_items = fields.List(fields.Nested(ActionItem), required=True)


class ObjectiveList(Response):
    items = fields.List(fields.Nested(Objective), required=True)


class Figure(fields.Raw):
    """A published figure, or the statement that it is withheld (fewer than 3 pairs)."""

    def json_schema(self) -> dict[str, Any]:
        return {"oneOf": [
            {"type": ["number", "null"]},
            {"type": "object", "required": ["suppressed", "reason"],
             "properties": {"suppressed": {"const": True}, "reason": {"type": "string"}}},
        ]}


class ProgrammeReport(Response):
    """Aggregates only; no figure describes fewer than ``k_anonymity`` pairs."""

    organisation_id = fields.String(required=True)
    k_anonymity = fields.Integer(required=True)
    active_pairs = Figure(required=True)
    overdue_pairs = Figure(required=True)
    sessions_held_per_month = fields.Dict(keys=fields.String(), values=Figure(), required=True,
                                          metadata={"description": "YYYY-MM (UTC) -> sessions"})
    average_interval_days = Figure(required=True)
    objectives_achieved = Figure(required=True)


class PairExport(Response):
    """One of her pairs: its state, and, for herself only, its texts (R8)."""

    pair = fields.Nested(Pair, required=True)
    objectives = fields.Nested(ObjectiveList, required=True, allow_none=True)
    notes = fields.Nested(NoteList, required=True, allow_none=True)
    feedback = fields.Nested(FeedbackList, required=True, allow_none=True)


class MemberExport(Response):
    """What sessions holds on a member: every pair she is in. The pair's texts come
    only when she asks herself (R8); her organisation gets the states."""

    pairs = fields.List(fields.Nested(PairExport), required=True)
