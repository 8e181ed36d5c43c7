"""Every event schema of the catalogue refuses bad data and names the field."""

from __future__ import annotations

import pytest

from contracts import catalogue, examples
from contracts.errors import ContractError
from contracts.registry import Registry
from contracts.tests.cases import (
    ALL_VERSIONS,
    every_field,
    ids,
    load_fields,
    non_nullable_fields,
    required_fields,
    wrong_value,
)

CORE_EVENTS = {
    "CharterAccepted": "identity",
    "PairFormed": "matching",
    "SessionHeld": "sessions",
    "CommercialSolicitationReported": "sessions",
    "MemberExcluded": "moderation",
    "ProfileFlagged": "moderation",
}


def refusal(name: str, version: int, data: dict) -> ContractError:
    with pytest.raises(ContractError) as caught:
        catalogue.validate(name, version, data)
    return caught.value


def test_the_core_events_are_in_their_contexts():
    for name, context in CORE_EVENTS.items():
        assert catalogue.context_of(name) == context


def test_every_context_has_events_and_every_event_a_context():
    assert set(catalogue.CONTEXTS) == {"identity", "matching", "sessions", "moderation"}
    for context in catalogue.CONTEXTS:
        assert catalogue.names(context), context
    assert sorted(n for c in catalogue.CONTEXTS for n in catalogue.names(c)) == catalogue.names()


def test_every_event_version_has_an_example():
    assert set(examples.EXAMPLES) == set(ALL_VERSIONS)


@pytest.mark.parametrize(("name", "version"), ALL_VERSIONS, ids=ids(ALL_VERSIONS))
def test_the_example_is_valid(name, version):
    data = examples.example(name, version)
    loaded = catalogue.validate(name, version, data)
    assert set(data) <= set(loaded) <= set(load_fields(name, version))


@pytest.mark.parametrize(
    ("name", "version", "field"), required_fields(), ids=ids(required_fields())
)
def test_a_missing_required_field_is_named(name, version, field):
    data = examples.example(name, version)
    data.pop(field, None)
    error = refusal(name, version, data)
    assert list(error.fields) == [field]
    assert field in str(error)
    assert "Missing data" in error.fields[field][0]


@pytest.mark.parametrize(("name", "version", "field"), every_field(), ids=ids(every_field()))
def test_a_wrong_type_is_named(name, version, field):
    data = examples.example(name, version)
    data[field] = wrong_value(load_fields(name, version)[field])
    error = refusal(name, version, data)
    assert field in error.fields, error.fields
    assert field in str(error)


@pytest.mark.parametrize(("name", "version", "field"), every_field(), ids=ids(every_field()))
def test_an_object_where_a_value_belongs_is_named(name, version, field):
    data = examples.example(name, version)
    data[field] = {"nested": "object"}
    assert field in refusal(name, version, data).fields


@pytest.mark.parametrize(
    ("name", "version", "field"), non_nullable_fields(), ids=ids(non_nullable_fields())
)
def test_null_is_refused_where_not_allowed(name, version, field):
    data = examples.example(name, version)
    data[field] = None
    assert field in refusal(name, version, data).fields


@pytest.mark.parametrize(("name", "version"), ALL_VERSIONS, ids=ids(ALL_VERSIONS))
def test_an_unknown_field_is_named(name, version):
    data = examples.example(name, version)
    data["surprise"] = "x"
    assert refusal(name, version, data).fields == {"surprise": ["Unknown field."]}


@pytest.mark.parametrize(("name", "version"), ALL_VERSIONS, ids=ids(ALL_VERSIONS))
def test_optional_fields_may_be_left_out(name, version):
    data = examples.example(name, version)
    optional = [k for k, f in load_fields(name, version).items() if not f.required]
    for key in optional:
        data.pop(key, None)
    if name == "MemberProfileUpdated":  # at least one change: keep one
        data["topics"] = ["software"]
    catalogue.validate(name, version, data)


def test_every_bad_field_is_named_at_once():
    data = examples.example("SessionHeld", 2)
    data.update(duration_minutes=30, modality="phone", held_by="nobody")
    del data["pair_id"]
    error = refusal("SessionHeld", 2, data)
    assert set(error.fields) == {"duration_minutes", "modality", "held_by", "pair_id"}
    assert isinstance(error, ValueError)


def test_nested_errors_are_flattened_to_a_path():
    data = examples.example("CharterAccepted", 1)
    data["commitments"] = ["mentee.confidentiality", "Not An Id"]
    assert list(refusal("CharterAccepted", 1, data).fields) == ["commitments.1"]


def test_data_that_is_not_an_object_is_refused():
    assert refusal("SessionHeld", 2, ["not", "a", "dict"]).fields  # type: ignore[arg-type]


def test_validate_loads_typed_values():
    loaded = catalogue.validate("SessionHeld", 2, examples.example("SessionHeld", 2))
    assert loaded["started_at"].utcoffset() is not None
    assert loaded["pair_id"] == examples.PAIR and isinstance(loaded["pair_id"], str)


def test_a_naive_timestamp_is_refused():
    data = examples.example("SessionHeld", 2)
    data["started_at"] = "2025-03-04T10:00:00"
    assert list(refusal("SessionHeld", 2, data).fields) == ["started_at"]


@pytest.mark.parametrize(
    ("name", "version", "named"),
    [("NoSuchEvent", 1, "name"), ("SessionHeld", 3, "version"), ("SessionHeld", 0, "version"),
     ("SessionHeld", True, "version")],
)
def test_an_unknown_event_or_version_is_refused_by_name(name, version, named):
    with pytest.raises(ContractError) as caught:
        catalogue.validate(name, version, {})
    assert named in caught.value.fields
    assert repr(name) in str(caught.value) or repr(version) in str(caught.value)
    with pytest.raises(ContractError):
        catalogue.schema(name, version)


def test_latest_version_and_versions():
    assert catalogue.latest_version("SessionHeld") == 2
    assert catalogue.versions("SessionHeld") == [1, 2]
    assert catalogue.latest_version("CharterAccepted") == 1
    with pytest.raises(ContractError, match="NoSuchEvent"):
        catalogue.latest_version("NoSuchEvent")
    with pytest.raises(ContractError, match="NoSuchEvent"):
        catalogue.context_of("NoSuchEvent")


class TestRegistryChecks:
    """The registry refuses an inconsistent catalogue at import time."""

    def schema(self):
        from contracts.events.base import EventData

        return type("Data", (EventData,), {})

    def test_a_version_gap_is_refused(self):
        registry = Registry()
        registry.event("sessions", "Thing", 1)(self.schema())
        registry.event("sessions", "Thing", 3)(self.schema())
        registry.upcaster("Thing", 1)(lambda d: d)
        with pytest.raises(ValueError, match=r"versions \[2\] are missing"):
            registry.check()

    def test_a_missing_upcaster_is_refused(self):
        registry = Registry()
        registry.event("sessions", "Thing", 1)(self.schema())
        registry.event("sessions", "Thing", 2)(self.schema())
        with pytest.raises(ValueError, match=r"no upcaster from versions \[1\]"):
            registry.check()

    def test_bad_registrations_are_refused(self):
        registry = Registry()
        with pytest.raises(ValueError, match="context"):
            registry.event("billing", "Thing", 1)(self.schema())
        with pytest.raises(ValueError, match="PascalCase"):
            registry.event("sessions", "thing_happened", 1)(self.schema())
        registry.event("sessions", "Thing", 1)(self.schema())
        with pytest.raises(ValueError, match="twice"):
            registry.event("sessions", "Thing", 1)(self.schema())
        with pytest.raises(ValueError, match="already registered"):
            registry.event("identity", "Thing", 2)(self.schema())
        with pytest.raises(ValueError, match="unregistered"):
            registry.upcaster("Thing", 2)(lambda d: d)
