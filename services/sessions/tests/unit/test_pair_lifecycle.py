"""How a pair's stream starts (PairOpened), who may act on it (R9: its two
members, nobody else), and how it closes (PairEnded, MemberExcluded)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts import catalogue
from services.servicekit.errors import Conflict, Invalid, NotFound
from services.sessions.domain import Pair, SessionState, no_such_pair
from services.sessions.tests.unit.support import (
    FORMED,
    MENTEE_ORG,
    MENTOR_ORG,
    days,
    formed_pair,
    held_session,
    last,
    moderators_text,
    names,
    new_id,
    pair_text,
    plan,
    refusal,
)


def test_the_stream_starts_with_pair_opened_carrying_both_organisations():
    mentor, mentee = new_id(), new_id()
    pair = Pair.open(new_id(), mentor, mentee, MENTOR_ORG, MENTEE_ORG, FORMED)
    assert names(pair) == ["PairOpened"]
    data = last(pair)
    catalogue.validate("PairOpened", 1, data)
    assert (data["mentor_id"], data["mentee_id"]) == (mentor, mentee)
    assert pair.organisation_ids == {MENTOR_ORG, MENTEE_ORG}
    assert pair.partner_org == MENTEE_ORG  # the CloudEvents partnerorg of the stream
    assert pair.formed_at == FORMED and pair.exists and not pair.closed


def test_ids_are_kept_canonical_so_replay_reads_what_was_decided():
    upper = new_id().upper()
    pair = Pair.open(upper, new_id(), new_id(), MENTOR_ORG, MENTEE_ORG, FORMED)
    assert pair.id == upper.lower()


def test_a_pair_is_two_people_and_its_formation_time_is_aware():
    member = new_id()
    error = refusal(Invalid, Pair.open, new_id(), member, member, MENTOR_ORG, MENTEE_ORG,
                    FORMED)
    assert error.field == "mentee_id"
    error = refusal(Invalid, Pair.open, new_id(), new_id(), new_id(), MENTOR_ORG, MENTEE_ORG,
                    FORMED.replace(tzinfo=None))
    assert error.field == "formed_at"
    assert refusal(Invalid, Pair.open, "pair-1", new_id(), new_id(), MENTOR_ORG, MENTEE_ORG,
                   FORMED).field == "pair_id"


def test_a_pair_never_opened_is_not_found():
    pair = Pair(new_id())
    error = refusal(NotFound, pair.check, FORMED)
    assert (error.field, error.detail) == ("pair_id", no_such_pair().detail)


def outsider_commands(pair: Pair, outsider: str):
    session = held_session(pair, FORMED + days(1))
    now = FORMED + days(2)
    return [
        (pair.schedule_session, (new_id(), outsider, now + days(3), 60, "remote", now)),
        (pair.record_session_held, (new_id(), outsider, now, 60, "remote", now)),
        (pair.confirm_session, (session, outsider, now)),
        (pair.cancel_session, (session, outsider, "other", now)),
        (pair.record_meeting_plan, (outsider, 30, "remote", now.date(), [], now)),
        (pair.state_objective, (new_id(), outsider, "objective", pair_text(pair), now)),
        (pair.add_note, (new_id(), outsider, pair_text(pair, by=outsider), now)),
        (pair.give_feedback, (new_id(), session, outsider, pair_text(pair, by=outsider), now)),
        (pair.report_solicitation, (new_id(), outsider, moderators_text(), [], now)),
    ]


@pytest.mark.parametrize("outsider", ["stranger", "not-a-uuid", None])
def test_r9_only_the_two_members_act_anyone_else_gets_what_a_missing_pair_gets(outsider):
    pair = formed_pair()
    who = new_id() if outsider == "stranger" else outsider
    for command, args in outsider_commands(pair, who):
        error = refusal(NotFound, command, *args)
        assert (error.code, error.field, error.detail, error.rule) == (
            "not_found", "pair_id", no_such_pair().detail, None), command.__name__


def test_pair_ended_closes_the_pair_and_cancels_only_what_was_still_scheduled():
    pair = formed_pair()
    held = held_session(pair, FORMED + days(1))
    plan(pair, now=FORMED + days(1))
    now = FORMED + days(2)
    cancelled_before, upcoming, later = new_id(), new_id(), new_id()
    for session in (cancelled_before, upcoming, later):
        pair.schedule_session(session, pair.mentee_id, now + days(7), 90, "in_person", now)
    pair.cancel_session(cancelled_before, pair.mentee_id, "unavailable", now)
    pair.confirm_session(held, pair.mentee_id, now)
    pair.collect()

    assert pair.on_pair_ended("withdrawn", pair.mentor_id, now + days(1)) is True
    assert names(pair) == ["SessionCancelled", "SessionCancelled", "PairClosed"]
    cancelled = {e.data["session_id"] for e in pair.pending[:2]}
    assert cancelled == {upcoming, later}
    for event in pair.pending[:2]:
        assert (event.data["cancelled_by"], event.data["reason"]) == (None, "pair_ended")
    closed = last(pair)
    assert (closed["cause"], closed["end_reason"], closed["ended_by"]) == (
        "pair_ended", "withdrawn", pair.mentor_id)
    # history stays history
    assert pair.sessions[held].state is SessionState.HELD and pair.sessions[held].confirmed
    assert pair.sessions[cancelled_before].cancel_reason == "unavailable"
    assert pair.closed and pair.close_cause == "pair_ended"


def test_member_excluded_does_the_same_for_a_pair_of_that_member():
    pair = formed_pair()
    now = FORMED + days(1)
    session = new_id()
    pair.schedule_session(session, pair.mentor_id, now + days(3), 60, "remote", now)
    pair.collect()
    assert pair.on_member_excluded(pair.mentor_id, now) is True
    assert names(pair) == ["SessionCancelled", "PairClosed"]
    assert pair.pending[0].data["reason"] == "member_excluded"
    assert last(pair)["excluded_member_id"] == pair.mentor_id
    assert pair.sessions[session].state is SessionState.CANCELLED


def test_a_scheduled_session_whose_time_passed_unrecorded_is_cancelled_too():
    # It can no longer be recorded as held once the pair is closed: left
    # "scheduled" it would stay pending for ever in every read model.
    pair = formed_pair()
    passed = new_id()
    pair.schedule_session(passed, pair.mentor_id, FORMED + days(2), 60, "remote", FORMED)
    pair.on_pair_ended("completed", pair.mentee_id, FORMED + days(9))
    assert pair.sessions[passed].cancel_reason == "pair_ended"


def test_closing_twice_records_nothing_the_second_time():
    # Moderation's MemberExcluded and matching's PairEnded (counterpart_excluded)
    # both arrive for one exclusion.
    pair = formed_pair()
    assert pair.on_member_excluded(pair.mentor_id, FORMED + days(1))
    pair.collect()
    assert pair.on_pair_ended("counterpart_excluded", None, FORMED + days(1)) is False
    assert pair.on_member_excluded(pair.mentor_id, FORMED + days(2)) is False
    assert pair.pending == []


def test_reactions_refuse_what_cannot_be():
    pair = formed_pair()
    assert refusal(Invalid, pair.on_member_excluded, new_id(), FORMED).field == "member_id"
    assert refusal(Invalid, pair.on_pair_ended, "bored", pair.mentor_id, FORMED).field == (
        "reason")
    assert refusal(Invalid, pair.on_pair_ended, "withdrawn", None, FORMED).field == "ended_by"
    assert refusal(Invalid, pair.on_pair_ended, "counterpart_excluded", pair.mentor_id,
                   FORMED).field == "ended_by"
    assert refusal(Invalid, pair.on_pair_ended, "completed", new_id(), FORMED).field == (
        "ended_by")
    assert pair.on_pair_ended("counterpart_excluded", None, FORMED) is True


def member_commands(pair: Pair, session: str, objective: str, item: str):
    now = FORMED + days(10)
    member = pair.mentee_id
    return [
        (pair.schedule_session, (new_id(), member, now + days(3), 60, "remote", now)),
        (pair.record_session_held, (new_id(), member, now, 60, "remote", now)),
        (pair.confirm_session, (session, member, now)),
        (pair.record_meeting_plan, (member, 20, "remote", now.date(), [], now)),
        (pair.state_objective, (new_id(), member, "objective", pair_text(pair, by=member), now)),
        (pair.revise_objective, (objective, member, pair_text(pair, by=member), now)),
        (pair.comment_objective, (objective, new_id(), member, pair_text(pair, by=member), now)),
        (pair.achieve_objective, (objective, member, now)),
        (pair.add_action_item, (objective, new_id(), member, pair_text(pair, by=member), now)),
        (pair.change_action_item_state, (item, member, "done", now)),
        (pair.add_note, (new_id(), member, pair_text(pair, by=member), now)),
        (pair.give_feedback, (new_id(), session, member, pair_text(pair, by=member), now)),
    ]


def test_a_closed_pair_refuses_every_command_naming_the_pair():
    pair = formed_pair()
    session = held_session(pair, FORMED + days(1))
    objective, item = new_id(), new_id()
    pair.state_objective(objective, pair.mentee_id, "objective",
                         pair_text(pair, by=pair.mentee_id), FORMED)
    pair.add_action_item(objective, item, pair.mentor_id, pair_text(pair), FORMED)
    pair.on_pair_ended("completed", pair.mentee_id, FORMED + days(5))
    pair.collect()
    for command, args in member_commands(pair, session, objective, item):
        error = refusal(Conflict, command, *args)
        assert error.field == "pair_id" and "closed" in error.detail, command.__name__
    assert pair.check(FORMED + days(400)) is False  # a closed pair is never overdue
    assert pair.pending == []


def test_a_closed_pair_still_takes_a_report_of_solicitation():
    # She ended the pair because she was solicited: she must still be able to say so.
    pair = formed_pair()
    session = held_session(pair, FORMED + days(1))
    pair.on_pair_ended("withdrawn", pair.mentee_id, FORMED + timedelta(days=3))
    pair.collect()
    pair.report_solicitation(new_id(), pair.mentee_id, moderators_text(), [session],
                             FORMED + days(4))
    assert names(pair) == ["CommercialSolicitationReported"]
