"""A member as the matching pool knows her: her profile vocabularies and what
decides her eligibility (charter acceptance, exclusion, erasure).

A ``Candidate`` is a value: each identity or moderation event gives a new one
(``registered``, ``with_profile``, ...), which is what a projection stores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Self

from services.matching.domain.profiles import MenteeProfile, MentorProfile
from services.servicekit.errors import Invalid

__all__ = ["Candidate"]

#: The profile fields ``MemberProfileUpdated`` v2 may change that matching scores on.
PROFILE_FIELDS = ("languages", "topics", "preferred_modality", "region", "capacity")


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """One member in one role (a person who is both registers twice, under one
    fingerprint).

    ``accepted_charter``: the last charter version she accepted for her role (R3);
    ``matching_scope``: her organisation's (``own`` until it opens it);
    ``excluded`` (R2) and ``erased`` are for good.
    """

    member_id: str
    organisation_id: str
    role: str
    fingerprint: str
    languages: frozenset[str]
    topics: frozenset[str]
    preferred_modality: str
    region: str | None
    capacity: int | None
    matching_scope: str = "own"
    accepted_charter: int | None = None
    excluded: bool = False
    erased: bool = False

    @classmethod
    def registered(cls, data: Mapping[str, Any], matching_scope: str = "own",
                   excluded: bool = False) -> Self:
        """From ``MemberRegistered`` v2 data (upcast). ``excluded``: her fingerprint
        was excluded before her registration reached matching (R2 holds whatever
        the order in which two topics are read)."""
        return cls(
            member_id=str(data["member_id"]),
            organisation_id=str(data["organisation_id"]),
            role=data["role"],
            fingerprint=data["identity_fingerprint"],
            languages=frozenset(data["languages"]),
            topics=frozenset(data["topics"]),
            preferred_modality=data["preferred_modality"],
            region=data["region"],
            capacity=data["capacity"],
            matching_scope=matching_scope,
            excluded=excluded,
        )

    def with_profile(self, data: Mapping[str, Any]) -> Self:
        """After ``MemberProfileUpdated`` v2: only the fields it carries change."""
        changes: dict[str, Any] = {}
        for name in PROFILE_FIELDS:
            if name in data:
                value = data[name]
                changes[name] = frozenset(value) if name in ("languages", "topics") else value
        return replace(self, **changes)

    def with_charter(self, role: str, version: int) -> Self:
        """After ``CharterAccepted``: an acceptance for another role is not hers (R3);
        an older version than the one she accepted changes nothing."""
        if role != self.role or (self.accepted_charter or 0) >= version:
            return self
        return replace(self, accepted_charter=version)

    def with_scope(self, matching_scope: str) -> Self:
        return replace(self, matching_scope=matching_scope)

    def as_excluded(self) -> Self:
        return replace(self, excluded=True)

    def as_erased(self) -> Self:
        """Her personal data is erased: matching keeps a tombstone (so a late event
        cannot bring her back) and forgets her profile vocabularies."""
        return replace(self, erased=True, languages=frozenset(), topics=frozenset(),
                       region=None, preferred_modality="either")

    def as_mentee(self) -> MenteeProfile:
        """Her profile as a mentee is scored (her topics are her needs)."""
        if self.role != "mentee":
            raise Invalid("This member is not a mentee.", field="mentee_id")
        return MenteeProfile(
            member_id=self.member_id, organisation_id=self.organisation_id,
            matching_scope=self.matching_scope, topics=self.topics,
            languages=self.languages, preferred_modality=self.preferred_modality,
            region=self.region, fingerprint=self.fingerprint,
        )

    def as_mentor(self, load: int) -> MentorProfile:
        """Her profile as a mentor is scored; ``load``: her active and pending pairs."""
        if self.role != "mentor" or self.capacity is None:
            raise Invalid("This member is not a mentor.", field="mentor_id")
        return MentorProfile(
            member_id=self.member_id, organisation_id=self.organisation_id,
            matching_scope=self.matching_scope, topics=self.topics,
            languages=self.languages, preferred_modality=self.preferred_modality,
            region=self.region, fingerprint=self.fingerprint, capacity=self.capacity,
            load=load,
        )
