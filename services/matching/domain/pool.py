"""The pool of candidates, kept from identity's and moderation's events.

``Pool.apply(name, data)`` folds one event (its data upcast to the latest
version, as eventcore delivers it) and returns a ``PoolChange``: who left the
pool and who joined it, so that the service can act at once (end the pairs of
an excluded member, count pool sizes) and its metrics follow. Applying is
order-tolerant where Kafka does not order: identity's and moderation's topics
are read independently, and within identity the charter's and a member's
events have different keys.

The service may hold a ``Pool`` in memory (rebuilt from the topics) or mirror
the same rules in a PostgreSQL projection using ``Candidate`` and
``eligibility``: the decisions are the ones here either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from services.matching.domain.candidate import Candidate
from services.matching.domain.eligibility import Eligibility, eligibility
from services.servicekit.errors import NotFound

__all__ = ["POOL_EVENTS", "Pool", "PoolChange"]

#: The events the pool folds (anything else is ignored).
POOL_EVENTS = frozenset({
    "MemberRegistered", "MemberProfileUpdated", "CharterPublished", "CharterAccepted",
    "PersonalDataErased", "OrganisationPolicyChanged", "MemberExcluded",
})


@dataclass(frozen=True)
class PoolChange:
    """Members whose eligibility an event changed."""

    left: frozenset[str] = frozenset()
    joined: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.left or self.joined)


class Pool:
    """Every member matching knows, eligible or not, and the state eligibility
    depends on: the current charter version, organisations' matching scopes,
    excluded fingerprints."""

    def __init__(self) -> None:
        self.members: dict[str, Candidate] = {}
        self.charter_version: int | None = None
        self.scopes: dict[str, str] = {}
        #: R2: an exclusion bars the person (fingerprint), in every role and
        #: organisation, including a registration matching reads after it.
        self.excluded_fingerprints: set[str] = set()

    # -- reading -------------------------------------------------------------------------

    def candidate(self, member_id: str) -> Candidate:
        try:
            return self.members[member_id]
        except KeyError:
            raise NotFound("No such member.", field="member_id") from None

    def eligibility(self, member_id: str) -> Eligibility:
        return eligibility(self.candidate(member_id), self.charter_version)

    def eligible(self, role: str | None = None,
                 organisation_id: str | None = None) -> list[Candidate]:
        """Eligible candidates (of ``role``, of ``organisation_id``), by member id."""
        return [
            c for _, c in sorted(self.members.items())
            if (role is None or c.role == role)
            and (organisation_id is None or c.organisation_id == organisation_id)
            and eligibility(c, self.charter_version).eligible
        ]

    def sizes(self) -> dict[tuple[str, str], int]:
        """``{(organisation_id, role): eligible count}``: the pool-size metric."""
        counts: dict[tuple[str, str], int] = {}
        for c in self.eligible():
            counts[(c.organisation_id, c.role)] = counts.get((c.organisation_id, c.role), 0) + 1
        return counts

    def same_person(self, fingerprint: str) -> list[str]:
        """Member ids registered under ``fingerprint`` (one per role), sorted."""
        return sorted(m for m, c in self.members.items() if c.fingerprint == fingerprint)

    # -- folding events ------------------------------------------------------------------

    def apply(self, name: str, data: Mapping[str, Any]) -> PoolChange:
        """Fold one event; the change in eligibility it caused."""
        handler: Callable[[Mapping[str, Any]], None] | None = {
            "MemberRegistered": self._registered,
            "MemberProfileUpdated": self._profile_updated,
            "CharterPublished": self._charter_published,
            "CharterAccepted": self._charter_accepted,
            "PersonalDataErased": self._erased,
            "OrganisationPolicyChanged": self._policy_changed,
            "MemberExcluded": self._excluded,
        }.get(name)
        if handler is None:
            return PoolChange()
        # Eligibility of whoever the event may concern, before and after it.
        before = {m: self._is_eligible(m) for m in self._affected(name, data)}
        handler(data)
        after = {m: self._is_eligible(m) for m in set(before) | set(self._affected(name, data))}
        return PoolChange(
            left=frozenset(m for m, now in after.items() if before.get(m) and not now),
            joined=frozenset(m for m, now in after.items() if now and not before.get(m)),
        )

    def _is_eligible(self, member_id: str) -> bool:
        candidate = self.members.get(member_id)
        return candidate is not None and eligibility(candidate, self.charter_version).eligible

    def _affected(self, name: str, data: Mapping[str, Any]) -> list[str]:
        if name == "CharterPublished":
            return list(self.members)
        if name == "OrganisationPolicyChanged":
            return []  # a scope changes who meets whom, not who is in the pool
        if name == "MemberExcluded":
            return [data["member_id"], *self.same_person(data["identity_fingerprint"])]
        return [data["member_id"]]

    def _registered(self, data: Mapping[str, Any]) -> None:
        member_id = str(data["member_id"])
        if member_id in self.members:
            return  # registration happens once; a replay changes nothing
        self.members[member_id] = Candidate.registered(
            data,
            matching_scope=self.scopes.get(str(data["organisation_id"]), "own"),
            excluded=data["identity_fingerprint"] in self.excluded_fingerprints,  # R2
        )

    def _profile_updated(self, data: Mapping[str, Any]) -> None:
        member_id = str(data["member_id"])
        candidate = self.members.get(member_id)
        if candidate is not None and not candidate.erased:
            self.members[member_id] = candidate.with_profile(data)

    def _charter_published(self, data: Mapping[str, Any]) -> None:
        # R3: the newest version is the current one; every earlier acceptance is stale.
        self.charter_version = max(self.charter_version or 0, int(data["charter_version"]))

    def _charter_accepted(self, data: Mapping[str, Any]) -> None:
        member_id = str(data["member_id"])
        candidate = self.members.get(member_id)
        if candidate is not None:
            self.members[member_id] = candidate.with_charter(data["role"],
                                                             int(data["charter_version"]))

    def _erased(self, data: Mapping[str, Any]) -> None:
        member_id = str(data["member_id"])
        candidate = self.members.get(member_id)
        if candidate is not None:
            self.members[member_id] = candidate.as_erased()

    def _policy_changed(self, data: Mapping[str, Any]) -> None:
        organisation_id = str(data["organisation_id"])
        scope = data["matching_scope"]
        self.scopes[organisation_id] = scope
        for member_id, candidate in self.members.items():
            if candidate.organisation_id == organisation_id:
                self.members[member_id] = candidate.with_scope(scope)

    def _excluded(self, data: Mapping[str, Any]) -> None:
        # R2: the person is out for good, in every role she registered in.
        fingerprint = data["identity_fingerprint"]
        self.excluded_fingerprints.add(fingerprint)
        ids = {str(data["member_id"]), *self.same_person(fingerprint)}
        for member_id in ids:
            candidate = self.members.get(member_id)
            if candidate is not None:
                self.members[member_id] = candidate.as_excluded()
