"""R5: the plan fixed at the first meeting: at most 45 days between meetings,
a modality (R6), next dates; revisions kept as history."""

from __future__ import annotations

from datetime import date

import pytest

from contracts import catalogue
from services.servicekit.errors import Conflict, Invalid, RuleViolation
from services.sessions.tests.unit.support import (
    FORMED,
    days,
    formed_pair,
    held_session,
    last,
    names,
    refusal,
)

TODAY = FORMED + days(1)


def record(pair, interval=30, modality="remote", first=None, next_dates=(), by=None,
           now=TODAY):
    return pair.record_meeting_plan(by or pair.mentor_id, interval, modality,
                                    first or now.date(), next_dates, now)


@pytest.mark.parametrize("interval", [1, 30, 44, 45])
def test_r5_an_interval_up_to_45_days_is_recorded(interval):
    pair = formed_pair()
    record(pair, interval)
    assert names(pair)[-1] == "MeetingPlanRecorded"
    catalogue.validate("MeetingPlanRecorded", 2, last(pair))
    assert pair.interval_days == interval


@pytest.mark.parametrize("interval", [46, 60, 0, -1, 30.0, True, "30", None])
def test_r5_an_interval_over_45_days_or_not_a_whole_number_is_refused(interval):
    error = refusal(RuleViolation, record, formed_pair(), interval)
    assert (error.rule, error.field) == ("R5", "interval_days")
    assert "45" in error.detail


def test_r6_the_preferred_modality_is_remote_or_in_person():
    pair = formed_pair()
    error = refusal(RuleViolation, record, pair, modality="phone")
    assert (error.rule, error.field) == ("R6", "preferred_modality")
    record(pair, modality="in_person")
    assert pair.plan.preferred_modality == "in_person"


def test_without_a_plan_the_interval_is_the_charters_45_days():
    pair = formed_pair()
    assert pair.plan is None and pair.interval_days == 45


def test_next_dates_are_to_come_in_order_and_within_the_plans_interval():
    pair = formed_pair()
    d = TODAY.date()
    record(pair, 30, next_dates=[d + days(10), d + days(40)])
    assert pair.plan.next_dates == (d + days(10), d + days(40))
    assert last(pair)["next_dates"] == [(d + days(10)).isoformat(), (d + days(40)).isoformat()]
    for bad in ([d + days(40), d + days(10)], [d + days(10), d + days(10)], [d - days(1)],
                [FORMED + days(3)], "2026-02-01"):
        assert refusal(Invalid, record, pair, 30, next_dates=bad).field == "next_dates"
    error = refusal(RuleViolation, record, pair, 30, next_dates=[d + days(10), d + days(41)])
    assert (error.rule, error.field) == ("R5", "next_dates")
    error = refusal(Invalid, record, pair, 30,
                    next_dates=[d + days(i + 1) for i in range(13)])
    assert error.field == "next_dates"


def test_r5_revisions_are_kept_as_history_not_overwritten():
    pair = formed_pair()
    first = record(pair, 30, by=pair.mentee_id)
    second = record(pair, 21, modality="in_person", first=first.first_meeting_on,
                    now=TODAY + days(40), by=pair.mentor_id)
    assert names(pair) == ["PairOpened", "MeetingPlanRecorded", "MeetingPlanRecorded"]
    assert [p.revision for p in pair.plan_history] == [1, 2]
    assert [p.interval_days for p in pair.plan_history] == [30, 21]
    assert pair.plan == second and pair.interval_days == 21
    assert (first.recorded_by, second.recorded_by) == (pair.mentee_id, pair.mentor_id)


def test_an_unchanged_plan_is_not_recorded_again():
    pair = formed_pair()
    record(pair, 30)
    assert refusal(Conflict, record, pair, 30, now=TODAY + days(1),
                   first=TODAY.date()).field == "interval_days"


def test_the_first_meeting_is_not_before_the_pair_was_formed():
    pair = formed_pair()
    error = refusal(Invalid, record, pair, first=FORMED.date() - days(1))
    assert error.field == "first_meeting_on"
    error = refusal(Invalid, record, pair, first=FORMED)  # a datetime is not a day
    assert error.field == "first_meeting_on"
    record(pair, first=date(2026, 1, 5))


def test_r5_the_plan_is_fixed_at_the_first_meeting_before_a_second_session():
    pair = formed_pair()
    held_session(pair, FORMED + days(2))  # the first meeting may be recorded alone
    error = refusal(RuleViolation, held_session, pair, FORMED + days(20))
    assert (error.rule, error.field) == ("R5", "meeting_plan")
    record(pair, 30, now=FORMED + days(3))
    held_session(pair, FORMED + days(20))
    assert len(pair.held_sessions) == 2
