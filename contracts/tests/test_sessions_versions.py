"""The sessions context's newer versions: what their upcasters make of old
events, and the cross-field rules the new schemas add."""

from __future__ import annotations

import pytest

from contracts import catalogue, examples
from contracts.errors import ContractError


def errors(name: str, version: int, **changes) -> dict[str, list[str]]:
    data = examples.example(name, version) | changes
    try:
        catalogue.validate(name, version, data)
    except ContractError as error:
        return error.fields
    return {}


def upcast(name: str, version: int, **changes) -> dict:
    old = examples.example(name, version) | changes
    catalogue.validate(name, version, old)  # it was a valid old event
    latest, data = catalogue.upcast(name, version, old)
    assert latest == catalogue.latest_version(name)
    catalogue.validate(name, latest, data)
    return data


# -- upcasters -------------------------------------------------------------------------


@pytest.mark.parametrize(("session_id", "session_ids"), [
    (examples.example_id("session"), [examples.example_id("session")]),
    (None, []),
])
def test_a_v1_report_names_its_one_session_or_none(session_id, session_ids):
    data = upcast("CommercialSolicitationReported", 1, session_id=session_id)
    assert data["session_ids"] == session_ids
    assert "session_id" not in data


def test_a_v1_report_without_the_optional_session_reads_as_no_session():
    old = examples.example("CommercialSolicitationReported", 1)
    del old["session_id"]
    _, data = catalogue.upcast("CommercialSolicitationReported", 1, old)
    assert data["session_ids"] == []


def test_a_v1_cancellation_was_a_members_and_reads_unchanged():
    old = examples.example("SessionCancelled", 1)
    assert upcast("SessionCancelled", 1) == old


def test_a_v1_meeting_plan_has_no_next_dates():
    old = examples.example("MeetingPlanRecorded", 1)
    assert upcast("MeetingPlanRecorded", 1) == old | {"next_dates": []}


def test_a_v1_statement_is_an_objective():
    assert upcast("ObjectiveStated", 1)["kind"] == "objective"


# -- the new versions' own rules ---------------------------------------------------------


def test_the_platform_cancels_without_a_member_and_a_member_with_one():
    member = examples.MENTEE
    assert errors("SessionCancelled", 2, reason="pair_ended", cancelled_by=None) == {}
    assert errors("SessionCancelled", 2, reason="member_excluded", cancelled_by=None) == {}
    assert errors("SessionCancelled", 2, reason="unavailable", cancelled_by=member) == {}
    assert list(errors("SessionCancelled", 2, reason="pair_ended",
                       cancelled_by=member)) == ["cancelled_by"]
    assert list(errors("SessionCancelled", 2, reason="rescheduled",
                       cancelled_by=None)) == ["cancelled_by"]
    # v1 never knew the platform's reasons
    assert list(errors("SessionCancelled", 1, reason="pair_ended")) == ["reason"]


def test_a_closed_pair_states_one_cause():
    mentee, mentor = examples.MENTEE, examples.MENTOR
    ended = {"cause": "pair_ended", "excluded_member_id": None}
    excluded = {"cause": "member_excluded", "end_reason": None, "ended_by": None,
                "excluded_member_id": mentor}
    assert errors("PairClosed", 1, **ended) == {}
    assert errors("PairClosed", 1, **excluded) == {}
    assert errors("PairClosed", 1, **ended, end_reason="counterpart_excluded",
                  ended_by=None) == {}
    assert list(errors("PairClosed", 1, **ended, end_reason=None)) == ["end_reason"]
    assert list(errors("PairClosed", 1, **ended | {"excluded_member_id": mentor})) == [
        "excluded_member_id"]
    assert list(errors("PairClosed", 1, **ended, ended_by=None)) == ["ended_by"]
    assert list(errors("PairClosed", 1, **ended, end_reason="counterpart_excluded",
                       ended_by=mentee)) == ["ended_by"]
    assert list(errors("PairClosed", 1, **excluded | {"excluded_member_id": None})) == [
        "excluded_member_id"]
    assert list(errors("PairClosed", 1, **excluded | {"end_reason": "withdrawn"})) == [
        "end_reason"]
    assert list(errors("PairClosed", 1, **excluded | {"ended_by": mentee})) == ["ended_by"]
    assert list(errors("PairClosed", 1, cause="bored")) == ["cause"]


def test_a_pair_opens_with_two_people():
    assert list(errors("PairOpened", 1, mentee_id=examples.MENTOR)) == ["mentee_id"]


def test_next_dates_are_in_order_and_distinct():
    assert list(errors("MeetingPlanRecorded", 2,
                       next_dates=["2025-05-02", "2025-04-01"])) == ["next_dates"]
    assert list(errors("MeetingPlanRecorded", 2,
                       next_dates=["2025-04-01", "2025-04-01"])) == ["next_dates"]
    assert list(errors("MeetingPlanRecorded", 2, next_dates=["tomorrow"])) == ["next_dates.0"]
    assert list(errors("MeetingPlanRecorded", 2, interval_days=46)) == ["interval_days"]
    assert errors("MeetingPlanRecorded", 2, next_dates=[]) == {}


def test_a_report_names_each_session_once_and_never_the_reporter():
    session = examples.example_id("session")
    assert list(errors("CommercialSolicitationReported", 2,
                       session_ids=[session, session])) == ["session_ids"]
    assert list(errors("CommercialSolicitationReported", 2,
                       reported_member_id=examples.MENTEE)) == ["reported_member_id"]
    assert list(errors("CommercialSolicitationReported", 2,
                       session_ids=["not-an-id"])) == ["session_ids.0"]
    assert errors("CommercialSolicitationReported", 2, session_ids=[]) == {}


def test_statements_are_needs_expectations_or_objectives():
    for kind in ("need", "expectation", "objective"):
        assert errors("ObjectiveStated", 2, kind=kind) == {}
    assert list(errors("ObjectiveStated", 2, kind="wish")) == ["kind"]
    assert list(errors("ObjectiveStated", 2, text="plain words")) == ["text"]
