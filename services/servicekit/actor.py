"""Who a command or a query acts for, as the edges established it.

The gateway authenticates a partner's API key and, when the partner's front end
names one of its members (``X-Acting-Member``), checks with identity that she
belongs to that organisation and may act; the moderation API authenticates a
moderator. Services receive the result, never a credential, and decide with
it: what is private to a member or a pair (R8) needs ``kind == "member"``,
an organisation alone sees states and counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from services.servicekit.errors import Forbidden

Kind = Literal["organisation", "member", "operator", "moderator"]
KINDS: tuple[str, ...] = ("organisation", "member", "operator", "moderator")


@dataclass(frozen=True)
class Actor:
    kind: Kind
    organisation_id: str | None = None
    member_id: str | None = None
    role: str | None = None  # the member's role (mentor or mentee), R3
    moderator_id: str | None = None

    @classmethod
    def organisation(cls, organisation_id: str) -> Actor:
        return cls("organisation", organisation_id=organisation_id)

    @classmethod
    def member(cls, organisation_id: str, member_id: str, role: str) -> Actor:
        return cls("member", organisation_id=organisation_id, member_id=member_id, role=role)

    @classmethod
    def operator(cls) -> Actor:
        return cls("operator")

    @classmethod
    def moderator(cls, moderator_id: str) -> Actor:
        return cls("moderator", moderator_id=moderator_id)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Actor:
        if not isinstance(data, Mapping) or data.get("kind") not in KINDS:
            raise Forbidden("The call names no valid acting party.", field="actor")
        return cls(**{k: data.get(k) for k in
                      ("kind", "organisation_id", "member_id", "role", "moderator_id")})

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    # -- what a service asks of the acting party -------------------------------

    def as_member(self) -> Actor:
        """R8: private content (notes, objectives, feedback) is only ever read or
        written by one of the pair, acting as herself."""
        if self.kind != "member" or not self.member_id:
            raise Forbidden(
                "This acts for one member: name her with the X-Acting-Member header (R8).",
                field="X-Acting-Member", rule="R8",
            )
        return self

    def as_admin(self) -> str:
        """The organisation's own id, for what only its admins do: the organisation
        itself, not one of its members acting (no X-Acting-Member)."""
        organisation_id = self.in_organisation()
        if self.kind != "organisation":
            raise Forbidden("This is for the organisation itself (its admins), without "
                            "X-Acting-Member.", field="X-Acting-Member")
        return organisation_id

    def in_organisation(self) -> str:
        """The organisation whose data the call may see (organisation or its member)."""
        if self.kind not in ("organisation", "member") or not self.organisation_id:
            raise Forbidden("This needs a partner organisation's API key.")
        return self.organisation_id
