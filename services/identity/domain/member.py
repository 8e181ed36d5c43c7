"""A member: one person in one role (mentor or mentee) in one organisation.

Her personal values arrive sealed (the service encrypts under her key before
calling here): the aggregate decides on states and vocabularies only. Erasure
is recorded here; destroying the key is the service's part of the same
transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.eventcore.aggregate import Aggregate
from services.identity.domain.charter import CharterVersion, check_acceptance
from services.servicekit.crypto import member_key_id
from services.servicekit.errors import Conflict, Invalid, RuleViolation

#: What a profile update may change. Not the e-mail: it is her identity, fixed at
#: registration, and R2 recognises an excluded person by its fingerprint.
PROFILE_FIELDS = ("display_name", "bio", "expectations", "languages", "topics",
                  "preferred_modality", "region", "capacity")


class Member(Aggregate):
    kind = "member"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.organisation_id = ""
        self.role = ""
        self.fingerprint = ""
        self.preferred_modality = "either"
        self.region: str | None = None
        self.capacity: int | None = None
        self.accepted_version: int | None = None
        self.erased = False

    @classmethod
    def register(cls, member_id: str, organisation_id: str, role: str, fingerprint: str,
                 sealed: Mapping[str, str | None], profile: Mapping[str, Any],
                 now: datetime) -> Member:
        """A new member. R2 (an excluded identity never registers again) is checked by
        the caller against the exclusion registry, which this aggregate cannot see."""
        member = cls(member_id)
        member.partner_org = organisation_id
        member.record("MemberRegistered", {
            "member_id": member_id,
            "organisation_id": organisation_id,
            "role": role,
            "identity_fingerprint": fingerprint,
            "display_name": sealed["display_name"],
            "email": sealed["email"],
            "expectations": sealed.get("expectations"),
            "bio": sealed.get("bio"),
            "languages": list(profile["languages"]),
            "topics": list(profile.get("topics") or []),
            "preferred_modality": profile["preferred_modality"],
            "region": profile.get("region"),
            "capacity": profile.get("capacity"),
            "registered_at": now.isoformat(),
        })
        return member

    def _still_here(self) -> None:
        if self.erased:
            raise Conflict("This member's personal data was erased: she can no longer act "
                           "or be changed.", field="member_id")

    def update_profile(self, changes: Mapping[str, Any], now: datetime) -> None:
        """``changes``: sealed texts and vocabularies, only what changes."""
        self._still_here()
        unknown = set(changes) - set(PROFILE_FIELDS)
        if unknown:
            raise Invalid(f"Not a profile field: {', '.join(sorted(unknown))}.",
                          field=sorted(unknown)[0])
        if "capacity" in changes:
            if self.role == "mentee" and changes["capacity"] is not None:
                raise Invalid("Only a mentor has a capacity.", field="capacity")
            if self.role == "mentor" and changes["capacity"] is None:
                raise Invalid("A mentor keeps a capacity of at least 1.", field="capacity")
        if "expectations" in changes and self.role == "mentor":
            raise Invalid("Expectations are the mentee's (R4).", field="expectations")
        modality = changes.get("preferred_modality", self.preferred_modality)
        region = changes.get("region", self.region)
        if modality == "in_person" and region is None:
            raise Invalid("Meeting in person needs a region.", field="region")
        if not changes:
            raise Invalid("Name at least one field to change.")
        self.record("MemberProfileUpdated", {
            "member_id": self.id, **dict(changes), "updated_at": now.isoformat(),
        })

    def accept_charter(self, current: CharterVersion, version: int, commitments: list[str],
                       now: datetime) -> None:
        """R3: every commitment of her role, in the current version."""
        self._still_here()
        check_acceptance(current, self.role, version, commitments)
        if self.accepted_version == version:
            raise Conflict(f"Charter version {version} is already accepted.",
                           field="charter_version")
        self.record("CharterAccepted", {
            "member_id": self.id, "role": self.role, "charter_version": version,
            "commitments": list(current.of_role(self.role)), "accepted_at": now.isoformat(),
        })

    def erase(self, requested_by: str, now: datetime) -> str:
        """Record the erasure; returns the key id the caller must destroy with it."""
        if self.erased:
            raise Conflict("This member's personal data is already erased.")
        key_id = member_key_id(self.id)
        self.record("PersonalDataErased", {
            "member_id": self.id, "key_id": key_id, "requested_by": requested_by,
            "erased_at": now.isoformat(),
        })
        return key_id

    def charter_up_to_date(self, current: CharterVersion | None) -> bool:
        """R3: only a member who accepted the current version may be matched or meet."""
        return current is not None and self.accepted_version == current.version

    # -- apply -------------------------------------------------------------------------

    def when_member_registered(self, data: dict[str, Any]) -> None:
        self.organisation_id = data["organisation_id"]
        self.role = data["role"]
        self.fingerprint = data["identity_fingerprint"]
        self.preferred_modality = data.get("preferred_modality", "either")
        self.region = data.get("region")
        self.capacity = data.get("capacity")

    def when_member_profile_updated(self, data: dict[str, Any]) -> None:
        for name in ("preferred_modality", "region", "capacity"):
            if name in data:
                setattr(self, name, data[name])

    def when_charter_accepted(self, data: dict[str, Any]) -> None:
        self.accepted_version = int(data["charter_version"])

    def when_personal_data_erased(self, data: dict[str, Any]) -> None:
        self.erased = True


def refuse_excluded(fingerprint: str, excluded: bool) -> None:
    """R2: whoever broke R1 is excluded for good: the same identity never registers
    again, under any organisation, even after her personal data was erased."""
    if excluded:
        raise RuleViolation("R2", "This person was permanently excluded for commercial "
                            "solicitation and cannot register again.", field="email")
