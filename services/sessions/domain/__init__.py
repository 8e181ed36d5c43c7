"""The sessions context's pure domain: no server, no clock, no I/O.

The service layer calls:

- ``Pair`` (one aggregate per pair, stream id = pair id): ``Pair.open`` from
  ``PairFormed``, its commands (plan, sessions, objectives, notes, feedback,
  reports), ``check(now)`` on its cadence timer, and the reactions
  ``on_pair_ended`` / ``on_member_excluded``;
- ``no_such_pair()``: the error for a pair that is missing or not the caller's;
- ``cadence``: ``due_on``, ``overdue_days``, ``is_overdue`` (pure);
- ``programme_report``: the partners' figures over plain rows, k-anonymous.
"""

from services.sessions.domain.base import no_such_pair
from services.sessions.domain.cadence import due_on, is_overdue, overdue_days
from services.sessions.domain.meeting_plan import MeetingPlan
from services.sessions.domain.notes import Feedback, Note
from services.sessions.domain.objectives import TRANSITIONS, ActionItem, Objective
from services.sessions.domain.pair import Pair
from services.sessions.domain.programme_report import (
    K_ANONYMITY,
    Figure,
    HeldSessionRow,
    ObjectiveRow,
    OrganisationReport,
    PairRow,
    organisation_report,
    programme_report,
)
from services.sessions.domain.reports import Report
from services.sessions.domain.session import Session, SessionState

__all__ = [
    "K_ANONYMITY",
    "TRANSITIONS",
    "ActionItem",
    "Feedback",
    "Figure",
    "HeldSessionRow",
    "MeetingPlan",
    "Note",
    "Objective",
    "ObjectiveRow",
    "OrganisationReport",
    "Pair",
    "PairRow",
    "Report",
    "Session",
    "SessionState",
    "due_on",
    "is_overdue",
    "no_such_pair",
    "organisation_report",
    "overdue_days",
    "programme_report",
]
