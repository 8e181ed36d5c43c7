"""Who a credential acts for, remembered for a moment by each gateway process.

Asking identity on every request doubles the RPCs of every call; an answer is
kept ``TTL`` seconds at most, and dropped at once when identity says that an
organisation's credentials or members changed (a key revoked, a member
excluded or erased: the ``credentials_changed`` broadcast, received by every
gateway process). The gateway that carried the revocation drops its entries
itself before it answers, so the revoking partner's very next request is
refused; another gateway process learns it from the broadcast within
milliseconds, and the TTL bounds the rest (an excluded member is refused within
seconds, R2).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from nameko.extensions import DependencyProvider

#: Longest time an answer of identity is trusted without asking again.
TTL = 2.0
MAX_ENTRIES = 10_000


class ActorCache:
    def __init__(self, ttl: float = TTL) -> None:
        self.ttl = ttl
        self._entries: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}

    @staticmethod
    def _key(credential: str | None, acting_member: str | None) -> tuple[str, str]:
        # The credential is hashed: the cache holds no usable secret.
        digest = hashlib.sha256((credential or "").encode()).hexdigest()
        return digest, acting_member or ""

    def get(self, credential: str | None, acting_member: str | None) -> dict[str, Any] | None:
        key = self._key(credential, acting_member)
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, actor = entry
        if time.monotonic() - stored_at > self.ttl:
            self._entries.pop(key, None)
            return None
        return actor

    def put(self, credential: str | None, acting_member: str | None,
            actor: dict[str, Any]) -> None:
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[self._key(credential, acting_member)] = (time.monotonic(), actor)

    def forget_organisation(self, organisation_id: str) -> None:
        for key, (_, actor) in list(self._entries.items()):
            if actor.get("organisation_id") == organisation_id:
                self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


class ActorCacheProvider(DependencyProvider):
    """One cache per gateway process, shared by its workers."""

    def __init__(self) -> None:
        self.cache = ActorCache()

    def get_dependency(self, worker_ctx: Any) -> ActorCache:
        return self.cache
