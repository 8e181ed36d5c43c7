"""R7: regular meetings for the whole programme: overdue pairs, and recovery.

A pair is due again ``interval_days`` after its last held session (or after
its formation, while it has held none): the agreed interval of its meeting
plan, or 45 days without one (R5). Counting is in whole UTC days: a pair whose
last session was on day D with a 45-day interval is due on D+45 and overdue
from D+46.

The service runs ``Pair.check(now)`` on a timer with its clock. The check
records ``PairBecameOverdue`` once, when the pair becomes overdue, not once per
check; holding a session that brings the pair back within its interval
records ``PairCadenceRestored``, once. Then the next lapse is a new episode.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from services.sessions.domain.checks import aware, canonical_id, day_of, iso, utc_day
from services.sessions.domain.session import SessionsMixin


def due_on(last_meeting: datetime, interval_days: int) -> date:
    """The last day a meeting is due by: ``interval_days`` after the last one."""
    return utc_day(last_meeting) + timedelta(days=interval_days)


def overdue_days(last_meeting: datetime, interval_days: int, now: datetime) -> int:
    """Whole days past the due day (0 while the pair is on time)."""
    return max(0, (utc_day(now) - due_on(last_meeting, interval_days)).days)


def is_overdue(last_meeting: datetime, interval_days: int, now: datetime) -> bool:
    return overdue_days(last_meeting, interval_days, now) > 0


class CadenceMixin(SessionsMixin):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        #: R7: flagged overdue (``PairBecameOverdue``) and not yet restored.
        self.overdue = False
        #: The due day that was missed, while overdue.
        self.missed_due_on: date | None = None

    @property
    def last_session_at(self) -> datetime | None:
        """When the latest held session started (by when it took place, so a
        session recorded late still counts at its own date)."""
        held = self.held_sessions
        return held[-1].started_at if held else None

    @property
    def cadence_from(self) -> datetime:
        """What the interval counts from: the last held session, else formation."""
        self._require_opened()
        last = self.last_session_at or self.formed_at
        assert last is not None  # an opened pair has its formation date
        return last

    @property
    def due_on(self) -> date:
        """The day the pair must have met by (for projections and the timer's
        selection of pairs to check)."""
        return due_on(self.cadence_from, self.interval_days)

    def check(self, now: datetime) -> bool:
        """R7: record ``PairBecameOverdue`` if the pair just became overdue.

        Returns whether it recorded the event. Idempotent: an overdue pair stays
        flagged until a session restores it, so repeated checks record nothing.
        A closed pair is never overdue (it no longer meets)."""
        self._require_opened()
        now = aware(now, "now")
        if self.closed or self.overdue:
            return False
        if not is_overdue(self.cadence_from, self.interval_days, now):
            return False
        self.record("PairBecameOverdue", {
            "pair_id": self.id,
            "interval_days": self.interval_days,
            "last_session_at": None if self.last_session_at is None else iso(
                self.last_session_at),
            "due_on": self.due_on.isoformat(),
            "detected_at": iso(now),
        })
        return True

    def record_session_held(self, session_id: str, by: str, started_at: datetime,
                            duration_minutes: int, modality: str, now: datetime,
                            scheduled: bool = False) -> None:
        """As ``SessionsMixin.record_session_held``, and R7: if the pair was
        overdue and this session brings it back within its interval,
        ``PairCadenceRestored`` follows in the same command. (A session recorded
        late that still leaves the pair past its due day restores nothing.)"""
        super().record_session_held(session_id, by, started_at, duration_minutes, modality,
                                    now, scheduled=scheduled)
        if self.overdue and not is_overdue(self.cadence_from, self.interval_days, now):
            assert self.missed_due_on is not None
            self.record("PairCadenceRestored", {
                "pair_id": self.id,
                "session_id": canonical_id(session_id, "session_id"),
                # Detected after the due day, so at least one day overdue.
                "overdue_days": max(1, (utc_day(now) - self.missed_due_on).days),
                "restored_at": iso(now),
            })

    # -- apply -------------------------------------------------------------------------

    def when_pair_became_overdue(self, data: dict[str, Any]) -> None:
        self.overdue = True
        self.missed_due_on = day_of(data["due_on"])

    def when_pair_cadence_restored(self, data: dict[str, Any]) -> None:
        self.overdue = False
        self.missed_due_on = None
