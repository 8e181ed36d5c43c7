"""Decisions (R2): four eyes to exclude, one to dismiss, a decision is final, no
reinstatement; what a confirmation records is exactly the contract's."""

from __future__ import annotations

import pytest

from contracts import catalogue
from contracts.examples import example_id
from services.moderation.domain.case import Case, CaseStatus, refuse_reinstatement
from services.moderation.domain.decision import DecisionPolicy, Tally
from services.moderation.tests.unit.history import (
    ALICE,
    BOB,
    CAROL,
    FINGERPRINT,
    MEMBER,
    Log,
    report,
    sealed_text,
)
from services.servicekit.errors import Conflict, Forbidden, Invalid, RuleViolation

DAVE = example_id("moderator dave")


def opened(log: Log) -> Case:
    """Case 1 of the member, opened by a first report, as a moderator loads it."""
    case = Case.open(report("first"), 1, log.now)
    log.save(case)
    return log.load(Case, case.id)


def vote(log: Log, case_id: str, moderator: str, quorum: int = 2,
         reason: str = "services_offered") -> Tally:
    """One moderator reads the case, votes to confirm, the service saves."""
    case = log.load(Case, case_id)
    tally = case.confirm(moderator, reason, sealed_text(f"rationale of {moderator}"),
                         seen_version=case.version, identity_fingerprint=FINGERPRINT,
                         now=log.tick(), policy=DecisionPolicy(quorum))
    log.save(case)
    return tally


def test_one_vote_to_confirm_excludes_no_one():
    log = Log()
    case = opened(log)
    tally = vote(log, case.id, ALICE)
    assert (tally.votes, tally.quorum, tally.reached, tally.missing) == (1, 2, False, 1)
    case = log.load(Case, case.id)
    assert case.status is CaseStatus.OPEN and not case.excluded
    assert log.names() == ["CaseOpened", "ExclusionConfirmed"]


def test_a_second_different_moderator_confirms_and_excludes_in_the_same_append():
    log = Log()
    case = opened(log)
    vote(log, case.id, ALICE, reason="payment_requested")
    before = len(log.stored)
    tally = vote(log, case.id, BOB)
    assert tally.reached and tally.moderator_ids == (ALICE, BOB)
    written = log.stored[before:]
    assert [e.name for e in written] == [
        "ExclusionConfirmed", "CaseConfirmed", "MemberExcluded", "ProfileFlagged"]
    confirmed, excluded, flagged = (e.data for e in written[1:])
    assert confirmed == {
        "case_id": case.id, "member_id": MEMBER, "reason": "payment_requested",
        "moderator_ids": [ALICE, BOB], "quorum": 2, "confirmed_at": written[0].data[
            "confirmed_at"]}
    assert excluded["permanent"] is True  # R2
    assert excluded["member_id"] == flagged["member_id"] == MEMBER
    assert excluded["identity_fingerprint"] == flagged["identity_fingerprint"] == FINGERPRINT
    assert flagged["flag"] == "commercial_solicitation"
    case = log.load(Case, case.id)
    assert (case.status, case.excluded, case.flagged, case.decided_by, case.quorum) == (
        CaseStatus.CONFIRMED, True, True, (ALICE, BOB), 2)


def test_quorum_three_needs_three_different_moderators():
    log = Log()
    case = opened(log)
    assert not vote(log, case.id, ALICE, quorum=3).reached
    assert vote(log, case.id, BOB, quorum=3).missing == 1
    assert "MemberExcluded" not in log.names()
    assert vote(log, case.id, CAROL, quorum=3).reached
    assert log.load(Case, case.id).decided_by == (ALICE, BOB, CAROL)
    assert log.stored[-3].data["quorum"] == 3


def test_the_quorum_in_force_at_each_vote_decides():
    # Configuration moved from 3 to 2 between the votes: the second vote decides.
    log = Log()
    case = opened(log)
    vote(log, case.id, ALICE, quorum=3)
    assert vote(log, case.id, BOB, quorum=2).reached
    assert log.stored[-3].name == "CaseConfirmed" and log.stored[-3].data["quorum"] == 2


def test_the_same_moderator_voting_twice_does_not_count_twice():
    log = Log()
    case = opened(log)
    vote(log, case.id, ALICE)
    case = log.load(Case, case.id)
    with pytest.raises(Forbidden) as caught:
        case.confirm(ALICE, "services_offered", sealed_text("again"), seen_version=case.version,
                     identity_fingerprint=FINGERPRINT, now=log.tick())
    assert caught.value.rule == "R2" and caught.value.field == "moderator_id"
    assert "different moderator" in caught.value.detail
    assert case.pending == [] and case.tally().votes == 1
    assert vote(log, case.id, BOB).reached  # a different one does


def test_a_moderator_id_spelt_in_capitals_is_still_the_same_moderator():
    log = Log()
    case = opened(log)
    vote(log, case.id, ALICE)
    case = log.load(Case, case.id)
    with pytest.raises(Forbidden):
        case.confirm(ALICE.upper(), "services_offered", sealed_text("x"),
                     seen_version=case.version, identity_fingerprint=FINGERPRINT,
                     now=log.now)


def test_a_dismissal_needs_one_moderator_and_lets_pending_votes_lapse():
    log = Log()
    case = opened(log)
    vote(log, case.id, ALICE)
    case = log.load(Case, case.id)
    case.dismiss(BOB, "insufficient_evidence", sealed_text("no proof"),
                 seen_version=case.version, now=log.tick())
    log.save(case)
    assert log.names()[-1] == "CaseDismissed"
    case = log.load(Case, case.id)
    assert (case.status, case.decided_by, case.reason, case.excluded) == (
        CaseStatus.DISMISSED, (BOB,), "insufficient_evidence", False)
    assert "MemberExcluded" not in log.names()


@pytest.mark.parametrize("outcome", ["confirmed", "dismissed"])
def test_a_decided_case_refuses_any_further_decision(outcome):
    log = Log()
    case = opened(log)
    if outcome == "confirmed":
        vote(log, case.id, ALICE)
        vote(log, case.id, BOB)
    else:
        case.dismiss(ALICE, "duplicate", sealed_text("dup"), seen_version=1, now=log.tick())
        log.save(case)
    stored = len(log.stored)
    case = log.load(Case, case.id)
    attempts = [
        lambda: case.confirm(CAROL, "services_offered", sealed_text("late"),
                             seen_version=case.version, identity_fingerprint=FINGERPRINT,
                             now=log.now),
        lambda: case.dismiss(CAROL, "not_commercial", sealed_text("late"),
                             seen_version=case.version, now=log.now),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict) as caught:
            attempt()
        assert f"already {outcome}" in caught.value.detail
        assert caught.value.field == "case_id"
        # Undoing a confirmation would be a reinstatement: the refusal names R2.
        assert caught.value.rule == ("R2" if outcome == "confirmed" else None)
    assert case.pending == [] and len(log.stored) == stored


@pytest.mark.parametrize("state", ["open", "confirmed", "dismissed"])
def test_reinstatement_is_refused_naming_r2_and_records_nothing(state):
    log = Log()
    case = opened(log)
    if state == "confirmed":
        vote(log, case.id, ALICE)
        vote(log, case.id, BOB)
    elif state == "dismissed":
        case.dismiss(ALICE, "duplicate", sealed_text("dup"), seen_version=1, now=log.tick())
        log.save(case)
    case = log.load(Case, case.id)
    with pytest.raises(RuleViolation) as caught:
        case.reinstate(CAROL)
    assert caught.value.rule == "R2" and caught.value.field == "member_id"
    assert "permanently" in caught.value.detail
    assert case.pending == []
    with pytest.raises(RuleViolation) as direct:
        refuse_reinstatement(MEMBER)
    assert direct.value.rule == "R2" and MEMBER in direct.value.detail


def test_there_is_no_event_a_reinstatement_could_record():
    names = catalogue.names("moderation")
    assert not [n for n in names if any(w in n.lower() for w in ("reinstat", "unexclu",
                                                                 "unflag", "reopen"))]


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [({"reason": "rude"}, "reason", None),
     ({"reason": "not_commercial"}, "reason", None),  # a dismissal's code, not a finding
     ({"rationale": "She sold me a course"}, "rationale", "R8"),
     ({"identity_fingerprint": "ada@example.org"}, "identity_fingerprint", None),
     ({"moderator_id": "alice"}, "moderator_id", None)],
)
def test_a_bad_vote_is_invalid_names_its_field_and_records_nothing(change, field, rule):
    log = Log()
    case = opened(log)
    args = {"moderator_id": ALICE, "reason": "services_offered",
            "rationale": sealed_text("ok"), "identity_fingerprint": FINGERPRINT} | change
    with pytest.raises(Invalid) as caught:
        case.confirm(args["moderator_id"], args["reason"], args["rationale"],
                     seen_version=case.version,
                     identity_fingerprint=args["identity_fingerprint"], now=log.now)
    assert caught.value.field == field and caught.value.rule == rule
    assert case.pending == [] and case.votes == []


@pytest.mark.parametrize(
    ("reason", "rationale", "field"),
    [("services_offered", sealed_text("x"), "reason"), ("not_commercial", "plain", "rationale")],
)
def test_a_bad_dismissal_is_invalid(reason, rationale, field):
    log = Log()
    case = opened(log)
    with pytest.raises(Invalid) as caught:
        case.dismiss(ALICE, reason, rationale, seen_version=case.version, now=log.now)
    assert caught.value.field == field
    assert case.pending == []


def test_a_decision_on_a_case_changed_since_it_was_read_is_refused():
    log = Log()
    case = opened(log)
    read_at = case.version
    joining = log.load(Case, case.id)
    joining.add_report(report("second"), log.tick())  # new evidence arrives meanwhile
    log.save(joining)
    case = log.load(Case, case.id)
    with pytest.raises(Conflict) as caught:
        case.dismiss(ALICE, "not_commercial", sealed_text("x"), seen_version=read_at,
                     now=log.now)
    assert caught.value.field == "case_version"
    assert "read it again" in caught.value.detail
    with pytest.raises(Invalid):
        case.dismiss(ALICE, "not_commercial", sealed_text("x"), seen_version="1",  # type: ignore[arg-type]
                     now=log.now)


def test_the_policy_never_allows_one_pair_of_eyes():
    assert DecisionPolicy().quorum == 2
    for bad in (1, 0, -2, True, 2.0, "2"):
        with pytest.raises(ValueError):
            DecisionPolicy(bad)  # type: ignore[arg-type]


def test_a_case_that_does_not_exist_is_not_found():
    from services.servicekit.errors import NotFound

    case = Case("11111111-1111-1111-1111-111111111111")
    with pytest.raises(NotFound):
        case.dismiss(ALICE, "duplicate", sealed_text("x"), seen_version=0, now=Log().now)
    with pytest.raises(NotFound):
        case.reinstate(ALICE)


def test_a_naive_clock_is_a_bug_not_a_local_time():
    from datetime import datetime

    with pytest.raises(ValueError, match="naive"):
        Case.open(report("first"), 1, datetime(2026, 3, 2, 9))


def test_a_case_stored_with_v1_events_is_read_upcast_and_decided():
    # A case opened and voted on before v2: no reporter, no sequence, no reason.
    log = Log()
    case_id = example_id("a v1 case")
    log.write(case_id, "CaseOpened", {"case_id": case_id, "reported_member_id": MEMBER,
                                      "report_id": report("old").report_id,
                                      "opened_at": log.now.isoformat()}, version=1)
    log.write(case_id, "ExclusionConfirmed", {
        "case_id": case_id, "moderator_id": ALICE, "rationale": sealed_text("old vote"),
        "confirmed_at": log.tick().isoformat()}, version=1)
    case = log.load(Case, case_id)
    assert (case.sequence, case.votes[0].reason) == (None, None)
    assert case.reports[report("old").report_id].reporter_id is None
    case.confirm(BOB, "sale_brokered", sealed_text("new vote"), seen_version=case.version,
                 identity_fingerprint=FINGERPRINT, now=log.tick())
    log.save(case)
    # The first vote with a reason names the exclusion's reason.
    assert log.stored[-3].name == "CaseConfirmed"
    assert log.stored[-3].data["reason"] == "sale_brokered"
