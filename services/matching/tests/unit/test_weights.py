"""Weights and the rest of the configuration: read from a mapping, validated, and
refused with an error naming the field."""

from __future__ import annotations

import math

import pytest

from services.matching.domain.criteria import CRITERIA, CRITERION_MEANINGS, EXCLUSION_MEANINGS
from services.matching.domain.criteria import EXCLUSIONS as EXCLUSION_CODES
from services.matching.domain.weights import MatchingConfig, Weights
from services.servicekit.errors import Invalid

RAW = {"topics": 4, "languages": 1.5, "modality": 1, "region": 1, "capacity": 1.5,
       "organisation": 1}


def refused(call, *args) -> Invalid:
    with pytest.raises(Invalid) as caught:
        call(*args)
    return caught.value


def test_every_criterion_and_constraint_is_explained():
    assert set(CRITERION_MEANINGS) == set(CRITERIA)
    assert set(EXCLUSION_MEANINGS) == set(EXCLUSION_CODES)


def test_configured_weights_are_normalised_to_sum_to_one():
    weights = Weights.from_config(RAW)
    assert math.fsum(weights.as_dict().values()) == pytest.approx(1, abs=1e-12)
    assert weights.topics == pytest.approx(0.4)
    assert weights.modality == pytest.approx(0.1)
    assert list(weights.as_dict()) == list(CRITERIA)


def test_recorded_weights_are_taken_exactly():
    weights = Weights.from_config(RAW)
    again = Weights.from_recorded(weights.as_dict())
    assert again == weights


@pytest.mark.parametrize(("change", "field"), [
    ({"topics": -1}, "weights.topics"),
    ({"region": "high"}, "weights.region"),
    ({"capacity": True}, "weights.capacity"),
    ({"languages": float("nan")}, "weights.languages"),
    ({"modality": float("inf")}, "weights.modality"),
    ({"organisation": None}, "weights.organisation"),
    ({"seniority": 1}, "weights.seniority"),
])
def test_a_bad_weight_is_named(change, field):
    error = refused(Weights.from_config, RAW | change)
    assert error.field == field
    assert field in error.detail


def test_a_missing_weight_is_named_not_silently_zero():
    raw = dict(RAW)
    del raw["region"]
    error = refused(Weights.from_config, raw)
    assert error.field == "weights.region"
    assert "missing" in error.detail


def test_weights_that_are_all_zero_are_refused():
    assert refused(Weights.from_config, dict.fromkeys(CRITERIA, 0)).field == "weights"


def test_weights_must_be_a_mapping():
    assert refused(Weights.from_config, [1, 2, 3]).field == "weights"


def test_recorded_weights_must_sum_to_one():
    assert refused(Weights.from_recorded, dict.fromkeys(CRITERIA, 0.5)).field == "weights"


def test_the_whole_configuration():
    config = MatchingConfig.from_mapping({"weights": RAW, "request_expiry_days": 10,
                                          "suggestions": 5})
    assert (config.request_expiry_days, config.suggestions) == (10, 5)
    assert config.weights == Weights.from_config(RAW)
    defaults = MatchingConfig.from_mapping({"weights": RAW})
    assert (defaults.request_expiry_days, defaults.suggestions) == (7, 10)


@pytest.mark.parametrize(("raw", "field"), [
    ({}, "weights"),
    ({"weights": RAW, "request_expiry_days": 0}, "request_expiry_days"),
    ({"weights": RAW, "request_expiry_days": 365}, "request_expiry_days"),
    ({"weights": RAW, "request_expiry_days": "7"}, "request_expiry_days"),
    ({"weights": RAW, "suggestions": 0}, "suggestions"),
    ({"weights": RAW, "suggestions": 2.5}, "suggestions"),
    ({"weights": RAW, "sugestions": 5}, "sugestions"),
    ({"weights": RAW | {"topics": -4}}, "weights.topics"),
    ("weights: 1", "MATCHING"),
])
def test_a_bad_configuration_is_named(raw, field):
    assert refused(MatchingConfig.from_mapping, raw).field == field
