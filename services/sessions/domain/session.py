"""R6, R9: sessions scheduled, held, confirmed or cancelled by either member.

A session is ``scheduled`` (a date to come), then ``held`` (it took place: R6's
60..120 minutes, remote or in person) or ``cancelled``. A session may also be
recorded as held without having been scheduled. Either member schedules,
records or cancels (R9); the *other* member confirms a held session, so each
held session can carry both members' word.

R5 is checked here too: the plan is fixed at the first meeting, so a second
session is not recorded before the pair has recorded its plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from contracts.events.sessions import CANCELLATION_REASONS
from services.servicekit.errors import Conflict, Invalid, NotFound, RuleViolation
from services.sessions.domain.checks import aware, canonical_id, iso, moment_of
from services.sessions.domain.meeting_plan import MeetingPlanMixin
from services.sessions.domain.rules import check_duration, check_modality

#: How far ahead a session may be scheduled. A plan's interval is 45 days at most
#: (R5): a date years away is a typing slip, and near year 9999 a moment no view
#: could compute with.
SCHEDULE_HORIZON = timedelta(days=366)


class SessionState(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


@dataclass
class Session:
    """One session of the pair, as its events leave it."""

    session_id: str
    state: SessionState
    modality: str
    #: Scheduled sessions: when and for how long it is planned, and by whom.
    starts_at: datetime | None = None
    planned_minutes: int | None = None
    scheduled_by: str | None = None
    #: Held sessions (R6): when it started, how long it lasted, who recorded it.
    started_at: datetime | None = None
    duration_minutes: int | None = None
    held_by: str | None = None
    #: R9: the other member's confirmation.
    confirmed_by: str | None = None
    #: Cancelled sessions: ``cancelled_by`` is None when the platform cancelled.
    cancelled_by: str | None = None
    cancel_reason: str | None = None

    @property
    def confirmed(self) -> bool:
        return self.confirmed_by is not None


class SessionsMixin(MeetingPlanMixin):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.sessions: dict[str, Session] = {}

    # -- reading -----------------------------------------------------------------------

    def session(self, session_id: object, field: str = "session_id") -> Session:
        """The pair's session, or ``NotFound`` naming the field."""
        found = self.sessions.get(canonical_id(session_id, field))
        if found is None:
            raise NotFound("No such session in this pair.", field=field)
        return found

    @property
    def held_sessions(self) -> list[Session]:
        """Held sessions in the order they took place (not recorded)."""
        held = [s for s in self.sessions.values()
                if s.state is SessionState.HELD and s.started_at is not None]
        return sorted(held, key=lambda s: (s.started_at, s.session_id))

    @property
    def pending_sessions(self) -> list[Session]:
        """Scheduled sessions neither held nor cancelled."""
        return [s for s in self.sessions.values() if s.state is SessionState.SCHEDULED]

    # -- commands ----------------------------------------------------------------------

    def schedule_session(self, session_id: str, by: str, starts_at: datetime,
                         planned_minutes: int, modality: str, now: datetime) -> None:
        """R9: either member schedules; R6 bounds what is planned (60..120 minutes,
        remote or in person); a session is scheduled for later, not the past."""
        member = self._acting(by)
        session_id = canonical_id(session_id, "session_id")
        if session_id in self.sessions:
            raise Conflict("A session with this id already exists.", field="session_id")
        minutes = check_duration(planned_minutes, "planned_minutes")
        modality = check_modality(modality)
        starts, now = aware(starts_at, "starts_at"), aware(now, "now")
        if starts < now:
            raise Invalid("A session is scheduled for later: record a past one as held.",
                          field="starts_at")
        if starts > now + SCHEDULE_HORIZON:
            raise Invalid(f"A session is scheduled at most {SCHEDULE_HORIZON.days} days "
                          "ahead.", field="starts_at")
        self.record("SessionScheduled", {
            "pair_id": self.id, "session_id": session_id, "starts_at": iso(starts),
            "planned_minutes": minutes, "modality": modality, "scheduled_by": member,
        })

    def record_session_held(self, session_id: str, by: str, started_at: datetime,
                            duration_minutes: int, modality: str, now: datetime,
                            scheduled: bool = False) -> None:
        """R6: it lasted 60..120 minutes, remote or in person; R9: either member
        records it (a scheduled one, or one never scheduled); R5: from the second
        session on, the pair has a meeting plan. It started at or before ``now``
        and not before the pair was formed. ``scheduled``: it is one of this pair's
        scheduled sessions (an id this pair does not have is no such session, even
        if another pair has it)."""
        member = self._acting(by)
        session_id = canonical_id(session_id, "session_id")
        existing = self.sessions.get(session_id)
        if scheduled and existing is None:
            raise NotFound("No such session.", field="session_id")
        if existing is not None and existing.state is not SessionState.SCHEDULED:
            raise Conflict(f"This session is already {existing.state}.", field="session_id")
        minutes = check_duration(duration_minutes)
        modality = check_modality(modality)
        started = aware(started_at, "started_at")
        if started > aware(now, "now"):
            raise Invalid("A session is recorded as held once it has started.",
                          field="started_at")
        if self.formed_at is not None and started < self.formed_at:
            raise Invalid("A session cannot start before the pair was formed.",
                          field="started_at")
        if self.held_sessions and self.plan is None:
            raise RuleViolation(
                "R5", "Calendar and frequency are fixed at the first meeting (R5): record "
                "the meeting plan before recording another session.", field="meeting_plan",
            )
        self.record("SessionHeld", {
            "pair_id": self.id, "session_id": session_id, "started_at": iso(started),
            "duration_minutes": minutes, "modality": modality, "held_by": member,
        })

    def confirm_session(self, session_id: str, by: str, now: datetime) -> None:
        """R9: the member who did not record a held session confirms it (her
        word beside the other's); once."""
        member = self._acting(by)
        session = self.session(session_id)
        if session.state is not SessionState.HELD:
            raise Conflict(f"Only a held session is confirmed; this one is {session.state}.",
                           field="session_id")
        if member == session.held_by:
            raise RuleViolation(
                "R9", "The member who recorded a session does not confirm it: the other "
                "member does (R9).", field="confirmed_by",
            )
        if session.confirmed:
            raise Conflict("This session is already confirmed.", field="session_id")
        self.record("SessionConfirmed", {
            "pair_id": self.id, "session_id": session.session_id, "confirmed_by": member,
            "confirmed_at": iso(aware(now, "now")),
        })

    def cancel_session(self, session_id: str, by: str, reason: str, now: datetime) -> None:
        """R9: either member cancels a scheduled session, with a member's reason
        (``rescheduled``, ``unavailable``, ``other``: a code, never free text, R8)."""
        member = self._acting(by)
        session = self.session(session_id)
        if reason not in CANCELLATION_REASONS:
            raise Invalid(f"reason must be one of {', '.join(CANCELLATION_REASONS)}.",
                          field="reason")
        if session.state is not SessionState.SCHEDULED:
            raise Conflict(f"Only a scheduled session is cancelled; this one is "
                           f"{session.state}.", field="session_id")
        self._cancel(session, member, reason, aware(now, "now"))

    def _cancel(self, session: Session, by: str | None, reason: str, at: datetime) -> None:
        self.record("SessionCancelled", {
            "pair_id": self.id, "session_id": session.session_id, "cancelled_by": by,
            "reason": reason, "cancelled_at": iso(at),
        })

    # -- apply -------------------------------------------------------------------------

    def when_session_scheduled(self, data: dict[str, Any]) -> None:
        self.sessions[data["session_id"]] = Session(
            session_id=data["session_id"], state=SessionState.SCHEDULED,
            modality=data["modality"], starts_at=moment_of(data["starts_at"]),
            planned_minutes=data["planned_minutes"], scheduled_by=data["scheduled_by"],
        )

    def when_session_held(self, data: dict[str, Any]) -> None:
        session = self.sessions.setdefault(data["session_id"], Session(
            session_id=data["session_id"], state=SessionState.HELD, modality=data["modality"],
        ))
        session.state = SessionState.HELD
        session.modality = data["modality"]
        session.started_at = moment_of(data["started_at"])
        session.duration_minutes = data["duration_minutes"]
        session.held_by = data["held_by"]

    def when_session_confirmed(self, data: dict[str, Any]) -> None:
        self.sessions[data["session_id"]].confirmed_by = data["confirmed_by"]

    def when_session_cancelled(self, data: dict[str, Any]) -> None:
        session = self.sessions[data["session_id"]]
        session.state = SessionState.CANCELLED
        session.cancelled_by = data.get("cancelled_by")
        session.cancel_reason = data["reason"]
