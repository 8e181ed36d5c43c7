"""The weights of the criteria and the rest of matching's configuration.

Weights are configuration, not code: the service reads them from its config
file (a ``MATCHING`` section, for example)::

    MATCHING:
      weights: {topics: 4, languages: 1.5, modality: 1, region: 1, capacity: 1.5,
                organisation: 1}
      request_expiry_days: 7
      suggestions: 10

and builds ``MatchingConfig.from_mapping(config["MATCHING"])``. Any non-negative
numbers will do: they are normalised to sum to 1, which is what keeps every
score in [0, 1]. A wrong value is refused with an ``Invalid`` naming the field
(``weights.topics``), at start-up rather than at the first suggestion.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Self

from services.matching.domain.criteria import CRITERIA
from services.servicekit.errors import Invalid

__all__ = ["MatchingConfig", "Weights"]

#: Normalised weights sum to 1 up to float rounding; recorded ones are checked to this.
_TOLERANCE = 1e-9

#: How long a mentor has to answer a request, at most (a request cannot block a
#: mentee for a season).
MAX_EXPIRY_DAYS = 60
MAX_SUGGESTIONS = 100


def _number(value: Any, field: str) -> float:
    # bool is an int in Python; a "true" weight is a configuration mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise Invalid(f"Matching configuration: {field} must be a number, not {value!r}.",
                      field=field)
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise Invalid(f"Matching configuration: {field} must be a finite number >= 0, "
                      f"not {value!r}.", field=field)
    return number


def _integer(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"Matching configuration: {field} must be a whole number from {low} "
                      f"to {high}, not {value!r}.", field=field)
    return value


@dataclass(frozen=True)
class Weights:
    """One weight per criterion (``criteria.CRITERIA``), each in [0, 1], summing to 1.

    Build it with ``from_config`` (any non-negative numbers, normalised) or, for a
    recorded proposal, ``from_recorded`` (taken exactly as recorded, so that a
    re-derived score is bit for bit the recorded one).
    """

    topics: float
    languages: float
    modality: float
    region: float
    capacity: float
    organisation: float

    def __post_init__(self) -> None:
        for name in CRITERIA:
            value = _number(getattr(self, name), f"weights.{name}")
            if value > 1:
                raise Invalid(f"Matching configuration: weights.{name} must be at most 1 "
                              f"once normalised, not {value!r}.", field=f"weights.{name}")
        if abs(math.fsum(self.as_dict().values()) - 1) > _TOLERANCE:
            raise Invalid("Matching configuration: the weights must sum to 1.",
                          field="weights")

    @classmethod
    def _checked(cls, raw: Any, where: str = "weights") -> dict[str, float]:
        if not isinstance(raw, Mapping):
            raise Invalid(f"Matching configuration: {where} must be a mapping of "
                          f"{', '.join(CRITERIA)}.", field=where)
        unknown = sorted(set(raw) - set(CRITERIA), key=str)
        if unknown:
            raise Invalid(f"Matching configuration: {where}.{unknown[0]} is not a criterion "
                          f"(the criteria are {', '.join(CRITERIA)}).",
                          field=f"{where}.{unknown[0]}")
        missing = [name for name in CRITERIA if name not in raw]
        if missing:
            # Every weight is stated: a forgotten criterion silently weighing 0 would
            # change every score without anyone having decided it.
            raise Invalid(f"Matching configuration: {where}.{missing[0]} is missing "
                          "(state every criterion's weight, 0 to ignore one).",
                          field=f"{where}.{missing[0]}")
        return {name: _number(raw[name], f"{where}.{name}") for name in CRITERIA}

    @classmethod
    def from_config(cls, raw: Any) -> Self:
        """Non-negative numbers per criterion, normalised to sum to 1."""
        numbers_ = cls._checked(raw)
        total = math.fsum(numbers_.values())
        if total == 0:
            raise Invalid("Matching configuration: at least one weight must be above 0.",
                          field="weights")
        return cls(**{name: value / total for name, value in numbers_.items()})

    @classmethod
    def from_recorded(cls, raw: Any) -> Self:
        """Weights as a proposal recorded them (already normalised), unchanged."""
        return cls(**cls._checked(raw))

    def as_dict(self) -> dict[str, float]:
        """``{criterion: weight}`` in criterion order (the event's ``weights``)."""
        return asdict(self)


@dataclass(frozen=True)
class MatchingConfig:
    """What the matching service is configured with.

    ``request_expiry_days``: how many days a mentor has to answer a proposal
    before it expires (``MatchExpired``) and the mentee may ask the next one.
    ``suggestions``: how many mentors a mentee is shown when she does not say.
    """

    weights: Weights
    request_expiry_days: int = 7
    suggestions: int = 10

    def __post_init__(self) -> None:
        _integer(self.request_expiry_days, "request_expiry_days", 1, MAX_EXPIRY_DAYS)
        _integer(self.suggestions, "suggestions", 1, MAX_SUGGESTIONS)

    @classmethod
    def from_mapping(cls, raw: Any) -> Self:
        """From the service's config section; unknown keys are refused (a typo in a
        key would otherwise leave the default in force unnoticed)."""
        if not isinstance(raw, Mapping):
            raise Invalid("Matching configuration must be a mapping.", field="MATCHING")
        known = ("weights", "request_expiry_days", "suggestions")
        unknown = sorted(set(raw) - set(known), key=str)
        if unknown:
            raise Invalid(f"Matching configuration: unknown key {unknown[0]!r} (known: "
                          f"{', '.join(known)}).", field=str(unknown[0]))
        if "weights" not in raw:
            raise Invalid("Matching configuration: weights are missing.", field="weights")
        options = {key: raw[key] for key in known[1:] if key in raw}
        return cls(weights=Weights.from_config(raw["weights"]), **options)
