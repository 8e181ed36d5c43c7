"""R5: the meeting plan, fixed at the first meeting and revisable, history kept.

"Calendar and frequency are fixed at the first meeting; at least one meeting
every month to month and a half": the plan holds the interval (1..45 days),
the preferred modality (R6) and the next dates. Each recording is a
``MeetingPlanRecorded`` event: a revision adds to the history, never
overwrites it. Until a plan exists the cadence (R7) uses the longest interval
the charter allows, 45 days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

from contracts import charter
from contracts.events.sessions import MAX_NEXT_DATES
from services.servicekit.errors import Conflict, Invalid, RuleViolation
from services.sessions.domain.base import PairBase
from services.sessions.domain.checks import (
    aware,
    calendar_day,
    day_of,
    iso,
    moment_of,
    utc_day,
)
from services.sessions.domain.rules import check_interval_days, check_modality


@dataclass(frozen=True)
class MeetingPlan:
    """One recorded plan (``revision`` 1 is the one fixed at the first meeting)."""

    revision: int
    interval_days: int
    preferred_modality: str
    first_meeting_on: date
    next_dates: tuple[date, ...]
    recorded_by: str
    recorded_at: datetime

    def same_terms(self, other: MeetingPlan) -> bool:
        return (self.interval_days, self.preferred_modality, self.first_meeting_on,
                self.next_dates) == (other.interval_days, other.preferred_modality,
                                     other.first_meeting_on, other.next_dates)


def check_next_dates(next_dates: Sequence[object], interval_days: int,
                     today: date) -> tuple[date, ...]:
    """The next dates: calendar days, from today on, in order, each once, and no
    further apart than the plan's own interval (R5: the plan keeps its promise)."""
    if isinstance(next_dates, str | bytes) or not isinstance(next_dates, Sequence):
        raise Invalid("next_dates must be a list of dates.", field="next_dates")
    if len(next_dates) > MAX_NEXT_DATES:
        raise Invalid(f"At most {MAX_NEXT_DATES} next dates.", field="next_dates")
    days = tuple(calendar_day(d, "next_dates") for d in next_dates)
    if any(later <= earlier for earlier, later in pairwise(days)):
        raise Invalid("The next dates are listed in order, each once.", field="next_dates")
    if days and days[0] < today:
        raise Invalid("The next dates are still to come, not past.", field="next_dates")
    for earlier, later in pairwise(days):
        if later - earlier > timedelta(days=interval_days):
            raise RuleViolation(
                "R5", f"The next dates {earlier} and {later} are more than {interval_days} "
                "days apart, the plan's own interval (R5).", field="next_dates",
            )
    return days


class MeetingPlanMixin(PairBase):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        #: Every plan recorded, oldest first (R5: the history stays).
        self.plan_history: list[MeetingPlan] = []

    @property
    def plan(self) -> MeetingPlan | None:
        """The plan in force: the latest recorded."""
        return self.plan_history[-1] if self.plan_history else None

    @property
    def interval_days(self) -> int:
        """The agreed interval, or the charter's 45 days while no plan exists (R5, R7)."""
        plan = self.plan
        return plan.interval_days if plan else charter.MAX_MEETING_INTERVAL_DAYS

    def record_meeting_plan(
        self, by: str, interval_days: int, preferred_modality: str, first_meeting_on: date,
        next_dates: Sequence[date], now: datetime,
    ) -> MeetingPlan:
        """R5: record (first time) or revise (later) the pair's plan; R9: either
        member. ``first_meeting_on`` is the day of the pair's first meeting (not
        before the pair was formed); ``next_dates`` are the dates agreed from
        today on. An unchanged plan is a ``Conflict`` (nothing to keep in history)."""
        member = self._acting(by)
        now = aware(now, "now")
        interval = check_interval_days(interval_days)
        modality = check_modality(preferred_modality, "preferred_modality")
        first = calendar_day(first_meeting_on, "first_meeting_on")
        if self.formed_at is not None and first < utc_day(self.formed_at):
            raise Invalid("first_meeting_on cannot be before the pair was formed.",
                          field="first_meeting_on")
        days = check_next_dates(next_dates, interval, utc_day(now))
        candidate = MeetingPlan(len(self.plan_history) + 1, interval, modality, first, days,
                                member, now)
        if self.plan is not None and self.plan.same_terms(candidate):
            raise Conflict("This plan is already the pair's plan.", field="interval_days")
        self.record("MeetingPlanRecorded", {
            "pair_id": self.id,
            "interval_days": interval,
            "preferred_modality": modality,
            "first_meeting_on": first.isoformat(),
            "next_dates": [d.isoformat() for d in days],
            "recorded_by": member,
            "recorded_at": iso(now),
        })
        return self.plan_history[-1]

    def when_meeting_plan_recorded(self, data: dict[str, Any]) -> None:
        self.plan_history.append(MeetingPlan(
            revision=len(self.plan_history) + 1,
            interval_days=data["interval_days"],
            preferred_modality=data["preferred_modality"],
            first_meeting_on=day_of(data["first_meeting_on"]),
            next_dates=tuple(day_of(d) for d in data.get("next_dates", [])),
            recorded_by=data["recorded_by"],
            recorded_at=moment_of(data["recorded_at"]),
        ))
