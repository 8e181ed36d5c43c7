"""As of a moment: a case, and the reported member's pairs and sessions (states,
not content), as the events recorded up to then leave them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts import examples
from contracts.examples import MENTEE, MENTOR, PAIR, example_id
from services.moderation.domain.as_of import case_as_of, member_as_of
from services.moderation.domain.case import Case, CaseStatus
from services.moderation.tests.unit.history import (
    ALICE,
    BOB,
    FINGERPRINT,
    MEMBER,
    Log,
    report,
    sealed_text,
)

# -- the case -------------------------------------------------------------------------


def test_a_case_as_it_stood_at_each_moment():
    log = Log()
    opened_at = log.now
    case = Case.open(report("first"), 1, log.now)
    log.save(case)
    joined_at = log.tick(60)
    case.add_report(report("second"), log.now)
    log.save(case)
    voted_at = log.tick(60)
    case.confirm(ALICE, "services_offered", sealed_text("a"), seen_version=case.version,
                 identity_fingerprint=FINGERPRINT, now=log.now)
    log.save(case)
    confirmed_at = log.tick(60)
    case.confirm(BOB, "services_offered", sealed_text("b"), seen_version=case.version,
                 identity_fingerprint=FINGERPRINT, now=log.now)
    log.save(case)
    history = log.history(case.id)
    second = timedelta(seconds=1)

    assert case_as_of(case.id, history, opened_at - second) is None
    at_open = case_as_of(case.id, history, opened_at)  # recorded_at <= moment: inclusive
    assert (at_open.status, len(at_open.reports), at_open.version) == (CaseStatus.OPEN, 1, 1)
    assert len(case_as_of(case.id, history, joined_at + second).reports) == 2
    before_vote = case_as_of(case.id, history, voted_at - second)
    assert (before_vote.votes, before_vote.version) == ((), 2)
    voted = case_as_of(case.id, history, confirmed_at - second)
    assert (voted.status, [v.moderator_id for v in voted.votes], voted.excluded) == (
        CaseStatus.OPEN, [ALICE], False)
    final = case_as_of(case.id, history, confirmed_at + timedelta(days=365))
    assert (final.status, final.excluded, final.flagged, final.decided_by, final.member_id) == (
        CaseStatus.CONFIRMED, True, True, (ALICE, BOB), MEMBER)
    assert final == log.load(Case, case.id).snapshot()
    assert voted.decision_latency is None
    assert final.decision_latency == confirmed_at - opened_at


def test_the_moment_must_be_aware():
    with pytest.raises(ValueError, match="naive"):
        case_as_of("x", [], datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="naive"):
        member_as_of(MENTOR, [], datetime(2026, 1, 1))


# -- her pairs and sessions -------------------------------------------------------------

T0 = datetime(2025, 3, 1, 9, tzinfo=UTC)
OTHER_PAIR = example_id("as-of another pair")
DECLINED_PAIR = example_id("as-of a declined pair")
S1, S2 = example_id("as-of session 1"), example_id("as-of session 2")
STRANGER, STRANGER2 = example_id("as-of stranger"), example_id("as-of stranger 2")


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def ev(name: str, at: datetime, text_time: bool = False, version: int = 1,
       **changes: Any) -> dict[str, Any]:
    """A plain dict as the service keeps other contexts' events (contract example data)."""
    data = examples.example(name, version) | changes
    return {"name": name, "recorded_at": at.isoformat() if text_time else at, "data": data}


def timeline() -> list[dict[str, Any]]:
    """MENTOR's life on the platform, with a stranger pair and some content mixed in."""
    return [
        ev("MatchProposed", day(0)),
        ev("MatchProposed", day(0), pair_id=DECLINED_PAIR, mentee_id=STRANGER),
        ev("MatchAccepted", day(0.1), member_id=MENTEE),
        ev("MatchAccepted", day(0.2), member_id=MENTOR, text_time=True),
        ev("MatchDeclined", day(0.3), pair_id=DECLINED_PAIR, member_id=STRANGER),
        ev("PairFormed", day(1)),
        ev("MeetingPlanRecorded", day(1)),
        ev("SessionScheduled", day(2), session_id=S1),
        ev("SessionHeld", day(3), version=2, session_id=S1, duration_minutes=75),
        ev("NoteAdded", day(3)),  # content: never read
        ev("SessionConfirmed", day(4), session_id=S1),
        ev("MatchProposed", day(5), pair_id=OTHER_PAIR, mentor_id=STRANGER,
           mentee_id=STRANGER2),
        ev("PairFormed", day(5), pair_id=OTHER_PAIR, mentor_id=STRANGER, mentee_id=STRANGER2),
        ev("SessionScheduled", day(5), pair_id=OTHER_PAIR, session_id=example_id("theirs")),
        ev("SessionScheduled", day(10), session_id=S2),
        ev("SessionCancelled", day(20), session_id=S2, reason="unavailable"),
        ev("PairBecameOverdue", day(40), text_time=True),
        ev("PairEnded", day(50), reason="counterpart_excluded", ended_by=None),
    ]


def test_nothing_before_the_first_event():
    activity = member_as_of(MENTOR, timeline(), day(-1))
    assert (activity.pairs, activity.sessions) == ((), ())


def test_her_pairs_and_sessions_at_several_moments():
    events = timeline()

    proposed = member_as_of(MENTOR, events, day(0.15))
    assert [(p.pair_id, p.state) for p in proposed.pairs] == [
        (PAIR, "proposed"), (DECLINED_PAIR, "proposed")]
    assert proposed.pair(PAIR).accepted_by == (MENTEE,)

    formed = member_as_of(MENTOR, events, day(1))
    pair = formed.pair(PAIR)
    assert (pair.state, pair.accepted_by, pair.interval_days, pair.overdue) == (
        "formed", (MENTEE, MENTOR), 30, False)
    assert (pair.mentor_id, pair.mentee_id, pair.since) == (MENTOR, MENTEE, day(1).isoformat())
    assert formed.pair(DECLINED_PAIR).state == "declined"
    assert formed.sessions == ()

    held = member_as_of(MENTOR, events, day(3.5))
    session = held.session(S1)
    assert (session.state, session.minutes, session.modality, session.confirmed) == (
        "held", 75, "remote", False)
    assert member_as_of(MENTOR, events, day(4)).session(S1).confirmed is True

    later = member_as_of(MENTOR, events, day(25))
    assert later.session(S2).state == "cancelled"
    assert later.session(S2).cancel_reason == "unavailable"
    assert later.session(S1).state == "held"
    assert later.pair(PAIR).overdue is False

    assert member_as_of(MENTOR, events, day(40)).pair(PAIR).overdue is True  # R7

    ended = member_as_of(MENTOR, events, day(60)).pair(PAIR)
    assert (ended.state, ended.end_reason) == ("ended", "counterpart_excluded")


def test_only_her_pairs_and_never_content():
    activity = member_as_of(MENTOR, timeline(), day(60))
    assert activity.pair(OTHER_PAIR) is None
    assert {s.pair_id for s in activity.sessions} == {PAIR}
    assert "enc:v1" not in repr(activity)  # the note's sealed text was never taken in
    # Her counterpart sees the same pair from her side.
    assert member_as_of(MENTEE, timeline(), day(60)).pair(PAIR).state == "ended"
    assert member_as_of(STRANGER, timeline(), day(60)).pair(PAIR) is None


def test_the_order_given_is_irrelevant_across_instants():
    # Events from several topics arrive interleaved: the fold goes by recorded_at
    # (at one instant, one append, it keeps the order given).
    events = timeline()
    assert events[7]["recorded_at"] == day(2)  # no instant is split by the rotation
    shuffled = events[7:] + events[:7]
    assert member_as_of(MENTOR, shuffled, day(60)) == member_as_of(MENTOR, events, day(60))
