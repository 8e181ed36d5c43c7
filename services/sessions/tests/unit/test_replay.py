"""Replay equals live state: every event a command decides is valid against the
catalogue, and the stream alone (as a store returns it: JSON form, upcast)
rebuilds the pair exactly, including streams written with older versions."""

from __future__ import annotations

from datetime import timedelta

from contracts import examples
from services.eventcore.aggregate_cache import AggregateCache
from services.sessions.domain import Pair, SessionState
from services.sessions.tests.unit.support import (
    FORMED,
    MENTEE_ORG,
    MENTOR_ORG,
    Store,
    days,
    moderators_text,
    new_id,
    pair_text,
    sealed_text,
    state,
)


def test_a_whole_programme_replays_to_the_live_state_at_every_step():
    store = Store()
    pair = Pair.open(new_id(), new_id(), new_id(), MENTOR_ORG, MENTEE_ORG, FORMED)
    mentor, mentee = pair.mentor_id, pair.mentee_id
    t = FORMED + days(1)

    kept = AggregateCache("sessions")

    def step() -> None:
        before = kept.find(Pair, pair.id)
        store.save(pair)
        replayed = store.replay(pair.id)
        assert state(replayed) == state(pair)
        assert replayed.version == len(store.events)
        # The state kept at the step before, brought up to date with what was
        # recorded since (``aggregate_cache``), is the replay's too.
        if before is not None:
            fast_forwarded, at = before
            fast_forwarded.catch_up(store.events[at.version:])
            assert state(fast_forwarded) == state(pair)
            assert fast_forwarded.version == len(store.events)
        kept.keep(pair, str(store.events[-1].event_id))

    step()
    first = new_id()
    pair.record_session_held(first, mentee, t, 90, "in_person", t + timedelta(hours=2))
    pair.record_meeting_plan(mentor, 30, "remote", t.date(), [t.date() + days(30)], t)
    objective, item = new_id(), new_id()
    pair.state_objective(objective, mentee, "objective", pair_text(pair, "goal", by=mentee), t)
    pair.state_objective(new_id(), mentee, "need", pair_text(pair, "need", by=mentee), t)
    pair.comment_objective(objective, new_id(), mentor, pair_text(pair, "c", by=mentor), t)
    pair.add_action_item(objective, item, mentor, pair_text(pair, "do", by=mentor), t,
                         t.date() + days(9))
    step()
    pair.confirm_session(first, mentor, t + days(1))
    pair.revise_objective(objective, mentee, pair_text(pair, "goal v2", by=mentee), t + days(1))
    pair.change_action_item_state(item, mentee, "done", t + days(2))
    pair.add_note(new_id(), mentor, pair_text(pair, "n", by=mentor), t + days(2), session_id=first)
    pair.give_feedback(new_id(), first, mentee, pair_text(pair, "f", by=mentee), t + days(2))
    upcoming = new_id()
    pair.schedule_session(upcoming, mentor, t + days(29), 60, "remote", t + days(2))
    pair.cancel_session(upcoming, mentee, "rescheduled", t + days(3))
    step()
    assert pair.check(t + days(31)) is True  # 30-day plan, no session since
    step()
    second = new_id()
    pair.record_session_held(second, mentor, t + days(35), 120, "remote", t + days(35))
    pair.achieve_objective(objective, mentee, t + days(35))
    step()
    later = new_id()
    pair.schedule_session(later, mentee, t + days(60), 60, "remote", t + days(36))
    pair.report_solicitation(new_id(), mentee, moderators_text(), [first, second],
                             t + days(40))
    pair.on_member_excluded(mentor, t + days(41))
    step()

    assert [e.name for e in store.events].count("PairCadenceRestored") == 1
    rebuilt = store.replay(pair.id)
    assert rebuilt.closed and rebuilt.sessions[later].state is SessionState.CANCELLED
    assert rebuilt.partner_org == MENTEE_ORG
    assert [p.interval_days for p in rebuilt.plan_history] == [30]
    assert rebuilt.objectives[objective].revision == 2 and rebuilt.objectives[objective].achieved
    assert rebuilt.action_items[item].state == "done"
    # the pair's texts are in the events sealed, never in the aggregate's state
    assert "enc:v1:" not in repr(state(rebuilt))


def test_a_stream_written_with_older_versions_replays_through_the_upcasters():
    pair_id = examples.PAIR
    mentor, mentee = examples.MENTOR, examples.MENTEE
    store = Store()
    store.append_stored(pair_id, "PairOpened", 1, examples.example("PairOpened", 1))
    session = examples.example("SessionHeld", 1)  # hours and mode words
    store.append_stored(pair_id, "SessionHeld", 1, session)
    store.append_stored(pair_id, "MeetingPlanRecorded", 1,
                        examples.example("MeetingPlanRecorded", 1))
    scheduled = examples.example("SessionScheduled", 1) | {"session_id": new_id()}
    store.append_stored(pair_id, "SessionScheduled", 1, scheduled)
    store.append_stored(pair_id, "SessionCancelled", 1,
                        examples.example("SessionCancelled", 1)
                        | {"session_id": scheduled["session_id"]})
    store.append_stored(pair_id, "ObjectiveStated", 1, examples.example("ObjectiveStated", 1))
    store.append_stored(pair_id, "CommercialSolicitationReported", 1,
                        examples.example("CommercialSolicitationReported", 1))

    pair = store.replay(pair_id)
    held = pair.sessions[session["session_id"]]
    assert (held.state, held.duration_minutes, held.modality, held.held_by) == (
        SessionState.HELD, 90, "remote", mentor)
    assert pair.plan.next_dates == () and pair.plan.interval_days == 30
    cancelled = pair.sessions[scheduled["session_id"]]
    assert (cancelled.state, cancelled.cancelled_by) == (SessionState.CANCELLED, mentee)
    assert pair.objectives[examples.example("ObjectiveStated", 1)["objective_id"]].kind == (
        "objective")
    (report,) = pair.reports.values()
    assert report.session_ids == (session["session_id"],)

    # and the rebuilt pair goes on deciding with its rules
    pair.confirm_session(session["session_id"], mentee, held.started_at + days(1))
    pair.add_note(new_id(), mentee, sealed_text(f"pair-{pair_id}-by-{mentee}"), held.started_at)
    assert [e.name for e in pair.pending] == ["SessionConfirmed", "NoteAdded"]
