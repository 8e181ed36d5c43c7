"""Issue 5 through real HTTP: every rule of the sessions context (R1/R2, R4-R11)
against the running stack, pairs formed by matching's ``PairFormed`` on Kafka
(``tests/e2e/pairs.py``).

A refused command names its field and, when a charter rule refuses, the rule,
and changes nothing; what is private to a pair answers every other caller
exactly like a pair that does not exist.
"""

from __future__ import annotations

import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.eventcore import settings as stack_settings
from services.eventcore.testing import wait_until
from services.gateway.client import Answer, PartnerApi
from services.servicekit import secrets
from services.servicekit.crypto import Keyring, Unreadable
from tests.e2e.pairs import end_pair, form_pair
from tests.e2e.test_exclusion_registry import publish_exclusion
from tests.e2e.test_privacy import topic_bytes

ROOT = Path(__file__).resolve().parents[2]
SESSIONS_METRICS = "http://127.0.0.1:9113/metrics"


@dataclass
class Pairing:
    pair_id: str
    mentor: str
    mentee: str
    mentor_org: PartnerApi
    mentee_org: PartnerApi

    @property
    def as_mentor(self) -> PartnerApi:
        return self.mentor_org.as_member(self.mentor)

    @property
    def as_mentee(self) -> PartnerApi:
        return self.mentee_org.as_member(self.mentee)

    @property
    def path(self) -> str:
        return f"/v1/pairs/{self.pair_id}"

    def state(self, caller: PartnerApi | None = None) -> dict[str, Any]:
        return (caller or self.as_mentee).get(self.path).ok()


@pytest.fixture
def make_pair(new_organisation: Callable[..., PartnerApi]) -> Callable[..., Pairing]:
    def make(mentor_org: PartnerApi | None = None, mentee_org: PartnerApi | None = None,
             formed_ago: timedelta = timedelta(days=2), mentor: str | None = None,
             schema_version: int = 2) -> Pairing:
        mentee_org = mentee_org or mentor_org or new_organisation()
        mentor_org = mentor_org or mentee_org
        mentor = mentor or mentor_org.ready_member("mentor", capacity=3)
        mentee = mentee_org.ready_member("mentee")
        pair_id = form_pair(mentor_org, mentor, mentee_org, mentee, formed_ago, schema_version)
        return Pairing(pair_id, mentor, mentee, mentor_org, mentee_org)

    return make


@pytest.fixture
def pair(make_pair: Callable[..., Pairing]) -> Pairing:
    return make_pair()


# -- helpers ----------------------------------------------------------------------------------


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def later(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def held(caller: PartnerApi, pair: Pairing, minutes: int = 90, modality: str = "remote",
         started: str | None = None) -> Answer:
    return caller.post(f"{pair.path}/held-sessions", {
        "started_at": started or ago(hours=3), "duration_minutes": minutes,
        "modality": modality})


def plan(caller: PartnerApi, pair: Pairing, interval_days: int = 30,
         next_dates: list[str] | None = None) -> Answer:
    return caller.call("PUT", f"{pair.path}/meeting-plan", json={
        "interval_days": interval_days, "preferred_modality": "remote",
        "first_meeting_on": date.today().isoformat(), "next_dates": next_dates or []})


def refused(answer: Answer, status: int, field: str, rule: str | None = None) -> None:
    assert answer.status == status, answer.body
    assert field in answer.fields(), answer.body
    assert answer.problem.get("rule") == rule, answer.body


def comparable(answer: Answer) -> tuple[int, Any]:
    body = answer.body
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in ("request_id", "instance")}
    return answer.status, body


def store_events(pair_id: str) -> list[tuple[str, dict[str, Any], str | None]]:
    conf = stack_settings.load()
    with psycopg.connect(conf.database_url("sessions")) as conn:
        rows = conn.execute("SELECT event_name, data, partner_org FROM events "
                            "WHERE stream_id = %s ORDER BY stream_version", (pair_id,)).fetchall()
    return [(name, data, org) for name, data, org in rows]


def names(pair_id: str) -> list[str]:
    return [name for name, _, _ in store_events(pair_id)]


def check_cadence() -> dict[str, int]:
    """What the service's timer does every CADENCE_CHECK_SECONDS, asked for now."""
    with ClusterRpcProxy({"AMQP_URI": stack_settings.load().amqp_uri}) as rpc:
        return rpc.sessions.check_cadence()


def metrics_page() -> str:
    with urllib.request.urlopen(SESSIONS_METRICS, timeout=10) as response:
        return response.read().decode()


# -- a pair opens from matching's PairFormed --------------------------------------------------


@pytest.mark.parametrize("schema_version", [2, 1])
def test_a_pair_opens_from_pair_formed_with_both_organisations(make_pair, new_organisation,
                                                               schema_version):
    """v2 names both organisations; v1 did not, and identity's members tell them."""
    mentor_org, mentee_org = new_organisation(), new_organisation()
    pair = make_pair(mentor_org, mentee_org, schema_version=schema_version)
    for caller in (pair.as_mentee, pair.as_mentor, mentor_org, mentee_org):
        state = pair.state(caller)
        assert (state["mentor_id"], state["mentee_id"]) == (pair.mentor, pair.mentee)
        assert state["mentor_organisation_id"] == mentor_org.organisation_id
        assert state["mentee_organisation_id"] == mentee_org.organisation_id
        assert state["status"] == "open" and state["plan"] is None
        assert state["cadence"]["interval_days"] == 45  # R5: the longest, until a plan
    events = store_events(pair.pair_id)
    assert [name for name, _, _ in events] == ["PairOpened"]
    assert {org for _, _, org in events} == {mentee_org.organisation_id}, (
        "the stream's partner organisation is the mentee's")
    stranger = new_organisation()
    assert comparable(stranger.get(pair.path)) == comparable(
        stranger.get(f"/v1/pairs/{uuid.uuid4()}"))


def test_a_pair_formed_twice_opens_once(pair):
    from tests.e2e.pairs import publish

    state = pair.state()
    publish("PairFormed", {"pair_id": pair.pair_id, "mentor_id": pair.mentor,
                           "mentee_id": pair.mentee, "formed_at": state["formed_at"],
                           "mentor_organisation_id": state["mentor_organisation_id"],
                           "mentee_organisation_id": state["mentee_organisation_id"]},
            pair.pair_id, version=1, partner_org=pair.mentee_org.organisation_id,
            schema_version=2)
    # Same key, same partition: the PairEnded after it is consumed after it.
    end_pair(pair.mentee_org, pair.pair_id, ended_by=pair.mentor)
    wait_until(lambda: pair.state()["status"] == "closed", what="the pair to close")
    assert names(pair.pair_id) == ["PairOpened", "PairClosed"]


def test_lists_show_a_member_her_pairs_and_an_organisation_its_own(make_pair, new_organisation):
    org = new_organisation()
    first = make_pair(org)
    second = make_pair(org, mentor=first.mentor)
    mine = {p["pair_id"] for p in first.as_mentor.get("/v1/pairs").ok()["items"]}
    assert mine == {first.pair_id, second.pair_id}
    assert {p["pair_id"] for p in first.as_mentee.get("/v1/pairs").ok()["items"]} == {
        first.pair_id}
    listed = org.get("/v1/pairs", params={"status": "open"}).ok()
    assert listed["total"] == 2
    assert new_organisation().get("/v1/pairs").ok() == {"items": [], "total": 0}
    refused(org.get("/v1/pairs", params={"status": "paused"}), 422, "status")


# -- R5: the meeting plan ---------------------------------------------------------------------


def test_r5_the_plan_is_recorded_at_the_first_meeting_and_revised_with_history(pair):
    held(pair.as_mentor, pair).ok()
    soon = (date.today() + timedelta(days=20)).isoformat()
    first = plan(pair.as_mentee, pair, 30, [soon]).ok()
    revised = plan(pair.as_mentor, pair, 21).ok()  # R9: either member
    assert revised["version"] == first["version"] + 1
    state = pair.state()
    assert state["plan"]["interval_days"] == 21 and state["plan"]["revision"] == 2
    assert [p["interval_days"] for p in state["plan_history"]] == [30, 21]
    assert state["plan_history"][0]["next_dates"] == [soon]
    assert state["cadence"]["interval_days"] == 21


def test_r5_an_interval_over_45_days_is_refused_naming_the_rule(pair):
    refused(plan(pair.as_mentee, pair, 46), 422, "interval_days", "R5")
    refused(plan(pair.as_mentee, pair, 0), 422, "interval_days", "R5")
    far = [(date.today() + timedelta(days=d)).isoformat() for d in (1, 40)]
    refused(plan(pair.as_mentee, pair, 30, far), 422, "next_dates", "R5")
    assert pair.state()["plan_history"] == [], "nothing recorded"
    assert names(pair.pair_id) == ["PairOpened"]


def test_r5_a_second_session_needs_the_plan(pair):
    held(pair.as_mentee, pair, started=ago(days=1)).ok()
    refused(held(pair.as_mentor, pair), 422, "meeting_plan", "R5")
    plan(pair.as_mentor, pair).ok()
    held(pair.as_mentor, pair).ok()
    assert pair.state()["counts"]["sessions_held"] == 2


# -- R6, R9: sessions -------------------------------------------------------------------------


@pytest.mark.parametrize(("minutes", "modality", "field"), [
    (59, "remote", "duration_minutes"), (121, "in_person", "duration_minutes"),
    (90, "video", "modality"), (90, "hybrid", "modality"),
    # Refused by the request's types before the domain sees them: named R6 all the same.
    (90.5, "remote", "duration_minutes"), ("90", "remote", "duration_minutes"),
    (90, None, "modality"), (90, "in_person" * 5, "modality")])
def test_r6_a_session_lasts_one_to_two_hours_remote_or_in_person(pair, minutes, modality,
                                                                 field):
    refused(held(pair.as_mentee, pair, minutes, modality), 422, field, "R6")
    refused(pair.as_mentee.post(f"{pair.path}/sessions", {
        "starts_at": later(days=3), "planned_minutes": minutes, "modality": modality}),
        422, "planned_minutes" if field == "duration_minutes" else field, "R6")
    assert names(pair.pair_id) == ["PairOpened"], "nothing recorded"


def test_r6_the_bounds_themselves_are_accepted(pair):
    held(pair.as_mentee, pair, 60, "remote", ago(days=1)).ok()
    plan(pair.as_mentee, pair).ok()
    last = held(pair.as_mentor, pair, 120, "in_person").ok()
    state = pair.state()
    assert [(s["duration_minutes"], s["modality"]) for s in state["sessions"]] == [
        (60, "remote"), (120, "in_person")]
    # The read model is at the version the last command answered (SessionHeld's
    # own statement writes it).
    assert state["version"] == last["version"] == 4


def test_each_command_brings_the_pair_kept_at_its_last_one_up_to_date(pair):
    """The service keeps a pair between commands (``aggregate_cache``): a command loads
    what was recorded since the last one, not the whole stream, and decides alike."""
    def fast_forwarded() -> float:
        line = 'eventstore_aggregate_loads_total{context="sessions",kind="pair",' \
               'outcome="fast_forwarded"} '
        found = [row for row in metrics_page().splitlines() if row.startswith(line)]
        return float(found[0][len(line):]) if found else 0.0

    held(pair.as_mentor, pair).ok()
    before = fast_forwarded()
    plan(pair.as_mentee, pair, 30).ok()
    for _ in range(3):
        held(pair.as_mentee, pair).ok()
    assert fast_forwarded() >= before + 4
    assert [s["state"] for s in pair.state()["sessions"]] == ["held"] * 4
    assert names(pair.pair_id).count("SessionHeld") == 4


def test_r9_either_member_schedules_records_and_the_other_confirms(pair):
    scheduled = pair.as_mentor.post(f"{pair.path}/sessions", {
        "starts_at": later(days=7), "planned_minutes": 90, "modality": "in_person"})
    assert scheduled.status == 201
    session = scheduled.body["id"]
    assert pair.state()["sessions"][0]["state"] == "scheduled"
    # It took place earlier than planned; the mentee records it, the mentor confirms.
    pair.as_mentee.post(f"{pair.path}/sessions/{session}/held", {
        "started_at": ago(hours=2), "duration_minutes": 75, "modality": "remote"}).ok()
    refused(pair.as_mentee.post(f"{pair.path}/sessions/{session}/confirmation"), 422,
            "confirmed_by", "R9")
    pair.as_mentor.post(f"{pair.path}/sessions/{session}/confirmation").ok()
    (state,) = pair.state()["sessions"]
    assert (state["state"], state["held_by"], state["confirmed_by"]) == (
        "held", pair.mentee, pair.mentor)
    again = pair.as_mentor.post(f"{pair.path}/sessions/{session}/confirmation")
    refused(again, 409, "session_id")


def test_a_confirmation_takes_no_body_and_names_any_field_sent_instead_of_ignoring_it(pair):
    """A command that takes nothing reads what it is sent: ``{"price": 10}`` is a 422
    naming ``price`` (R1: no API takes one), and the session stays unconfirmed."""
    session = held(pair.as_mentee, pair).ok()["id"]
    path = f"{pair.path}/sessions/{session}/confirmation"
    for body, field in (({"price": 10}, "price"), ([], "_body"), ("yes", "_body")):
        refused(pair.as_mentor.post(path, body), 422, field)
    assert pair.state()["sessions"][0]["confirmed_by"] is None
    assert pair.as_mentor.post(path, {}).status == 200
    assert pair.state()["sessions"][0]["confirmed_by"] == pair.mentor


def test_r9_either_member_cancels_a_scheduled_session_with_a_reason(pair):
    session = pair.as_mentee.post(f"{pair.path}/sessions", {
        "starts_at": later(days=7), "planned_minutes": 60, "modality": "remote"}).ok()["id"]
    refused(pair.as_mentor.post(f"{pair.path}/sessions/{session}/cancellation",
                                {"reason": "because"}), 422, "reason")
    pair.as_mentor.post(f"{pair.path}/sessions/{session}/cancellation",
                        {"reason": "unavailable"}).ok()
    (state,) = pair.state()["sessions"]
    assert (state["state"], state["cancelled_by"], state["cancel_reason"]) == (
        "cancelled", pair.mentor, "unavailable")
    refused(pair.as_mentee.post(f"{pair.path}/sessions/{session}/cancellation",
                                {"reason": "other"}), 409, "session_id")


def test_a_moment_is_kept_in_utc_and_refused_if_it_cannot_be(pair):
    """``+17:00`` is an offset PostgreSQL refuses, and ``9999-12-31T23:00-14:00``
    is past year 9999 in UTC: taken as sent, the first was a 500, the second made
    every read of the pair a 500, for good."""
    far_east = timezone(timedelta(hours=17))
    started = (datetime.now(UTC) - timedelta(hours=3)).astimezone(far_east)
    held(pair.as_mentee, pair, started=started.isoformat()).ok()
    (session,) = pair.state()["sessions"]
    assert datetime.fromisoformat(session["started_at"]) == started
    for starts_at in ("9999-12-31T23:00:00-14:00", later(days=400)):
        refused(pair.as_mentee.post(f"{pair.path}/sessions", {
            "starts_at": starts_at, "planned_minutes": 60, "modality": "remote"}),
            422, "starts_at")
    assert names(pair.pair_id) == ["PairOpened", "SessionHeld"]
    assert pair.state(pair.mentee_org)["pair_id"] == pair.pair_id


def test_a_session_is_scheduled_for_later_and_held_once_started(pair):
    refused(pair.as_mentee.post(f"{pair.path}/sessions", {
        "starts_at": ago(hours=1), "planned_minutes": 60, "modality": "remote"}),
        422, "starts_at")
    refused(held(pair.as_mentee, pair, started=later(hours=1)), 422, "started_at")
    refused(held(pair.as_mentee, pair, started=ago(days=30)), 422, "started_at")
    assert names(pair.pair_id) == ["PairOpened"]


# -- R7: cadence ------------------------------------------------------------------------------


def test_r7_an_overdue_pair_is_flagged_once_for_the_pair_and_its_organisation(make_pair):
    pair = make_pair(formed_ago=timedelta(days=50))  # never met: due 45 days after forming
    check_cadence()
    check_cadence()  # (the service's own timer may check too): still one event
    for caller in (pair.as_mentee, pair.as_mentor, pair.mentee_org):
        cadence = pair.state(caller)["cadence"]
        assert cadence["overdue"] is True and cadence["overdue_since"] is not None
    listed = pair.mentee_org.get("/v1/pairs", params={"overdue": "true"}).ok()
    assert [p["pair_id"] for p in listed["items"]] == [pair.pair_id]
    organisation = pair.mentee_org.organisation_id
    assert f'sessions_overdue_pairs{{organisation="{organisation}"}} 1.0' in metrics_page()

    held(pair.as_mentor, pair).ok()  # they meet again
    assert pair.state(pair.mentee_org)["cadence"]["overdue"] is False
    check_cadence()
    assert f'sessions_overdue_pairs{{organisation="{organisation}"}} 0.0' in metrics_page()
    assert names(pair.pair_id) == ["PairOpened", "PairBecameOverdue", "SessionHeld",
                                   "PairCadenceRestored"]


def test_r7_a_pair_on_time_is_not_flagged(make_pair):
    pair = make_pair(formed_ago=timedelta(days=44))
    check_cadence()
    assert pair.state()["cadence"]["overdue"] is False
    assert names(pair.pair_id) == ["PairOpened"]


# -- R4, R10: objectives and action items -------------------------------------------------------


def test_r4_the_mentee_states_and_revises_her_objectives_history_kept(pair):
    refused(pair.as_mentor.post(f"{pair.path}/objectives", {
        "kind": "objective", "text": "Mentor's idea"}), 422, "mentee_id", "R4")
    objective = pair.as_mentee.post(f"{pair.path}/objectives", {
        "kind": "objective", "text": "Lead a team"}).ok()["id"]
    pair.as_mentee.post(f"{pair.path}/objectives", {"kind": "need", "text": "Confidence"}).ok()
    refused(pair.as_mentor.post(f"{pair.path}/objectives/{objective}/revisions",
                                {"text": "Rewritten"}), 422, "mentee_id", "R4")
    pair.as_mentee.post(f"{pair.path}/objectives/{objective}/revisions",
                        {"text": "Lead a team of five"}).ok()
    pair.as_mentor.post(f"{pair.path}/objectives/{objective}/comments",
                        {"text": "Start with a project"}).ok()
    refused(pair.as_mentor.post(f"{pair.path}/objectives/{objective}/achievement"), 422,
            "mentee_id", "R4")
    pair.as_mentee.post(f"{pair.path}/objectives/{objective}/achievement").ok()

    for caller in (pair.as_mentee, pair.as_mentor):
        listed = caller.get(f"{pair.path}/objectives").ok()["items"]
        lead = next(o for o in listed if o["objective_id"] == objective)
        assert lead["text"] == "Lead a team of five" and lead["revision"] == 2
        assert [r["text"] for r in lead["revisions"]] == ["Lead a team", "Lead a team of five"]
        assert [(c["author_id"], c["text"]) for c in lead["comments"]] == [
            (pair.mentor, "Start with a project")]
        assert lead["achieved"] is True
        assert {o["kind"] for o in listed} == {"objective", "need"}
    counts = pair.state(pair.mentee_org)["counts"]
    assert (counts["objectives"], counts["objectives_achieved"]) == (2, 1)


def test_r10_action_items_belong_to_an_objective_and_the_mentee_moves_them(pair):
    objective = pair.as_mentee.post(f"{pair.path}/objectives", {
        "kind": "objective", "text": "Change careers"}).ok()["id"]
    due = (date.today() + timedelta(days=14)).isoformat()
    item = pair.as_mentor.post(f"{pair.path}/objectives/{objective}/action-items", {
        "text": "List three companies", "due_on": due}).ok()["id"]
    state_path = f"{pair.path}/action-items/{item}/state"
    refused(pair.as_mentor.call("PUT", state_path, json={"state": "done"}), 422,
            "changed_by", "R10")
    pair.as_mentee.call("PUT", state_path, json={"state": "done"}).ok()
    refused(pair.as_mentee.call("PUT", state_path, json={"state": "dropped"}), 422, "state",
            "R10")
    refused(pair.as_mentee.call("PUT", state_path, json={"state": "finished"}), 422, "state")
    pair.as_mentee.call("PUT", state_path, json={"state": "open"}).ok()
    pair.as_mentee.call("PUT", state_path, json={"state": "dropped"}).ok()
    (listed,) = pair.as_mentee.get(f"{pair.path}/objectives").ok()["items"]
    (action,) = listed["action_items"]
    assert (action["owner_id"], action["added_by"], action["state"], action["due_on"]) == (
        pair.mentee, pair.mentor, "dropped", due)
    missing = f"{pair.path}/objectives/{uuid.uuid4()}/action-items"
    refused(pair.as_mentee.post(missing, {"text": "Orphan"}), 404, "objective_id")


# -- R8, R11: notes and feedback, for the pair only ------------------------------------------


def test_r8_her_erasure_shreds_what_she_wrote_for_the_pair_and_only_that(pair):
    """Crypto-shredding reaches sessions: after her erasure her counterpart no longer
    reads her words (text null), and still reads his own."""
    tag = uuid.uuid4().hex[:10]
    pair.as_mentee.post(f"{pair.path}/notes", {"text": f"Hers{tag}"}).ok()
    pair.as_mentee.post(f"{pair.path}/objectives", {"kind": "objective",
                                                     "text": f"Goal{tag}"}).ok()
    pair.as_mentor.post(f"{pair.path}/notes", {"text": f"His{tag}"}).ok()

    assert pair.mentee_org.post(f"/v1/members/{pair.mentee}/erasure",
                                {"confirm": True}).status == 200

    def notes() -> dict[str, str | None]:
        items = pair.as_mentor.get(f"{pair.path}/notes").ok()["items"]
        return {n["author_id"]: n["text"] for n in items}

    wait_until(lambda: notes()[pair.mentee] is None, what="her note shredded in sessions")
    assert notes()[pair.mentor] == f"His{tag}"
    (objective,) = pair.as_mentor.get(f"{pair.path}/objectives").ok()["items"]
    assert objective["text"] is None
    assert tag not in str(pair.as_mentor.get(f"{pair.path}/objectives").ok())




def test_r8_r11_notes_and_feedback_are_read_by_the_pair_only(pair, new_organisation):
    tag = uuid.uuid4().hex[:10]
    session = held(pair.as_mentee, pair).ok()["id"]
    pair.as_mentee.post(f"{pair.path}/notes", {"text": f"Note{tag}", "session_id": session}).ok()
    pair.as_mentor.post(f"{pair.path}/notes", {"text": f"General{tag}"}).ok()
    pair.as_mentor.post(f"{pair.path}/sessions/{session}/feedback",
                        {"text": f"Feedback{tag}"}).ok()
    refused(pair.as_mentor.post(f"{pair.path}/sessions/{session}/feedback",
                                {"text": "Twice"}), 409, "session_id")

    for member in (pair.as_mentee, pair.as_mentor):
        notes = member.get(f"{pair.path}/notes").ok()["items"]
        assert [n["text"] for n in notes] == [f"Note{tag}", f"General{tag}"]
        assert notes[0]["session_id"] == session and notes[1]["session_id"] is None
        (feedback,) = member.get(f"{pair.path}/feedback").ok()["items"]
        assert (feedback["text"], feedback["from_member_id"], feedback["to_member_id"]) == (
            f"Feedback{tag}", pair.mentor, pair.mentee)

    other = new_organisation()
    others = {
        "the organisation without acting member": pair.mentee_org,
        "another member of the same organisation": pair.mentee_org.as_member(
            pair.mentee_org.ready_member("mentee")),
        "another organisation": other,
        "another organisation's member": other.as_member(other.ready_member("mentor")),
    }
    missing = f"/v1/pairs/{uuid.uuid4()}"
    for who, caller in others.items():
        for what in ("notes", "feedback", "objectives"):
            theirs, nobody = caller.get(f"{pair.path}/{what}"), caller.get(f"{missing}/{what}")
            assert comparable(theirs) == comparable(nobody), (who, what, theirs.body)
            assert theirs.status in (403, 404), (who, what)
            assert tag not in str(theirs.body)
    # Her organisation sees that they exist, as counts, never their text.
    state = pair.mentee_org.get(pair.path).ok()
    assert (state["counts"]["notes"], state["counts"]["feedback"]) == (2, 1)
    assert tag not in str(state)


def test_notes_and_feedback_are_read_a_page_at_a_time_oldest_first(make_pair):
    """A pair that meets for years writes hundreds of notes: they come a page at a
    time, with how many there are; a page out of bounds is a 422 naming it."""
    pair, other = make_pair(), make_pair()
    for n in range(5):
        pair.as_mentee.post(f"{pair.path}/notes", {"text": f"Note {n}"}).ok()
    other.as_mentee.post(f"{other.path}/notes", {"text": "Not theirs"}).ok()
    for (limit, offset), texts in {(2, 0): ["Note 0", "Note 1"], (2, 2): ["Note 2", "Note 3"],
                                   (2, 4): ["Note 4"], (10, 5): []}.items():
        page = pair.as_mentor.get(f"{pair.path}/notes",
                                  params={"limit": limit, "offset": offset}).ok()
        assert ([n["text"] for n in page["items"]], page["total"]) == (texts, 5)
    assert len(pair.as_mentor.get(f"{pair.path}/notes").ok()["items"]) == 5
    for params, field in (({"limit": 0}, "limit"), ({"limit": 501}, "limit"),
                          ({"offset": -1}, "offset"), ({"page": 2}, "page")):
        refused(pair.as_mentor.get(f"{pair.path}/notes", params=params), 422, field)
        refused(pair.as_mentor.get(f"{pair.path}/feedback", params=params), 422, field)
    session = held(pair.as_mentee, pair).ok()["id"]
    pair.as_mentee.post(f"{pair.path}/sessions/{session}/feedback", {"text": "Thanks"}).ok()
    feedback = pair.as_mentor.get(f"{pair.path}/feedback", params={"limit": 1}).ok()
    assert ([f["text"] for f in feedback["items"]], feedback["total"]) == (["Thanks"], 1)
    assert pair.as_mentor.get(f"{pair.path}/feedback",
                              params={"offset": 1}).ok() == {"items": [], "total": 1}


def test_r11_feedback_follows_a_held_session(pair):
    session = pair.as_mentee.post(f"{pair.path}/sessions", {
        "starts_at": later(days=2), "planned_minutes": 90, "modality": "remote"}).ok()["id"]
    refused(pair.as_mentee.post(f"{pair.path}/sessions/{session}/feedback",
                                {"text": "Too early"}), 422, "session_id", "R11")


def test_r8_the_organisation_writes_nothing_of_the_pair(pair):
    for path, body in ((f"{pair.path}/notes", {"text": "Admin note"}),
                       (f"{pair.path}/objectives", {"kind": "need", "text": "Admin need"})):
        refused(pair.mentee_org.post(path, body), 403, "X-Acting-Member", "R8")
    assert names(pair.pair_id) == ["PairOpened"]


def test_r8_no_text_of_the_pair_in_plaintext_on_kafka_in_logs_or_in_metrics(pair):
    tag = uuid.uuid4().hex[:10]
    markers = [f"Note{tag}", f"Objective{tag}", f"Feedback{tag}", f"Report{tag}"]
    session = held(pair.as_mentee, pair).ok()["id"]
    pair.as_mentee.post(f"{pair.path}/notes", {"text": markers[0]}).ok()
    pair.as_mentee.post(f"{pair.path}/objectives", {"kind": "objective",
                                                    "text": markers[1]}).ok()
    pair.as_mentor.post(f"{pair.path}/sessions/{session}/feedback", {"text": markers[2]}).ok()
    pair.as_mentee.post(f"{pair.path}/reports", {"details": markers[3]}).ok()

    key = pair.pair_id.encode()
    records = wait_until(
        lambda: (lambda rs: rs if sum(1 for k, _ in rs if k == key) >= 6 else None)(
            topic_bytes("sessions.events")),
        timeout=30, what="the pair's six events on sessions.events")
    ours = b"\n".join(value for k, value in records if k == key)
    for author in (pair.mentee, pair.mentor):
        assert f"enc:v1:pair-{pair.pair_id}-by-{author}:".encode() in ours, "texts travel sealed"
    assert b"enc:v1:moderators-1:" in ours, "report details sealed for moderators"
    everything = b"\n".join(value for _, value in records).lower()
    for marker in markers:
        assert marker.lower().encode() not in everything, f"{marker} on Kafka"
    for path in sorted((ROOT / ".stack" / "logs").glob("*.log")):
        text = path.read_text(errors="replace").lower()
        for marker in markers:
            assert marker.lower() not in text, f"{marker} in {path.name}"
    page = metrics_page()
    for value in (*markers, pair.pair_id, pair.mentor, pair.mentee):
        assert value not in page, f"{value} in the sessions metrics"


# -- R1/R2: reports of commercial solicitation ------------------------------------------------


def test_r2_either_member_reports_the_other_details_for_moderators_only(pair):
    session = held(pair.as_mentee, pair).ok()["id"]
    details = f"Offered paid coaching {uuid.uuid4().hex[:8]}"
    reported = pair.as_mentee.post(f"{pair.path}/reports", {
        "details": details, "session_ids": [session]})
    assert reported.status == 201, reported.body
    ((_, data, _),) = [e for e in store_events(pair.pair_id)
                       if e[0] == "CommercialSolicitationReported"]
    assert (data["reporter_id"], data["reported_member_id"], data["session_ids"]) == (
        pair.mentee, pair.mentor, [session])
    assert data["details"].startswith("enc:v1:moderators-1:")

    conf = stack_settings.load()
    keyring = Keyring(secrets.load("master"))
    with psycopg.connect(conf.database_url("sessions")) as conn, pytest.raises(Unreadable):
        keyring.box_open(conn, data["details"])  # not even the service that wrote it
    with psycopg.connect(conf.database_url("moderation")) as conn:
        assert keyring.box_open(conn, data["details"]) == details  # moderators only

    state = pair.state(pair.mentee_org)
    assert state["counts"]["reports"] == 1 and details not in str(state)
    pair.as_mentor.post(f"{pair.path}/reports", {"details": "She did first"}).ok()  # R9


def test_r1_no_price_or_fee_field_is_taken(pair):
    answer = pair.as_mentee.post(f"{pair.path}/held-sessions", {
        "started_at": ago(hours=2), "duration_minutes": 90, "modality": "remote",
        "price": 40})
    refused(answer, 422, "price")
    refused(pair.as_mentee.post(f"{pair.path}/reports", {"details": "x", "fee": 10}), 422,
            "fee")
    refused(pair.as_mentee.post(f"{pair.path}/reports", {
        "details": "x", "session_ids": [str(uuid.uuid4())]}), 404, "session_ids")
    assert names(pair.pair_id) == ["PairOpened"]


# -- reactions: PairEnded, MemberExcluded -----------------------------------------------------


def test_pair_ended_closes_the_pair_and_cancels_what_was_scheduled(pair):
    held(pair.as_mentee, pair).ok()
    upcoming = pair.as_mentor.post(f"{pair.path}/sessions", {
        "starts_at": later(days=5), "planned_minutes": 90, "modality": "remote"}).ok()["id"]
    end_pair(pair.mentee_org, pair.pair_id, ended_by=pair.mentee)
    state = wait_until(lambda: (lambda s: s if s["status"] == "closed" else None)(pair.state()),
                       what="the pair to close")
    assert state["close_cause"] == "pair_ended"
    cancelled = next(s for s in state["sessions"] if s["session_id"] == upcoming)
    assert (cancelled["state"], cancelled["cancelled_by"], cancelled["cancel_reason"]) == (
        "cancelled", None, "pair_ended")
    assert [s["state"] for s in state["sessions"]].count("held") == 1, "history stays"
    refused(pair.as_mentee.post(f"{pair.path}/notes", {"text": "After"}), 409, "pair_id")
    # A report is the one thing a closed pair still takes (R2).
    pair.as_mentee.post(f"{pair.path}/reports", {"details": "It was why I left"}).ok()


def test_r2_an_excluded_member_s_pairs_all_close(make_pair, new_organisation):
    org = new_organisation()
    email = f"seller-{uuid.uuid4().hex[:8]}@example.org"
    mentor = org.ready_member("mentor", email=email, capacity=3)
    first, second = make_pair(org, mentor=mentor), make_pair(org, mentor=mentor)
    upcoming = first.as_mentee.post(f"{first.path}/sessions", {
        "starts_at": later(days=3), "planned_minutes": 60, "modality": "remote"}).ok()["id"]
    publish_exclusion(mentor, email, org.organisation_id)
    for closed in (first, second):
        state = wait_until(
            lambda c=closed: (lambda s: s if s["status"] == "closed" else None)(c.state()),
            what="every pair of the excluded member to close")
        assert state["close_cause"] == "member_excluded"
    (session,) = first.state()["sessions"]
    assert (session["session_id"], session["state"], session["cancel_reason"]) == (
        upcoming, "cancelled", "member_excluded")


# -- the programme report for partners --------------------------------------------------------


def test_the_programme_report_is_aggregates_of_three_pairs_or_more(make_pair, new_organisation):
    org, small = new_organisation(), new_organisation()
    pairs = [make_pair(org) for _ in range(3)]
    for p in pairs:
        held(p.as_mentee, p).ok()
        objective = p.as_mentee.post(f"{p.path}/objectives", {
            "kind": "objective", "text": "Speak at a meetup"}).ok()["id"]
        p.as_mentee.post(f"{p.path}/objectives/{objective}/achievement").ok()
    make_pair(small)

    report = org.get("/v1/programme-report").ok()
    month = datetime.now(UTC).strftime("%Y-%m")
    assert report["organisation_id"] == org.organisation_id and report["k_anonymity"] == 3
    assert (report["active_pairs"], report["overdue_pairs"]) == (3, 0)
    assert report["objectives_achieved"] == 3
    held_months = report["sessions_held_per_month"]
    assert held_months.get(month) == 3 or sum(
        v for v in held_months.values() if isinstance(v, int)) == 3
    assert report["average_interval_days"] is None  # nobody met twice yet: nothing to average

    withheld = small.get("/v1/programme-report").ok()
    assert withheld["active_pairs"] == {"suppressed": True, "reason": "fewer than 3 pairs"}
    assert pairs[0].pair_id not in str(report)
    refused(pairs[0].as_mentee.get("/v1/programme-report"), 403, "X-Acting-Member")


def test_r3_a_member_whose_charter_is_stale_holds_no_session_but_may_still_report(
        operator, org):
    """R3: after a new charter version, a member holds sessions again only once she
    accepted it; reporting a solicitation (R1) is never held back."""
    mentor, mentee = org.ready_member("mentor"), org.ready_member("mentee")
    pair = form_pair(org, mentor, org, mentee)
    as_her = org.as_member(mentee)
    current = org.get("/v1/charter").ok()
    operator.post("/v1/operator/charters", {
        "text": current["text"] + f"\n(revised {uuid.uuid4().hex[:6]})",
        "mentor_commitments": current["commitments"]["mentor"],
        "mentee_commitments": current["commitments"]["mentee"]}).ok()

    def refused() -> bool:
        answer = as_her.post(f"/v1/pairs/{pair}/held-sessions", {
            "started_at": datetime.now(UTC).isoformat(), "duration_minutes": 60,
            "modality": "remote"})
        return answer.status == 422 and answer.body.get("rule") == "R3"

    wait_until(refused, what="sessions to refuse a stale charter (R3)")
    assert as_her.post(f"/v1/pairs/{pair}/reports", {"details": "A paid offer"}).status == 201
    as_her.accept_charter().ok()
    wait_until(lambda: as_her.post(f"/v1/pairs/{pair}/notes", {"text": "Back"}).status == 201,
               what="sessions to see her accept the new version")
