"""Old versions are read through upcasters, never rewritten."""

from __future__ import annotations

import copy

import pytest

from contracts import catalogue, examples
from contracts.errors import ContractError
from contracts.tests.cases import ALL_VERSIONS, ids


def test_session_held_v1_reads_as_v2():
    v1 = examples.example("SessionHeld", 1)
    version, data = catalogue.upcast("SessionHeld", 1, v1)
    assert version == 2
    assert data == {
        "pair_id": v1["pair_id"],
        "session_id": v1["session_id"],
        "started_at": v1["started_at"],
        "duration_minutes": 90,
        "modality": "remote",
        "held_by": v1["recorded_by"],
    }
    catalogue.validate("SessionHeld", 2, data)


@pytest.mark.parametrize(
    ("hours", "mode", "minutes", "modality"),
    [(1, "online", 60, "remote"), (2.0, "face_to_face", 120, "in_person"),
     (1.25, "face_to_face", 75, "in_person"), (1.9999, "online", 120, "remote")],
)
def test_session_held_v1_hours_and_modes(hours, mode, minutes, modality):
    v1 = examples.example("SessionHeld", 1) | {"duration_hours": hours, "mode": mode}
    catalogue.validate("SessionHeld", 1, v1)  # it was a valid v1 event
    _, data = catalogue.upcast("SessionHeld", 1, v1)
    assert (data["duration_minutes"], data["modality"]) == (minutes, modality)
    assert isinstance(data["duration_minutes"], int)
    catalogue.validate("SessionHeld", 2, data)


def test_v1_refuses_what_v2_would_not_hold():
    # v1's own bounds (1..2 hours) are what keep upcast data within R6.
    with pytest.raises(ContractError, match="duration_hours"):
        catalogue.validate("SessionHeld", 1, examples.example("SessionHeld", 1)
                           | {"duration_hours": 2.5})


def test_upcast_never_modifies_the_stored_event():
    v1 = examples.example("SessionHeld", 1)
    stored = copy.deepcopy(v1)
    catalogue.upcast("SessionHeld", 1, v1)
    assert v1 == stored


def test_the_latest_version_passes_through_as_a_copy():
    v2 = examples.example("SessionHeld", 2)
    version, data = catalogue.upcast("SessionHeld", 2, v2)
    assert (version, data) == (2, v2)
    assert data is not v2


@pytest.mark.parametrize(("name", "version"), ALL_VERSIONS, ids=ids(ALL_VERSIONS))
def test_every_version_upcasts_to_valid_latest_data(name, version):
    latest, data = catalogue.upcast(name, version, examples.example(name, version))
    assert latest == catalogue.latest_version(name)
    catalogue.validate(name, latest, data)


@pytest.mark.parametrize(
    ("name", "version", "named"),
    [("SessionHeld", 3, "version"), ("SessionHeld", 0, "version"), ("SessionHeld", -1, "version"),
     ("SessionHeld", "1", "version"), ("SessionHeldV1", 1, "name"), ("", 1, "name")],
)
def test_a_too_new_or_unknown_version_is_refused(name, version, named):
    with pytest.raises(ContractError) as caught:
        catalogue.upcast(name, version, {})
    assert named in caught.value.fields
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("role, capacity", [("mentor", 1), ("mentee", None)])
def test_member_registered_v1_reads_as_v2_with_safe_matching_defaults(role, capacity):
    v1 = examples.example("MemberRegistered", 1)
    v1["role"] = role
    version, data = catalogue.upcast("MemberRegistered", 1, v1)
    assert version == 2
    assert catalogue.validate("MemberRegistered", 2, data)
    assert (data["preferred_modality"], data["region"], data["capacity"]) == (
        "either", None, capacity)
    assert data["expectations"] is None and data["bio"] is None


def test_a_profile_update_v1_reads_as_the_same_change_in_v2():
    v1 = examples.example("MemberProfileUpdated", 1)
    version, data = catalogue.upcast("MemberProfileUpdated", 1, v1)
    assert (version, data) == (2, v1)
    assert catalogue.validate("MemberProfileUpdated", 2, data)
