"""R1/R2, R9: either member reports the other for commercial solicitation,
details sealed for moderators (R8), naming the sessions concerned."""

from __future__ import annotations

import pytest

from contracts import catalogue
from services.servicekit.errors import Conflict, Invalid, NotFound, RuleViolation
from services.sessions.tests.unit.support import (
    FORMED,
    days,
    formed_pair,
    held_session,
    last,
    moderators_text,
    names,
    new_id,
    pair_text,
    refusal,
)

NOW = FORMED + days(5)


@pytest.mark.parametrize("reporter", ["mentor", "mentee"])
def test_r9_either_member_reports_the_other(reporter):
    pair = formed_pair()
    first = held_session(pair, FORMED + days(1))
    second = new_id()
    pair.schedule_session(second, pair.mentor_id, NOW + days(2), 60, "remote", NOW)
    by = pair.mentor_id if reporter == "mentor" else pair.mentee_id
    report = pair.report_solicitation(new_id(), by, moderators_text(), [first, second], NOW)
    data = last(pair)
    catalogue.validate("CommercialSolicitationReported", 2, data)
    assert (data["reporter_id"], data["reported_member_id"]) == (by, pair.other(by))
    assert data["session_ids"] == [first, second]
    assert report.reported_member_id == pair.other(by)


def test_a_report_may_name_no_session():
    pair = formed_pair()
    pair.report_solicitation(new_id(), pair.mentee_id, moderators_text(), [], NOW)
    assert last(pair)["session_ids"] == []


def test_r8_details_are_sealed_for_moderators_only():
    pair = formed_pair()
    for details in ("She offered paid coaching", pair_text(pair)):
        error = refusal(RuleViolation, pair.report_solicitation, new_id(), pair.mentee_id,
                        details, [], NOW)
        assert (error.rule, error.field) == ("R8", "details")


def test_the_sessions_named_are_the_pairs_each_once():
    pair = formed_pair()
    session = held_session(pair, FORMED + days(1))
    assert refusal(NotFound, pair.report_solicitation, new_id(), pair.mentee_id,
                   moderators_text(), [new_id()], NOW).field == "session_ids"
    assert refusal(Invalid, pair.report_solicitation, new_id(), pair.mentee_id,
                   moderators_text(), [session, session], NOW).field == "session_ids"
    assert refusal(Invalid, pair.report_solicitation, new_id(), pair.mentee_id,
                   moderators_text(), session, NOW).field == "session_ids"
    assert refusal(Invalid, pair.report_solicitation, new_id(), pair.mentee_id,
                   moderators_text(), [new_id() for _ in range(51)], NOW).field == (
        "session_ids")


def test_a_report_id_is_used_once():
    pair = formed_pair()
    report = new_id()
    pair.report_solicitation(report, pair.mentee_id, moderators_text(), [], NOW)
    assert refusal(Conflict, pair.report_solicitation, report, pair.mentor_id,
                   moderators_text(), [], NOW).field == "report_id"


def test_after_an_exclusion_the_other_member_can_still_report():
    pair = formed_pair()
    pair.on_member_excluded(pair.mentor_id, NOW)
    pair.report_solicitation(new_id(), pair.mentee_id, moderators_text(), [], NOW + days(1))
    assert names(pair)[-1] == "CommercialSolicitationReported"
