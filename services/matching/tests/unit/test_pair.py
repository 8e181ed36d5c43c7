"""The pair's life: proposed, accepted by both (R9: either may decline), formed,
ended by either member or by an exclusion (R2); expiry; refusals naming their
rule. Every event it records passes the catalogue, and replaying them gives
the same pair."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts import catalogue
from services.matching.domain.eligibility import Eligibility
from services.matching.domain.pair import Pair
from services.matching.domain.proposal import Proposal
from services.matching.domain.scoring import Unmatchable, score
from services.matching.tests.unit.factories import (
    NOW,
    ORG,
    OTHER_ORG,
    WEIGHTS,
    fingerprint,
    mentee,
    mentor,
    uid,
)
from services.matching.tests.unit.stored import collect, replay
from services.servicekit.errors import Conflict, Forbidden, Invalid, NotFound, RuleViolation

PAIR = uid("pair")
COHORT = uid("cohort")
MENTEE, MENTOR = mentee(), mentor()
ADA, BEA = MENTEE.member_id, MENTOR.member_id
STRANGER = uid("stranger")
OK = (Eligibility(ADA), Eligibility(BEA))


def proposal(**mentor_changes) -> Proposal:
    their_mentor = mentor(**mentor_changes)
    return Proposal(MENTEE, their_mentor, score(MENTEE, their_mentor, WEIGHTS))


def requested() -> tuple[Pair, list]:
    pair = Pair.request(PAIR, proposal(), at=NOW, expiry_days=7, mentee_open_pairs=0,
                        mentor_load=0)
    return pair, collect(pair)


def from_cohort() -> tuple[Pair, list]:
    pair = Pair.propose_for_cohort(PAIR, proposal(), cohort_id=COHORT, at=NOW, expiry_days=7,
                                   mentee_open_pairs=0, mentor_load=0)
    return pair, collect(pair)


def accept(pair: Pair, member: str, at=NOW, mentee=OK[0], mentor=OK[1]) -> bool:
    return pair.accept(member, at, mentee=mentee, mentor=mentor)


def names(events: list) -> list[str]:
    return [name for name, _ in events]


def formed() -> tuple[Pair, list]:
    pair, history = requested()
    accept(pair, BEA)
    return pair, history + collect(pair)


# -- proposing ----------------------------------------------------------------------------------


def test_a_request_is_proposed_and_accepted_by_the_mentee_at_once():
    pair, events = requested()
    assert names(events) == ["MatchProposed", "MatchAccepted"]
    proposed, accepted = events[0][1], events[1][1]
    assert (proposed["source"], proposed["requested_by"], proposed["cohort_id"]) == (
        "request", ADA, None)
    assert accepted["member_id"] == ADA
    assert proposed["expires_at"] == (NOW + timedelta(days=7)).isoformat()
    assert (pair.state, pair.is_open, pair.accepted) == ("proposed", True, {ADA})
    assert pair.partner_org == MENTEE.organisation_id


def test_a_cohort_proposal_waits_for_both():
    pair, events = from_cohort()
    assert names(events) == ["MatchProposed"]
    assert (events[0][1]["source"], events[0][1]["cohort_id"]) == ("cohort", COHORT)
    assert accept(pair, ADA) is False
    assert accept(pair, BEA) is True
    assert names(collect(pair)) == ["MatchAccepted", "MatchAccepted", "PairFormed"]


def test_a_mentee_with_an_open_pair_cannot_ask_for_another():
    with pytest.raises(Conflict) as caught:
        Pair.request(PAIR, proposal(), at=NOW, expiry_days=7, mentee_open_pairs=1,
                     mentor_load=0)
    assert caught.value.field == "mentee_id"


def test_a_mentor_at_capacity_cannot_be_proposed():
    with pytest.raises(Conflict) as caught:
        Pair.request(PAIR, proposal(capacity=2, load=1), at=NOW, expiry_days=7,
                     mentee_open_pairs=0, mentor_load=2)  # a place went since she was scored
    assert caught.value.field == "mentor_id"


def test_a_hand_made_proposal_cannot_slip_past_a_hard_constraint():
    one = fingerprint("one person")
    herself = Proposal(mentee(fingerprint=one), mentor(fingerprint=one),
                       score(mentee(), mentor(), WEIGHTS))
    with pytest.raises(Unmatchable) as caught:
        Pair.request(PAIR, herself, at=NOW, expiry_days=7, mentee_open_pairs=0, mentor_load=0)
    assert caught.value.reasons == ("same_person",)


def test_times_must_carry_a_zone_and_a_proposal_lasts_a_day_at_least():
    with pytest.raises(Invalid):
        Pair.request(PAIR, proposal(), at=NOW.replace(tzinfo=None), expiry_days=7,
                     mentee_open_pairs=0, mentor_load=0)
    with pytest.raises(Invalid):
        Pair.request(PAIR, proposal(), at=NOW, expiry_days=0, mentee_open_pairs=0,
                     mentor_load=0)


# -- answering (R9) -------------------------------------------------------------------------------


def test_the_mentor_accepts_and_the_pair_forms():
    pair, _ = requested()
    assert accept(pair, BEA, at=NOW + timedelta(days=2)) is True
    events = collect(pair)
    assert names(events) == ["MatchAccepted", "PairFormed"]
    assert events[1][1] == {"pair_id": PAIR, "mentor_id": BEA, "mentee_id": ADA,
                            "mentor_organisation_id": MENTOR.organisation_id,
                            "mentee_organisation_id": MENTEE.organisation_id,
                            "formed_at": (NOW + timedelta(days=2)).isoformat()}
    assert pair.state == "formed"


def test_a_pair_across_two_organisations_names_both_when_it_forms():
    """PairFormed v2: sessions learns whose pair it is from the event itself."""
    theirs = mentor(organisation_id=OTHER_ORG, matching_scope="open")
    ours = mentee(matching_scope="open")
    pair = Pair.request(PAIR, Proposal(ours, theirs, score(ours, theirs, WEIGHTS)), at=NOW,
                        expiry_days=7, mentee_open_pairs=0, mentor_load=0)
    history = collect(pair)
    assert accept(pair, BEA) is True
    formed_event = collect(pair)[-1][1]
    assert (formed_event["mentor_organisation_id"], formed_event["mentee_organisation_id"]) \
        == (OTHER_ORG, ORG)
    assert pair.organisations == {ORG, OTHER_ORG}
    assert replay(PAIR, history).organisations == {ORG, OTHER_ORG}
    assert pair.partner_org == ORG, "a pair's events are its mentee's organisation's"


def test_a_v1_pair_formed_reads_with_unknown_organisations():
    old = {"pair_id": PAIR, "mentor_id": BEA, "mentee_id": ADA, "formed_at": NOW.isoformat()}
    catalogue.validate("PairFormed", 1, old)
    version, data = catalogue.upcast("PairFormed", 1, old)
    assert version == 2
    assert data == old | {"mentor_organisation_id": None, "mentee_organisation_id": None}
    catalogue.validate("PairFormed", 2, data)


@pytest.mark.parametrize("who", [ADA, BEA], ids=["mentee", "mentor"])
def test_either_member_may_decline_a_cohort_proposal(who):
    pair, _ = from_cohort()
    pair.decline(who, "not_a_fit", NOW)
    [(name, data)] = collect(pair)
    assert (name, data["member_id"], data["reason"]) == ("MatchDeclined", who, "not_a_fit")
    assert (pair.state, pair.is_open) == ("declined", False)


def test_the_mentor_declines_a_request():
    pair, _ = requested()
    pair.decline(BEA, "unavailable", NOW)
    assert pair.state == "declined"


def test_who_accepted_withdraws_rather_than_declines():
    pair, _ = requested()
    with pytest.raises(Conflict):
        pair.decline(ADA, "other", NOW)
    pair.withdraw(ADA, NOW)
    [(name, data)] = collect(pair)
    assert (name, data["reason"], data["withdrawn_by"]) == ("ProposalWithdrawn", "withdrawn",
                                                            ADA)
    assert pair.state == "withdrawn"


def test_who_did_not_accept_declines_rather_than_withdraws():
    pair, _ = requested()
    with pytest.raises(Conflict):
        pair.withdraw(BEA, NOW)


def test_a_decline_names_a_reason_code_not_free_text():
    pair, _ = requested()
    with pytest.raises(Invalid) as caught:
        pair.decline(BEA, "She seemed rude", NOW)  # R8: codes only
    assert caught.value.field == "reason"


def test_someone_outside_the_pair_finds_no_pair():
    pair, _ = requested()
    for command in (lambda: accept(pair, STRANGER), lambda: pair.decline(STRANGER, "other", NOW),
                    lambda: pair.withdraw(STRANGER, NOW),
                    lambda: pair.end(STRANGER, "completed", NOW)):
        with pytest.raises(NotFound):
            command()
    with pytest.raises(NotFound):
        Pair(uid("never proposed")).accept(ADA, NOW, mentee=OK[0], mentor=OK[1])


def test_accepting_twice_or_after_the_answer_is_a_conflict():
    pair, _ = requested()
    with pytest.raises(Conflict):
        accept(pair, ADA)  # she accepted by asking
    pair.decline(BEA, "unavailable", NOW)
    with pytest.raises(Conflict):
        accept(pair, BEA)


def test_r3_the_accepting_member_must_have_accepted_the_current_charter():
    pair, _ = requested()
    stale = Eligibility(BEA, ("charter_stale",))
    with pytest.raises(RuleViolation) as caught:
        accept(pair, BEA, mentor=stale)
    assert caught.value.rule == "R3"
    assert pair.state == "proposed" and not collect(pair)


def test_r3_the_pair_does_not_form_while_the_other_one_s_charter_is_stale():
    pair, _ = requested()
    with pytest.raises(RuleViolation) as caught:
        accept(pair, BEA, mentee=Eligibility(ADA, ("charter_stale",)))
    assert caught.value.rule == "R3"
    # Once she accepts the new version, the mentor's acceptance forms the pair.
    assert accept(pair, BEA) is True


def test_r2_an_excluded_member_cannot_accept():
    pair, _ = from_cohort()
    with pytest.raises(RuleViolation) as caught:
        accept(pair, ADA, mentee=Eligibility(ADA, ("excluded",)))
    assert caught.value.rule == "R2"


def test_the_pair_does_not_form_with_a_member_who_left_or_was_excluded():
    pair, _ = requested()
    with pytest.raises(Conflict):
        accept(pair, BEA, mentee=Eligibility(ADA, ("erased",)))
    with pytest.raises(RuleViolation) as caught:
        accept(pair, BEA, mentee=Eligibility(ADA, ("excluded",)))
    assert caught.value.rule == "R2"
    assert not collect(pair) and pair.state == "proposed"


def test_eligibility_of_other_members_is_a_mistake():
    pair, _ = requested()
    with pytest.raises(Invalid):
        accept(pair, BEA, mentor=Eligibility(STRANGER))


# -- expiry ---------------------------------------------------------------------------------------


def test_an_unanswered_request_expires_after_the_configured_days():
    pair, _ = requested()
    assert pair.expire(NOW + timedelta(days=7) - timedelta(seconds=1)) is False
    assert not collect(pair)
    assert pair.expire(NOW + timedelta(days=7)) is True
    [(name, _)] = collect(pair)
    assert name == "MatchExpired"
    assert (pair.state, pair.is_open) == ("expired", False)
    assert pair.expire(NOW + timedelta(days=8)) is False  # once


def test_an_expired_request_can_no_longer_be_accepted():
    pair, _ = requested()
    with pytest.raises(Conflict) as caught:
        accept(pair, BEA, at=NOW + timedelta(days=7, minutes=1))
    assert "expired" in caught.value.detail


def test_a_formed_pair_does_not_expire():
    pair, _ = formed()
    assert pair.expire(NOW + timedelta(days=30)) is False


# -- ending ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "reason"), [(ADA, "completed"), (BEA, "withdrawn"),
                                             (ADA, "withdrawn")],
                         ids=["mentee-completed", "mentor-withdrawn", "mentee-withdrawn"])
def test_r9_either_member_ends_the_pair(who, reason):
    pair, _ = formed()
    pair.end(who, reason, NOW)
    [(name, data)] = collect(pair)
    assert (name, data["reason"], data["ended_by"]) == ("PairEnded", reason, who)
    assert (pair.state, pair.is_open, pair.end_reason) == ("ended", False, reason)


def test_an_exclusion_is_not_a_member_s_reason():
    pair, _ = formed()
    with pytest.raises(Forbidden):
        pair.end(ADA, "counterpart_excluded", NOW)
    with pytest.raises(Invalid):
        pair.end(ADA, "bored", NOW)


def test_only_a_formed_pair_ends():
    pair, _ = requested()
    with pytest.raises(Conflict):
        pair.end(ADA, "completed", NOW)


# -- exclusion (R2) -------------------------------------------------------------------------------


@pytest.mark.parametrize("excluded", [ADA, BEA], ids=["mentee", "mentor"])
def test_r2_an_exclusion_ends_a_formed_pair_and_frees_the_other(excluded):
    pair, _ = formed()
    back_in_pool = pair.close_for_exclusion(excluded, NOW)
    assert back_in_pool == (BEA if excluded == ADA else ADA)
    [(name, data)] = collect(pair)
    assert (name, data["reason"], data["ended_by"]) == ("PairEnded", "counterpart_excluded",
                                                        None)
    assert not pair.is_open


@pytest.mark.parametrize("excluded", [ADA, BEA], ids=["mentee", "mentor"])
def test_r2_an_exclusion_withdraws_a_pending_proposal(excluded):
    pair, _ = requested()
    assert pair.close_for_exclusion(excluded, NOW) == pair.counterpart(excluded)
    [(name, data)] = collect(pair)
    assert (name, data["reason"], data["withdrawn_by"]) == (
        "ProposalWithdrawn", "counterpart_excluded", None)
    assert not pair.is_open


def test_r2_a_closed_pair_or_a_redelivered_exclusion_changes_nothing():
    pair, _ = formed()
    pair.end(ADA, "completed", NOW)
    collect(pair)
    assert pair.close_for_exclusion(BEA, NOW) is None
    assert not collect(pair)


# -- erasure ---------------------------------------------------------------------------------------


def test_an_erased_member_leaves_her_formed_pair_as_a_withdrawal():
    pair, _ = formed()
    assert pair.close_for_erasure(BEA, NOW) == ADA
    [(name, data)] = collect(pair)
    assert (name, data["reason"], data["ended_by"]) == ("PairEnded", "withdrawn", BEA)


def test_an_erased_member_s_pending_proposal_is_withdrawn_by_her():
    pair, _ = requested()
    assert pair.close_for_erasure(BEA, NOW) == ADA  # even though she had not accepted
    [(name, data)] = collect(pair)
    assert (name, data["reason"], data["withdrawn_by"]) == ("ProposalWithdrawn", "withdrawn",
                                                            BEA)
    assert pair.close_for_erasure(BEA, NOW) is None


# -- replay ---------------------------------------------------------------------------------------


def test_replaying_the_stored_events_gives_the_same_pair():
    pair, history = formed()
    pair.end(BEA, "completed", NOW + timedelta(days=200))
    history += collect(pair)
    again = replay(PAIR, history)
    assert (again.state, again.mentor_id, again.mentee_id, again.source, again.accepted,
            again.expires_at, again.end_reason, again.version) == (
        "ended", BEA, ADA, "request", {ADA, BEA}, NOW + timedelta(days=7), "completed", 5)


def test_a_replayed_proposal_can_still_be_answered_and_expire():
    _, history = requested()
    again = replay(PAIR, history)
    assert again.is_due(NOW + timedelta(days=7))
    assert accept(again, BEA) is True
