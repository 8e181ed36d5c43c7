"""A mentee's request, checked and scored; and re-deriving a recorded proposal
from its event alone gives the recorded score."""

from __future__ import annotations

import copy
import random
from dataclasses import replace

import pytest

from contracts import catalogue, examples
from services.matching.domain.cohort import assign_optimal
from services.matching.domain.criteria import ALGORITHM_VERSION
from services.matching.domain.pair import Pair
from services.matching.domain.proposal import (
    ALGORITHMS,
    Proposal,
    audit,
    propose,
    rederive,
    rederive_score,
)
from services.matching.domain.scoring import Unmatchable
from services.matching.domain.suggestions import MentorIndex
from services.matching.tests.unit.factories import (
    NOW,
    OTHER_ORG,
    WEIGHTS,
    candidate,
    random_mentees,
    random_mentors,
    uid,
)
from services.matching.tests.unit.stored import collect
from services.servicekit.errors import Conflict, Invalid, NotFound, RuleViolation

ADA = candidate("ada", "mentee", topics=frozenset({"software", "career_change"}))
BEA = candidate("bea", "mentor")


def request(proposal: Proposal, label: str = "pair") -> dict:
    """The recorded ``MatchProposed`` data of a request for ``proposal``."""
    pair = Pair.request(uid(label), proposal, at=NOW, expiry_days=7, mentee_open_pairs=0,
                        mentor_load=proposal.mentor.load)
    return next(data for name, data in collect(pair) if name == "MatchProposed")


# -- propose ------------------------------------------------------------------------------------


def test_a_request_between_eligible_compatible_members_is_scored():
    proposal = propose(ADA, BEA, charter_version=1, mentor_load=1, weights=WEIGHTS)
    assert proposal.mentor.load == 1
    assert proposal.score.values["capacity"] == 0.5
    assert proposal.score.values["topics"] == 0.5


@pytest.mark.parametrize(("mentee", "mentor", "rule", "field"), [
    (replace(ADA, accepted_charter=1), replace(BEA, accepted_charter=2), "R3", "mentee_id"),
    (replace(ADA, accepted_charter=2), replace(BEA, accepted_charter=None), "R3", "mentor_id"),
    (replace(ADA, accepted_charter=2, excluded=True), replace(BEA, accepted_charter=2), "R2",
     "mentee_id"),
    (replace(ADA, accepted_charter=2), replace(BEA, accepted_charter=2, excluded=True), "R2",
     "mentor_id"),
], ids=["mentee-charter-stale", "mentor-charter-not-accepted", "mentee-excluded",
        "mentor-excluded"])
def test_a_request_needs_both_members_eligible(mentee, mentor, rule, field):
    with pytest.raises(RuleViolation) as caught:
        propose(mentee, mentor, charter_version=2, mentor_load=0, weights=WEIGHTS)
    assert (caught.value.rule, caught.value.field) == (rule, field)


def test_an_erased_mentor_is_not_found():
    with pytest.raises(NotFound):
        propose(ADA, BEA.as_erased(), charter_version=1, mentor_load=0, weights=WEIGHTS)


def test_a_mentor_of_a_closed_organisation_is_not_found_rather_than_refused():
    elsewhere = candidate("elsewhere", "mentor", organisation_id=OTHER_ORG)
    with pytest.raises(NotFound):  # she is not the mentee's to see
        propose(ADA, elsewhere, charter_version=1, mentor_load=0, weights=WEIGHTS)
    both_open = propose(ADA.with_scope("open"), elsewhere.with_scope("open"),
                        charter_version=1, mentor_load=0, weights=WEIGHTS)
    assert both_open.score.values["organisation"] == 0.0


def test_a_hard_constraint_is_named():
    with pytest.raises(Unmatchable) as caught:
        propose(ADA, BEA.with_profile({"languages": ["de"]}), charter_version=1,
                mentor_load=0, weights=WEIGHTS)
    assert caught.value.reasons == ("no_shared_language",)


def test_a_full_mentor_is_a_conflict():
    with pytest.raises(Conflict) as caught:
        propose(ADA, BEA, charter_version=1, mentor_load=2, weights=WEIGHTS)
    assert caught.value.field == "mentor_id"


def test_roles_are_checked():
    with pytest.raises(Invalid):
        propose(BEA, ADA, charter_version=1, mentor_load=0, weights=WEIGHTS)


# -- re-derivation --------------------------------------------------------------------------------


def test_re_deriving_a_recorded_request_gives_its_score():
    proposal = propose(ADA, BEA, charter_version=1, mentor_load=1, weights=WEIGHTS)
    data = request(proposal)
    assert data["algorithm_version"] == ALGORITHM_VERSION
    assert rederive(data) == data["score"] == proposal.score.total
    assert dict(rederive_score(data).components) == data["components"]
    assert audit(data) == []


def test_re_deriving_every_suggested_and_cohort_proposal_gives_its_score():
    rng = random.Random(21)
    mentors = random_mentors(rng, 60, prefix="re")
    mentees = random_mentees(rng, 40, prefix="re")
    index = MentorIndex.build(mentors)
    checked = 0
    for k, mentee in enumerate(mentees):
        for suggestion in index.suggest(mentee, WEIGHTS, limit=3).items:
            data = request(Proposal.from_suggestion(mentee, suggestion), f"re {k} {checked}")
            assert rederive(data) == data["score"]
            checked += 1
    for k, pair in enumerate(assign_optimal(mentees, mentors, WEIGHTS).pairs):
        data = request(Proposal.from_cohort(pair, WEIGHTS), f"cohort {k}")
        assert rederive(data) == data["score"] == pair.total
        checked += 1
    assert checked > 50


def test_the_catalogue_example_re_derives():
    # The contract's example is a real algorithm-1 score, not invented numbers.
    data = examples.example("MatchProposed", 2)
    assert rederive(data) == pytest.approx(data["score"], abs=1e-12)
    assert audit(data) == []


def test_an_audit_finds_a_tampered_proposal():
    data = request(propose(ADA, BEA, charter_version=1, mentor_load=0, weights=WEIGHTS))
    tampered = copy.deepcopy(data)
    tampered["inputs"]["mentor"]["topics"] = ["software", "career_change"]
    findings = audit(tampered)
    assert any(f.startswith("score:") for f in findings)
    assert any(f.startswith("component topics:") for f in findings)
    crossed = copy.deepcopy(data)
    crossed["inputs"]["mentor"]["organisation_id"] = OTHER_ORG  # neither is open
    assert "hard constraint broken: organisation_not_open" in audit(crossed)


def test_a_v1_proposal_cannot_be_re_derived_and_says_so():
    _, upcast = catalogue.upcast("MatchProposed", 1, examples.example("MatchProposed", 1))
    with pytest.raises(Invalid) as caught:
        rederive(upcast)
    assert caught.value.field == "algorithm_version"
    assert "v1" in caught.value.detail


def test_an_unknown_algorithm_version_is_refused_and_the_current_one_is_kept():
    assert ALGORITHM_VERSION in ALGORITHMS
    data = examples.example("MatchProposed", 2) | {"algorithm_version": 99}
    with pytest.raises(Invalid):
        rederive(data)
