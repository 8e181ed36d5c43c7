"""What a score is computed from: the mentee's and the mentor's profile vocabularies.

These are the *inputs* a proposal records (``to_inputs``) and re-derivation reads
back (``from_inputs``): vocabularies and ids only, never free text (R8). The
identity fingerprint is carried for the one check that needs it (the same
person on both sides) but is not an input of the score and is not recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from contracts.events.identity import MATCHING_SCOPES, PREFERRED_MODALITIES
from services.servicekit.errors import Invalid

__all__ = ["MenteeProfile", "MentorProfile"]


def _vocabulary(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


@dataclass(frozen=True, kw_only=True)
class _Profile:
    """What both sides have: topics (a mentee's needs, a mentor's expertise: one
    vocabulary of slugs), languages, how she prefers to meet, where, her
    organisation and its matching scope."""

    member_id: str
    organisation_id: str
    matching_scope: str
    topics: frozenset[str]
    languages: frozenset[str]
    preferred_modality: str
    region: str | None
    fingerprint: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # frozen: normalise through object.__setattr__ so lists given by callers
        # become the sets the formulas count on.
        object.__setattr__(self, "topics", _vocabulary(self.topics))
        object.__setattr__(self, "languages", _vocabulary(self.languages))
        if self.preferred_modality not in PREFERRED_MODALITIES:
            raise Invalid(f"Not a modality: {self.preferred_modality!r}.",
                          field="preferred_modality")
        if self.matching_scope not in MATCHING_SCOPES:
            raise Invalid(f"Not a matching scope: {self.matching_scope!r}.",
                          field="matching_scope")
        if not self.languages:
            raise Invalid("A member speaks at least one language.", field="languages")

    def to_inputs(self) -> dict[str, Any]:
        """The JSON form recorded in ``MatchProposed.inputs`` (sorted lists)."""
        return {
            "organisation_id": self.organisation_id,
            "matching_scope": self.matching_scope,
            "topics": sorted(self.topics),
            "languages": sorted(self.languages),
            "preferred_modality": self.preferred_modality,
            "region": self.region,
        }

    @classmethod
    def from_inputs(cls, member_id: str, inputs: Mapping[str, Any]) -> Self:
        """Back from recorded inputs (no fingerprint: it was not recorded)."""
        return cls(member_id=member_id, **_common(inputs))


@dataclass(frozen=True, kw_only=True)
class MenteeProfile(_Profile):
    """A mentee as matching scores her; her ``topics`` are her needs."""


@dataclass(frozen=True, kw_only=True)
class MentorProfile(_Profile):
    """A mentor as matching scores her: her expertise (``topics``) and the rest of a
    profile, plus her capacity and her ``load``: the mentees she has, active or
    pending, when the score is computed."""

    capacity: int
    load: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.capacity, bool) or not isinstance(self.capacity, int) or (
            self.capacity < 1
        ):
            raise Invalid("A mentor's capacity is a whole number >= 1.", field="capacity")
        if isinstance(self.load, bool) or not isinstance(self.load, int) or self.load < 0:
            raise Invalid("A mentor's load is a whole number >= 0.", field="load")

    @property
    def free_places(self) -> int:
        return max(self.capacity - self.load, 0)

    def to_inputs(self) -> dict[str, Any]:
        return {**super().to_inputs(), "capacity": self.capacity, "load": self.load}

    @classmethod
    def from_inputs(cls, member_id: str, inputs: Mapping[str, Any]) -> Self:
        return cls(member_id=member_id, capacity=int(inputs["capacity"]),
                   load=int(inputs["load"]), **_common(inputs))


def _common(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "organisation_id": str(inputs["organisation_id"]),
        "matching_scope": inputs["matching_scope"],
        "topics": frozenset(inputs["topics"]),
        "languages": frozenset(inputs["languages"]),
        "preferred_modality": inputs["preferred_modality"],
        "region": inputs["region"],
    }
