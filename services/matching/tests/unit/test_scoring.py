"""One mentee, one mentor: each hard constraint excludes (and says so), each
criterion's value, and components that sum to the score."""

from __future__ import annotations

import math
import random

import pytest

from services.matching.domain.criteria import CRITERIA
from services.matching.domain.scoring import (
    Excluded,
    Score,
    Unmatchable,
    evaluate,
    exclusions,
    score,
)
from services.matching.domain.weights import Weights
from services.matching.tests.unit.factories import (
    OTHER_ORG,
    WEIGHTS,
    fingerprint,
    mentee,
    mentor,
    random_mentees,
    random_mentors,
)

# -- hard constraints ----------------------------------------------------------------------


def test_a_compatible_pair_breaks_no_constraint():
    assert exclusions(mentee(), mentor()) == ()


def test_the_same_person_on_both_sides_is_excluded():
    person = fingerprint("one person in both roles")
    assert exclusions(mentee(fingerprint=person), mentor(fingerprint=person)) == (
        "same_person",)


def test_no_shared_language_is_excluded():
    assert exclusions(mentee(languages={"fr"}), mentor(languages={"de", "en"})) == (
        "no_shared_language",)


@pytest.mark.parametrize(("mentee_modality", "mentor_modality", "excluded"), [
    ("remote", "in_person", True), ("in_person", "remote", True),
    ("remote", "remote", False), ("remote", "either", False), ("either", "in_person", False),
    ("in_person", "in_person", False), ("either", "either", False),
])
def test_only_remote_against_only_in_person_is_excluded(mentee_modality, mentor_modality,
                                                         excluded):
    broken = exclusions(mentee(preferred_modality=mentee_modality, region="fr-idf"),
                        mentor(preferred_modality=mentor_modality, region="fr-idf"))
    assert broken == (("incompatible_modality",) if excluded else ())


@pytest.mark.parametrize(("mentee_modality", "mentor_modality"), [
    ("in_person", "in_person"), ("in_person", "either"), ("either", "in_person"),
])
def test_meeting_in_person_in_different_regions_is_excluded(mentee_modality, mentor_modality):
    a = mentee(preferred_modality=mentee_modality, region="fr-idf")
    assert exclusions(a, mentor(preferred_modality=mentor_modality, region="fr-ara")) == (
        "different_region",)
    assert exclusions(a, mentor(preferred_modality=mentor_modality, region="fr-idf")) == ()


def test_regions_do_not_matter_when_they_can_meet_remotely():
    for mentee_modality, mentor_modality in [("either", "either"), ("remote", "either"),
                                             ("either", "remote")]:
        assert exclusions(mentee(preferred_modality=mentee_modality, region="fr-idf"),
                          mentor(preferred_modality=mentor_modality, region="be-bru")) == ()


def test_a_mentor_without_a_free_place_is_excluded():
    assert exclusions(mentee(), mentor(capacity=2, load=2)) == ("no_free_capacity",)
    assert exclusions(mentee(), mentor(capacity=2, load=1)) == ()


@pytest.mark.parametrize(("mentee_scope", "mentor_scope", "excluded"), [
    ("own", "own", True), ("open", "own", True), ("own", "open", True),
    ("open", "open", False),
])
def test_across_organisations_both_must_be_open(mentee_scope, mentor_scope, excluded):
    broken = exclusions(mentee(matching_scope=mentee_scope),
                        mentor(organisation_id=OTHER_ORG, matching_scope=mentor_scope))
    assert broken == (("organisation_not_open",) if excluded else ())
    # Within one organisation, its scope does not matter.
    assert exclusions(mentee(matching_scope=mentee_scope),
                      mentor(matching_scope=mentor_scope)) == ()


def test_every_broken_constraint_is_named_in_a_stable_order():
    person = fingerprint("both")
    broken = exclusions(
        mentee(fingerprint=person, languages={"fr"}, preferred_modality="remote"),
        mentor(fingerprint=person, languages={"de"}, preferred_modality="in_person",
               region="fr-idf", load=2, organisation_id=OTHER_ORG),
    )
    assert broken == ("same_person", "no_shared_language", "incompatible_modality",
                      "no_free_capacity", "organisation_not_open")


def test_an_excluded_pair_is_not_scored_and_says_why():
    outcome = evaluate(mentee(languages={"fr"}), mentor(languages={"de"}), WEIGHTS)
    assert outcome == Excluded(("no_shared_language",))
    with pytest.raises(Unmatchable) as caught:
        score(mentee(languages={"fr"}), mentor(languages={"de"}), WEIGHTS)
    assert caught.value.reasons == ("no_shared_language",)
    assert "no_shared_language" in caught.value.detail and caught.value.field == "mentor_id"


# -- criteria ------------------------------------------------------------------------------


def test_each_criterion_value():
    result = score(
        mentee(topics={"a", "b", "c"}, languages={"fr", "en"}, preferred_modality="either",
               region="fr-idf", matching_scope="open"),
        mentor(topics={"a", "c", "z"}, languages={"fr"}, preferred_modality="in_person",
               region="fr-idf", capacity=4, load=1, organisation_id=OTHER_ORG,
               matching_scope="open"),
        WEIGHTS,
    )
    assert result.values == {"topics": 2 / 3, "languages": 0.5, "modality": 0.5,
                             "region": 1.0, "capacity": 0.75, "organisation": 0.0}


def test_a_mentee_without_stated_needs_scores_nothing_on_topics():
    assert score(mentee(topics=set()), mentor(), WEIGHTS).values["topics"] == 0.0


def test_region_counts_only_when_they_could_meet_in_person():
    remote = score(mentee(preferred_modality="remote", region="fr-idf"),
                   mentor(preferred_modality="either", region="fr-idf"), WEIGHTS)
    either = score(mentee(preferred_modality="either", region="fr-idf"),
                   mentor(preferred_modality="either", region="fr-idf"), WEIGHTS)
    assert (remote.values["region"], either.values["region"]) == (0.0, 1.0)


def test_a_perfect_match_scores_one_and_a_weak_one_less():
    best = score(mentee(topics={"a"}, languages={"fr"}, preferred_modality="in_person",
                        region="fr-idf"),
                 mentor(topics={"a"}, languages={"fr"}, preferred_modality="in_person",
                        region="fr-idf", capacity=1, load=0), WEIGHTS)
    assert best.total == pytest.approx(1.0)
    weak = score(mentee(topics={"a"}), mentor(topics={"b"}, capacity=3, load=2), WEIGHTS)
    assert 0 < weak.total < best.total


def test_the_components_sum_to_the_score_on_many_pairs():
    rng = random.Random(7)
    scored = 0
    for a in random_mentees(rng, 40):
        for b in random_mentors(rng, 40):
            outcome = evaluate(a, b, WEIGHTS)
            if isinstance(outcome, Excluded):
                assert outcome.reasons == exclusions(a, b) != ()
                continue
            scored += 1
            assert isinstance(outcome, Score)
            assert 0 <= outcome.total <= 1
            assert math.fsum(outcome.components.values()) == pytest.approx(outcome.total,
                                                                            abs=1e-12)
            for c in CRITERIA:
                assert 0 <= outcome.values[c] <= 1
                assert outcome.components[c] == WEIGHTS.as_dict()[c] * outcome.values[c]
    assert scored > 100  # the property was exercised


def test_weights_change_the_score_not_the_values():
    a, b = mentee(topics={"software"}), mentor(topics={"leadership"})
    only_topics = Weights.from_config({"topics": 1, "languages": 0, "modality": 0,
                                       "region": 0, "capacity": 0, "organisation": 0})
    assert score(a, b, only_topics).total == 0.0
    assert score(a, b, only_topics).values == score(a, b, WEIGHTS).values
    assert score(a, b, WEIGHTS).total > 0


def test_an_explanation_a_partner_can_read():
    explained = score(mentee(), mentor(), WEIGHTS).explain()
    assert set(explained) == {"score", "algorithm_version", "criteria"}
    assert list(explained["criteria"]) == list(CRITERIA)
    for part in explained["criteria"].values():
        assert part["contribution"] == part["weight"] * part["value"]
