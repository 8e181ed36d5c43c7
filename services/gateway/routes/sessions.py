"""Sessions' routes: a pair's meeting plan (R5), sessions (R6, R9), cadence (R7),
objectives and action items (R4, R10), notes and feedback (R8, R11), reports of
commercial solicitation (R1/R2); the partners' programme report.

``acting``: ``organisation`` routes answer the organisation (a pair's state and
counts, never its texts) or a member of the pair; ``member`` routes need one of
the pair's members acting as herself (R8). The sessions service decides the rest.
"""

from __future__ import annotations

from contracts.api import sessions as api
from services.servicekit.http import Route

TAG = "sessions"
PAIR = "/v1/pairs/{pair_id}"
SESSION = PAIR + "/sessions/{session_id}"
OBJECTIVE = PAIR + "/objectives/{objective_id}"

ROUTES = [
    # -- pairs: state and counts -------------------------------------------------------------
    Route("GET", "/v1/pairs", "list_pairs",
          "The caller's pairs: a member's own, or the organisation's (states only).",
          target="sessions.list_pairs", query=api.PairQuery, response=api.PairList, tag=TAG),
    Route("GET", PAIR, "get_pair",
          "A pair's state: members, meeting plan, sessions, cadence (R7), counts; no text.",
          target="sessions.get_pair", response=api.Pair, tag=TAG),
    Route("GET", "/v1/programme-report", "programme_report",
          "The organisation's programme figures, aggregates only (no group under 3 pairs).",
          target="sessions.programme_report", response=api.ProgrammeReport, tag=TAG),
    # -- R5: the meeting plan ----------------------------------------------------------------
    Route("PUT", PAIR + "/meeting-plan", "record_meeting_plan",
          "Record the meeting plan at the first meeting, or revise it (R5: every 45 days "
          "at most; each plan kept).",
          target="sessions.record_meeting_plan", acting="member", body=api.RecordMeetingPlan,
          response=api.Recorded, tag=TAG),
    # -- R6, R9: sessions --------------------------------------------------------------------
    Route("POST", PAIR + "/sessions", "schedule_session",
          "Schedule a session (R6: 60 to 120 minutes, remote or in person; R9: either member).",
          target="sessions.schedule_session", acting="member", body=api.ScheduleSession,
          response=api.Recorded, status=201, tag=TAG),
    Route("POST", PAIR + "/held-sessions", "record_held_session",
          "Record a session that took place without being scheduled here (R6).",
          target="sessions.record_held_session", acting="member", body=api.RecordSessionHeld,
          response=api.Recorded, status=201, tag=TAG),
    Route("POST", SESSION + "/held", "record_session_held",
          "Record a scheduled session as held (R6).",
          target="sessions.record_session_held", acting="member", body=api.RecordSessionHeld,
          response=api.Recorded, tag=TAG),
    Route("POST", SESSION + "/confirmation", "confirm_session",
          "Confirm a held session the other member recorded (R9).",
          target="sessions.confirm_session", acting="member", response=api.Recorded, tag=TAG),
    Route("POST", SESSION + "/cancellation", "cancel_session",
          "Cancel a scheduled session (R9: either member).",
          target="sessions.cancel_session", acting="member", body=api.CancelSession,
          response=api.Recorded, tag=TAG),
    # -- R4, R10: objectives and action items ------------------------------------------------
    Route("POST", PAIR + "/objectives", "state_objective",
          "The mentee states a need, an expectation or an objective (R4).",
          target="sessions.state_objective", acting="member", body=api.StateObjective,
          response=api.Recorded, status=201, tag=TAG),
    Route("GET", PAIR + "/objectives", "list_objectives",
          "The mentee's objectives with every revision, comments and action items (pair only).",
          target="sessions.list_objectives", acting="member", response=api.ObjectiveList,
          tag=TAG),
    Route("POST", OBJECTIVE + "/revisions", "revise_objective",
          "The mentee revises her objective; the earlier wording stays (R4).",
          target="sessions.revise_objective", acting="member", body=api.ReviseObjective,
          response=api.Recorded, status=201, tag=TAG),
    Route("POST", OBJECTIVE + "/achievement", "achieve_objective",
          "The mentee says she reached her objective (R4).",
          target="sessions.achieve_objective", acting="member", response=api.Recorded,
          tag=TAG),
    Route("POST", OBJECTIVE + "/comments", "comment_objective",
          "Comment on an objective (R4: the mentor comments, never rewrites).",
          target="sessions.comment_objective", acting="member", body=api.CommentObjective,
          response=api.Recorded, status=201, tag=TAG),
    Route("POST", OBJECTIVE + "/action-items", "add_action_item",
          "Add an action item to an objective, owned by the mentee (R10).",
          target="sessions.add_action_item", acting="member", body=api.AddActionItem,
          response=api.Recorded, status=201, tag=TAG),
    Route("PUT", PAIR + "/action-items/{action_item_id}/state", "change_action_item_state",
          "The mentee moves her action item: open, done, dropped (R10).",
          target="sessions.change_action_item_state", acting="member",
          body=api.ChangeActionItemState, response=api.Recorded, tag=TAG),
    # -- R8, R11: notes and feedback ----------------------------------------------------------
    Route("POST", PAIR + "/notes", "add_note",
          "Add a note, readable by the pair only (R8).",
          target="sessions.add_note", acting="member", body=api.AddNote,
          response=api.Recorded, status=201, tag=TAG),
    Route("GET", PAIR + "/notes", "list_notes",
          "The pair's notes, oldest first, a page at a time (R8: its two members only).",
          target="sessions.list_notes", acting="member", query=api.TextPage,
          response=api.NotePage, tag=TAG),
    Route("POST", SESSION + "/feedback", "give_feedback",
          "After a held session, feedback for the other member (R11).",
          target="sessions.give_feedback", acting="member", body=api.GiveFeedback,
          response=api.Recorded, status=201, tag=TAG),
    Route("GET", PAIR + "/feedback", "list_feedback",
          "The feedback the pair's members gave each other, oldest first, a page at a time "
          "(R11: the pair only).",
          target="sessions.list_feedback", acting="member", query=api.TextPage,
          response=api.FeedbackPage, tag=TAG),
    # -- R1/R2: reports ----------------------------------------------------------------------
    Route("POST", PAIR + "/reports", "report_solicitation",
          "Report the other member for commercial solicitation (R1/R2); the details are "
          "sealed for moderators at once.",
          target="sessions.report_solicitation", acting="member", body=api.ReportSolicitation,
          response=api.Recorded, status=201, tag=TAG),
]
