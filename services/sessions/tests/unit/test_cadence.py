"""R7: a pair whose last session (or formation) is older than its interval is
overdue: one event when it happens, not one per check; one when a session
brings it back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from contracts import catalogue
from services.sessions.domain import due_on, is_overdue, overdue_days
from services.sessions.tests.unit.support import (
    FORMED,
    days,
    formed_pair,
    held_session,
    last,
    names,
    plan,
)

# -- the pure functions ---------------------------------------------------------------


def test_due_on_counts_whole_utc_days_from_the_last_meeting():
    assert due_on(datetime(2026, 1, 5, 10, tzinfo=UTC), 45) == date(2026, 2, 19)
    # 23:30 in Paris on the 5th is 22:30 UTC on the 5th; 01:30 in Paris on the 6th
    # is 00:30 UTC on the 6th: the UTC day decides, the same for every reader.
    paris = timezone(timedelta(hours=1))
    assert due_on(datetime(2026, 1, 5, 23, 30, tzinfo=paris), 1) == date(2026, 1, 6)
    assert due_on(datetime(2026, 1, 6, 0, 30, tzinfo=paris), 1) == date(2026, 1, 6)


@pytest.mark.parametrize(("elapsed", "late"), [(0, 0), (44, 0), (45, 0), (46, 1), (50, 5)])
def test_r5_r7_45_days_is_on_time_46_is_overdue(elapsed, late):
    last_meeting = datetime(2026, 1, 5, 10, tzinfo=UTC)
    now = last_meeting + days(elapsed)
    assert overdue_days(last_meeting, 45, now) == late
    assert is_overdue(last_meeting, 45, now) is (late > 0)


def test_overdue_days_is_never_negative_within_the_interval():
    last_meeting = datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert overdue_days(last_meeting, 30, last_meeting + days(3)) == 0
    # the very end of the due day is still on time; the next day is not
    assert not is_overdue(last_meeting, 30, datetime(2026, 2, 4, 23, 59, tzinfo=UTC))
    assert is_overdue(last_meeting, 30, datetime(2026, 2, 5, 0, 0, tzinfo=UTC))


# -- the pair's check -----------------------------------------------------------------


def test_without_a_session_or_a_plan_the_pair_is_due_45_days_after_its_formation():
    pair = formed_pair()
    assert pair.due_on == FORMED.date() + days(45)
    assert pair.check(FORMED + days(45)) is False
    assert pair.check(FORMED + days(46)) is True
    data = last(pair)
    catalogue.validate("PairBecameOverdue", 1, data)
    assert (data["interval_days"], data["last_session_at"], data["due_on"]) == (
        45, None, (FORMED.date() + days(45)).isoformat())


def test_the_agreed_interval_replaces_the_45_days():
    pair = formed_pair()
    plan(pair, interval_days=30)
    assert pair.check(FORMED + days(30)) is False
    assert pair.check(FORMED + days(31)) is True
    assert last(pair)["interval_days"] == 30


def test_r7_one_event_when_it_happens_not_one_per_check_then_one_when_it_recovers():
    pair = formed_pair()
    first = FORMED + days(1)
    held_session(pair, first)
    plan(pair, interval_days=45, now=first)
    pair.collect()

    checks = [pair.check(first + timedelta(days=d, hours=h))
              for d in (1, 20, 44, 45) for h in (0, 12)]
    assert not any(checks) and pair.pending == []

    # the 46-day gap: overdue once, however often the timer runs
    gap = first + days(46)
    results = [pair.check(gap + timedelta(hours=h)) for h in range(0, 96, 6)]
    assert results == [True] + [False] * (len(results) - 1)
    assert names(pair) == ["PairBecameOverdue"]
    assert pair.overdue
    overdue = last(pair)
    assert overdue["last_session_at"] == first.isoformat()
    assert overdue["due_on"] == (first.date() + days(45)).isoformat()

    # and back: a session restores the cadence, once
    back = first + days(50)
    session = held_session(pair, back, by=pair.mentee_id, now=back + timedelta(hours=2))
    assert names(pair) == ["PairBecameOverdue", "SessionHeld", "PairCadenceRestored"]
    restored = last(pair)
    catalogue.validate("PairCadenceRestored", 1, restored)
    assert (restored["session_id"], restored["overdue_days"]) == (session, 5)
    assert not pair.overdue
    assert [pair.check(back + days(d)) for d in (1, 10, 45)] == [False] * 3
    held_session(pair, back + days(10))
    assert names(pair)[-1] == "SessionHeld"  # nothing to restore: it was on time

    # a new lapse is a new episode
    assert pair.check(back + days(10 + 46)) is True
    assert names(pair).count("PairBecameOverdue") == 2


def test_a_session_recorded_late_that_leaves_the_pair_past_due_restores_nothing():
    pair = formed_pair()
    first = FORMED + days(2)
    held_session(pair, first)
    plan(pair, interval_days=45, now=first)
    assert pair.check(first + days(46)) is True
    pair.collect()
    # an older session, recorded now: the last one is still the first
    held_session(pair, FORMED + days(1), now=first + days(47))
    assert names(pair) == ["SessionHeld"]
    assert pair.overdue


def test_a_shorter_interval_makes_the_pair_overdue_at_the_next_check():
    pair = formed_pair()
    held_session(pair, FORMED)
    plan(pair, interval_days=45)
    assert pair.check(FORMED + days(35)) is False
    plan(pair, interval_days=30, now=FORMED + days(35))
    assert pair.check(FORMED + days(35)) is True


def test_a_closed_pair_is_never_overdue():
    pair = formed_pair()
    pair.on_pair_ended("completed", pair.mentor_id, FORMED + days(10))
    assert pair.check(FORMED + days(100)) is False
    assert "PairBecameOverdue" not in names(pair)
