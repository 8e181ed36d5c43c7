"""The matching context's newer versions: what the v1 -> v2 upcaster makes of an
old proposal, and the cross-field rules that keep a proposal explainable."""

from __future__ import annotations

import copy

import pytest

from contracts import catalogue, examples
from contracts.errors import ContractError
from contracts.events.matching import CRITERIA


def errors(name: str, version: int, data: dict) -> dict[str, list[str]]:
    try:
        catalogue.validate(name, version, data)
    except ContractError as error:
        return error.fields
    return {}


def proposal(**changes) -> dict:
    return examples.example("MatchProposed", 2) | changes


# -- upcaster ----------------------------------------------------------------------------


def test_a_v1_proposal_reads_as_an_unexplained_v2_one():
    old = examples.example("MatchProposed", 1)
    catalogue.validate("MatchProposed", 1, old)
    version, data = catalogue.upcast("MatchProposed", 1, old)
    assert version == 2
    assert data == old | {"source": None, "requested_by": None, "cohort_id": None,
                          "algorithm_version": None, "weights": None, "components": None,
                          "inputs": None}
    assert errors("MatchProposed", 2, data) == {}


# -- MatchProposed v2 --------------------------------------------------------------------


def test_the_example_components_sum_to_its_score():
    data = proposal()
    assert sum(data["components"][c] for c in CRITERIA) == pytest.approx(data["score"])
    assert sum(data["weights"][c] for c in CRITERIA) == pytest.approx(1)


def test_an_explanation_is_all_there_or_all_null():
    assert list(errors("MatchProposed", 2, proposal(inputs=None))) == ["inputs"]
    assert list(errors("MatchProposed", 2, proposal(algorithm_version=None))) == [
        "algorithm_version"]


def test_a_request_is_the_mentee_s_own_and_a_cohort_names_its_cohort():
    cohort = examples.example_id("cohort")
    assert list(errors("MatchProposed", 2, proposal(requested_by=examples.MENTOR))) == [
        "requested_by"]
    assert list(errors("MatchProposed", 2, proposal(cohort_id=cohort))) == ["cohort_id"]
    as_cohort = proposal(source="cohort", requested_by=None, cohort_id=cohort)
    assert errors("MatchProposed", 2, as_cohort) == {}
    assert list(errors("MatchProposed", 2, as_cohort | {"cohort_id": None})) == ["cohort_id"]
    assert list(errors("MatchProposed", 2, as_cohort | {"requested_by": examples.MENTEE})) == [
        "requested_by"]
    assert list(errors("MatchProposed", 2, proposal(source="gut_feeling"))) == ["source"]


def test_the_components_sum_to_the_score_and_stay_within_their_weights():
    assert list(errors("MatchProposed", 2, proposal(score=0.9))) == ["score"]
    data = proposal()
    data["components"]["region"] = 0.2  # over the weight of 0.1
    assert list(errors("MatchProposed", 2, data)) == ["components"]
    data = proposal()
    data["weights"]["topics"] = 0.5  # weights now sum to 1.1
    assert list(errors("MatchProposed", 2, data)) == ["weights"]


def test_a_nested_mistake_is_named_with_its_path_and_its_top_level_field():
    data = proposal()
    data["inputs"]["mentor"]["load"] = 2  # her capacity is 2: no free place
    fields = errors("MatchProposed", 2, data)
    assert {"inputs", "inputs.mentor", "inputs.mentor.load"} == set(fields)
    data = proposal()
    data["inputs"]["mentee"]["topics"] = ["Free text, not a slug"]  # R8
    assert "inputs.mentee.topics.0" in errors("MatchProposed", 2, data)
    data = proposal()
    data["weights"]["bias"] = 0.0
    assert set(errors("MatchProposed", 2, data)) == {"weights", "weights.bias"}


def test_a_proposal_expires_after_it_was_made():
    fields = errors("MatchProposed", 2, proposal(expires_at=examples.example(
        "MatchProposed", 2)["proposed_at"]))
    assert list(fields) == ["expires_at"]


def test_the_same_person_cannot_be_both_sides():
    assert "mentee_id" in errors("MatchProposed", 2, proposal(mentee_id=examples.MENTOR))


def test_the_inputs_are_vocabularies_not_text():
    data = proposal()
    data["inputs"]["mentor"]["region"] = "12 rue de la Paix, Paris"
    assert "inputs.mentor.region" in errors("MatchProposed", 2, data)
    data = copy.deepcopy(proposal())
    data["inputs"]["mentee"]["preferred_modality"] = "phone"
    assert "inputs.mentee.preferred_modality" in errors("MatchProposed", 2, data)


# -- ProposalWithdrawn -------------------------------------------------------------------


def withdrawal(**changes) -> dict:
    return examples.example("ProposalWithdrawn", 1) | changes


def test_the_platform_withdraws_without_a_member_and_a_member_with_one():
    assert errors("ProposalWithdrawn", 1, withdrawal(reason="counterpart_excluded",
                                                     withdrawn_by=None)) == {}
    assert list(errors("ProposalWithdrawn", 1, withdrawal(reason="counterpart_excluded"))) == [
        "withdrawn_by"]
    assert list(errors("ProposalWithdrawn", 1, withdrawal(withdrawn_by=None))) == [
        "withdrawn_by"]
    assert list(errors("ProposalWithdrawn", 1, withdrawal(reason="changed_my_mind"))) == [
        "reason"]
