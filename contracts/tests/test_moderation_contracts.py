"""Moderation's versions: v1 cases and votes read as v2, and four eyes by contract (R2)."""

from __future__ import annotations

import copy

import pytest

from contracts import catalogue, examples
from contracts.errors import ContractError
from contracts.events.moderation import CONFIRMATION_REASONS, MIN_QUORUM
from contracts.examples.moderation import SECOND_MODERATOR


def test_case_opened_v1_reads_as_v2_with_the_unknowns_null():
    v1 = examples.example("CaseOpened", 1)
    stored = copy.deepcopy(v1)
    version, data = catalogue.upcast("CaseOpened", 1, v1)
    assert version == 2
    assert data == {**v1, "reporter_id": None, "sequence": None}
    assert v1 == stored  # the stored event is never modified
    catalogue.validate("CaseOpened", 2, data)


def test_exclusion_confirmed_v1_reads_as_a_v2_vote_without_a_reason():
    v1 = examples.example("ExclusionConfirmed", 1)
    version, data = catalogue.upcast("ExclusionConfirmed", 1, v1)
    assert (version, data) == (2, {**v1, "reason": None})
    catalogue.validate("ExclusionConfirmed", 2, data)


def test_new_code_writes_the_latest_versions():
    assert catalogue.latest_version("CaseOpened") == 2
    assert catalogue.latest_version("ExclusionConfirmed") == 2
    assert catalogue.latest_version("CaseConfirmed") == 1
    assert catalogue.context_of("CaseConfirmed") == "moderation"


def refused(name: str, version: int, **changes: object) -> list[str]:
    data = examples.example(name, version) | changes
    with pytest.raises(ContractError) as caught:
        catalogue.validate(name, version, data)
    return list(caught.value.fields)


def test_a_vote_names_a_reason_of_r1_or_nothing_else():
    for reason in CONFIRMATION_REASONS:
        catalogue.validate("ExclusionConfirmed", 2,
                           examples.example("ExclusionConfirmed", 2) | {"reason": reason})
    assert refused("ExclusionConfirmed", 2, reason="rude") == ["reason"]
    assert refused("ExclusionConfirmed", 2, rationale="She sold me a course") == ["rationale"]


def test_a_confirmation_needs_the_quorum_of_different_moderators():
    moderator = examples.example("CaseConfirmed", 1)["moderator_ids"][0]
    assert refused("CaseConfirmed", 1, moderator_ids=[moderator, moderator]) == ["moderator_ids"]
    assert refused("CaseConfirmed", 1, moderator_ids=[moderator]) == ["moderator_ids"]
    assert refused("CaseConfirmed", 1, quorum=3) == ["moderator_ids"]
    assert refused("CaseConfirmed", 1, quorum=1) == ["quorum"]
    three = [moderator, SECOND_MODERATOR, examples.example_id("third-moderator")]
    catalogue.validate("CaseConfirmed", 1, examples.example("CaseConfirmed", 1)
                       | {"moderator_ids": three, "quorum": 3})
    assert MIN_QUORUM == 2


def test_a_case_is_not_opened_by_the_reported_member_herself():
    member = examples.example("CaseOpened", 2)["reported_member_id"]
    assert refused("CaseOpened", 2, reporter_id=member) == ["reporter_id"]
    assert refused("CaseOpened", 2, sequence=0) == ["sequence"]
