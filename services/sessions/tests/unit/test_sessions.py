"""R6: 60..120 minutes, remote or in person; R9: either member schedules,
records or cancels, the *other* member confirms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from contracts import catalogue
from services.servicekit.errors import Conflict, Invalid, NotFound, RuleViolation
from services.sessions.domain import SessionState
from services.sessions.domain.session import SCHEDULE_HORIZON
from services.sessions.tests.unit.support import (
    FORMED,
    days,
    formed_pair,
    held_session,
    last,
    names,
    new_id,
    refusal,
)

NOW = FORMED + days(3)
NEXT_WEEK = NOW + days(7)


def hold(pair, minutes=90, modality="remote", by=None, session_id=None, started_at=NOW,
         now=NOW):
    pair.record_session_held(session_id or new_id(), by or pair.mentor_id, started_at,
                             minutes, modality, now)


def schedule(pair, minutes=90, modality="remote", by=None, session_id=None,
             starts_at=NEXT_WEEK, now=NOW):
    session_id = session_id or new_id()
    pair.schedule_session(session_id, by or pair.mentee_id, starts_at, minutes, modality, now)
    return session_id


@pytest.mark.parametrize("minutes", [60, 61, 90, 119, 120])
def test_r6_a_held_session_of_one_to_two_hours_is_recorded(minutes):
    pair = formed_pair()
    hold(pair, minutes)
    assert names(pair)[-1] == "SessionHeld"
    data = last(pair)
    catalogue.validate("SessionHeld", 2, data)
    assert data["duration_minutes"] == minutes


@pytest.mark.parametrize("minutes", [59, 121, 0, -60, 90.0, "90", True, None])
def test_r6_anything_else_is_refused_naming_the_rule_and_the_field(minutes):
    error = refusal(RuleViolation, hold, formed_pair(), minutes)
    assert (error.rule, error.field) == ("R6", "duration_minutes")
    assert "60 to 120 minutes (R6)" in error.detail


@pytest.mark.parametrize("modality", ["phone", "online", "Remote", "", None])
def test_r6_only_remote_or_in_person(modality):
    error = refusal(RuleViolation, hold, formed_pair(), modality=modality)
    assert (error.rule, error.field) == ("R6", "modality")


@pytest.mark.parametrize(("minutes", "allowed"), [(59, False), (60, True), (120, True),
                                                  (121, False)])
def test_r6_also_bounds_what_is_scheduled(minutes, allowed):
    pair = formed_pair()
    if allowed:
        schedule(pair, minutes)
        catalogue.validate("SessionScheduled", 1, last(pair))
    else:
        error = refusal(RuleViolation, schedule, pair, minutes)
        assert (error.rule, error.field) == ("R6", "planned_minutes")
    error = refusal(RuleViolation, schedule, pair, modality="online")
    assert (error.rule, error.field) == ("R6", "modality")


def test_r9_either_member_schedules_records_and_cancels():
    pair = formed_pair()
    by_mentee = schedule(pair, by=pair.mentee_id)
    by_mentor = schedule(pair, by=pair.mentor_id)
    pair.cancel_session(by_mentor, pair.mentee_id, "rescheduled", NOW)
    pair.record_session_held(by_mentee, pair.mentor_id, NOW + days(7), 75, "in_person",
                             NOW + days(7))
    held = pair.sessions[by_mentee]
    assert (held.state, held.held_by, held.scheduled_by) == (
        SessionState.HELD, pair.mentor_id, pair.mentee_id)
    assert (held.duration_minutes, held.modality) == (75, "in_person")
    assert pair.sessions[by_mentor].state is SessionState.CANCELLED
    assert pair.sessions[by_mentor].cancelled_by == pair.mentee_id
    for event in pair.pending:
        catalogue.validate(event.name, catalogue.latest_version(event.name), event.data)


def test_r9_the_other_member_confirms_not_the_one_who_recorded():
    pair = formed_pair()
    session = held_session(pair, NOW, by=pair.mentee_id)
    error = refusal(RuleViolation, pair.confirm_session, session, pair.mentee_id, NOW)
    assert (error.rule, error.field) == ("R9", "confirmed_by")
    pair.confirm_session(session, pair.mentor_id, NOW + days(1))
    assert names(pair)[-1] == "SessionConfirmed"
    catalogue.validate("SessionConfirmed", 1, last(pair))
    assert pair.sessions[session].confirmed_by == pair.mentor_id
    assert refusal(Conflict, pair.confirm_session, session, pair.mentor_id, NOW).field == (
        "session_id")


def test_r9_a_session_recorded_by_the_mentor_is_confirmed_by_the_mentee():
    pair = formed_pair()
    session = held_session(pair, NOW, by=pair.mentor_id)
    assert refusal(RuleViolation, pair.confirm_session, session, pair.mentor_id,
                   NOW).rule == "R9"
    pair.confirm_session(session, pair.mentee_id, NOW)
    assert pair.sessions[session].confirmed


def test_only_a_held_session_is_confirmed_and_only_a_scheduled_one_cancelled():
    pair = formed_pair()
    scheduled = schedule(pair)
    assert refusal(Conflict, pair.confirm_session, scheduled, pair.mentor_id,
                   NOW).field == "session_id"
    held = held_session(pair, NOW)
    assert refusal(Conflict, pair.cancel_session, held, pair.mentee_id, "other",
                   NOW).field == "session_id"
    pair.cancel_session(scheduled, pair.mentor_id, "unavailable", NOW)
    assert refusal(Conflict, pair.cancel_session, scheduled, pair.mentor_id, "other",
                   NOW).field == "session_id"
    assert refusal(Conflict, hold, pair, session_id=scheduled).field == "session_id"
    assert refusal(Conflict, hold, pair, session_id=held).field == "session_id"


def test_a_member_cancels_with_a_members_reason_not_the_platforms():
    pair = formed_pair()
    session = schedule(pair)
    for reason in ("pair_ended", "member_excluded", "bored", None):
        assert refusal(Invalid, pair.cancel_session, session, pair.mentor_id, reason,
                       NOW).field == "reason"


def test_times_that_cannot_be():
    pair = formed_pair()
    assert refusal(Invalid, schedule, pair, starts_at=NOW - days(1)).field == "starts_at"
    assert refusal(Invalid, schedule, pair,
                   starts_at=(NOW + days(1)).replace(tzinfo=None)).field == "starts_at"
    assert refusal(Invalid, hold, pair, started_at=NOW + days(1)).field == "started_at"
    assert refusal(Invalid, hold, pair, started_at=FORMED - days(1)).field == "started_at"
    assert refusal(Invalid, hold, pair, now=NOW.replace(tzinfo=None)).field == "now"


def test_moments_are_recorded_in_utc_and_only_if_they_can_be():
    """An offset of 16 hours or more is one PostgreSQL refuses, and a moment past
    year 9999 in UTC one nobody could read back: the pair's page would fail for good."""
    pair = formed_pair()
    far_east = timezone(timedelta(hours=17))
    schedule(pair, starts_at=NEXT_WEEK.astimezone(far_east))
    assert last(pair)["starts_at"] == NEXT_WEEK.astimezone(UTC).isoformat()
    hold(pair, started_at=NOW.astimezone(far_east))
    assert last(pair)["started_at"] == NOW.astimezone(UTC).isoformat()
    end_of_time = datetime(9999, 12, 31, 23, tzinfo=timezone(-timedelta(hours=14)))
    assert refusal(Invalid, schedule, pair, starts_at=end_of_time,
                   now=NOW).field == "starts_at"
    assert refusal(Invalid, schedule, pair, starts_at=NOW + SCHEDULE_HORIZON + days(1)
                   ).field == "starts_at"
    schedule(pair, starts_at=NOW + SCHEDULE_HORIZON)


def test_ids_are_unique_and_known():
    pair = formed_pair()
    session = schedule(pair)
    assert refusal(Conflict, schedule, pair, session_id=session).field == "session_id"
    assert refusal(NotFound, pair.confirm_session, new_id(), pair.mentor_id,
                   NOW).field == "session_id"
    assert refusal(Invalid, schedule, pair, session_id="s-1").field == "session_id"


def test_a_session_recorded_late_counts_at_its_own_date():
    pair = formed_pair()
    later = held_session(pair, NOW + days(5))
    pair.record_meeting_plan(pair.mentor_id, 30, "remote", NOW.date(), [], NOW + days(6))
    earlier = held_session(pair, NOW, now=NOW + days(6))
    assert [s.session_id for s in pair.held_sessions] == [earlier, later]
    assert pair.last_session_at == NOW + days(5)


def test_a_scheduled_session_is_only_ever_this_pair_s():
    """Recording "scheduled session X" as held needs X to be this pair's: another
    pair's session id is no such session here (it must never touch the other pair)."""
    pair, other = formed_pair(), formed_pair()
    theirs = schedule(other)
    with pytest.raises(NotFound) as refused:
        pair.record_session_held(theirs, pair.mentor_id, NOW, 90, "remote", NOW, scheduled=True)
    assert refused.value.field == "session_id"
    ours = schedule(pair)
    pair.record_session_held(ours, pair.mentor_id, NOW, 90, "remote", NOW, scheduled=True)
    assert pair.session(ours).state is SessionState.HELD
