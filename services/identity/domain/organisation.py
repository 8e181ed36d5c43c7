"""A partner organisation: its registration, its API keys, its matching scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.eventcore.aggregate import Aggregate
from services.servicekit.errors import Conflict, NotFound


@dataclass
class KeyState:
    key_id: str
    prefix: str
    revoked: bool = False


class Organisation(Aggregate):
    kind = "organisation"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.keys: dict[str, KeyState] = {}
        self.matching_scope = "own"

    @classmethod
    def register(cls, organisation_id: str, sealed_name: str, kind: str,
                 sealed_contact_email: str, now: datetime) -> Organisation:
        organisation = cls(organisation_id)
        organisation.partner_org = organisation_id
        organisation.record("OrganisationRegistered", {
            "organisation_id": organisation_id,
            "name": sealed_name,
            "kind": kind,
            "contact_email": sealed_contact_email,
            "registered_at": now.isoformat(),
        })
        return organisation

    def issue_key(self, key_id: str, prefix: str, secret_sha256: str, now: datetime) -> None:
        self.record("ApiKeyIssued", {
            "organisation_id": self.id, "key_id": key_id, "prefix": prefix,
            "secret_sha256": secret_sha256, "issued_at": now.isoformat(), "expires_at": None,
        })

    def revoke_key(self, key_id: str, reason: str, now: datetime) -> None:
        key = self.keys.get(key_id)
        if key is None:
            raise NotFound("No such API key.", field="key_id")
        if key.revoked:
            raise Conflict("This API key is already revoked.", field="key_id")
        self.record("ApiKeyRevoked", {
            "organisation_id": self.id, "key_id": key_id, "reason": reason,
            "revoked_at": now.isoformat(),
        })

    def set_matching_scope(self, scope: str, now: datetime) -> bool:
        """``False`` (and nothing recorded) when the scope is already this one."""
        if scope == self.matching_scope:
            return False
        self.record("OrganisationPolicyChanged", {
            "organisation_id": self.id, "matching_scope": scope, "changed_at": now.isoformat(),
        })
        return True

    def when_api_key_issued(self, data: dict[str, Any]) -> None:
        self.keys[data["key_id"]] = KeyState(data["key_id"], data["prefix"])

    def when_api_key_revoked(self, data: dict[str, Any]) -> None:
        self.keys[data["key_id"]].revoked = True

    def when_organisation_policy_changed(self, data: dict[str, Any]) -> None:
        self.matching_scope = data["matching_scope"]
