"""Who a credential acts for, remembered by each gateway process while it can
prove it would hear of a change.

Asking identity on every request doubles the RPCs of every call. An answer is
dropped at once when identity says an organisation's credentials or members
changed (a key revoked, a member excluded or erased: the ``credentials_changed``
broadcast, sent after the change commits). The gateway that carried a
revocation drops its entries itself before it answers, so the revoking
partner's very next request is refused.

A broadcast can be lost (a gateway reconnecting to RabbitMQ does not get what
was sent meanwhile). So identity also announces, every second, its credentials
epoch (``services/identity/storage/credentials_epoch.py``), which every such
change advances in its own transaction. Hearing a value other than the last one
heard, a gateway forgets everything: a lost broadcast costs about a second.
How long an answer is kept depends on that guarantee being alive:

- while the last announcement heard was read by identity less than
  ``HEARD_WITHIN`` seconds ago (its ``read_at``: one that waited in a queue proves
  nothing about what committed since), up to ``TRUSTED_TTL``, drawn between half
  of it and all of it per answer, so that the answers learnt together do not all
  expire, and ask identity, together;
- otherwise (identity silent, RabbitMQ cut, a gateway just started), ``TTL``.

So an excluded member is refused within milliseconds when the broadcast
arrives, within about ``HEARD_WITHIN`` seconds when it does not (R2). The
lookups this saves were the p99 of the sessions benchmark: with 2-second
entries for everybody, 60 busy members made a burst of 60 identity calls every
2 seconds, and requests queued behind them.

An answer asked for before a forget is not kept: the broadcast may overtake
identity's reply, which may predate the change.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from typing import Any

from nameko.extensions import DependencyProvider

#: Longest time an answer is kept while the gateway cannot prove it would hear of
#: a change (R2).
TTL = 2.0
#: Longest time an answer is kept while identity's epoch is heard.
TRUSTED_TTL = 60.0
#: Announcements are every second: two missed, and answers fall back to ``TTL``.
HEARD_WITHIN = 2.5
MAX_ENTRIES = 10_000

Key = tuple[str, str]


class ActorCache:
    def __init__(self, ttl: float = TTL, trusted_ttl: float = TRUSTED_TTL,
                 heard_within: float = HEARD_WITHIN,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.trusted_ttl = trusted_ttl
        self.heard_within = heard_within
        self._clock = clock
        # key -> (when it was learnt, how long it may be kept while trusted, actor)
        self._entries: dict[Key, tuple[float, float, dict[str, Any]]] = {}
        self._epoch: str | None = None
        # monotonic time at which the last announcement heard will be too old
        self._trusted_until: float | None = None
        # Bumped by every forget: an answer asked for before it is not kept.
        self._generation = 0

    @staticmethod
    def _key(credential: str | None, acting_member: str | None) -> Key:
        # The credential is hashed: the cache holds no usable secret.
        digest = hashlib.sha256((credential or "").encode()).hexdigest()
        return digest, acting_member or ""

    def trusted(self) -> bool:
        """Whether identity's epoch was heard recently enough to keep answers long."""
        return self._trusted_until is not None and self._clock() < self._trusted_until

    def get(self, credential: str | None, acting_member: str | None) -> dict[str, Any] | None:
        key = self._key(credential, acting_member)
        entry = self._entries.get(key)
        if entry is None:
            return None
        learnt_at, lifetime, actor = entry
        limit = lifetime if self.trusted() else self.ttl
        if self._clock() - learnt_at >= limit:
            self._entries.pop(key, None)
            return None
        return actor

    def asking(self) -> int:
        """A token to take before asking identity, for :meth:`put`."""
        return self._generation

    def put(self, credential: str | None, acting_member: str | None,
            actor: dict[str, Any], asked: int) -> None:
        """Remember identity's answer, unless something was forgotten since it was
        asked for (``asked``, from :meth:`asking`)."""
        if asked != self._generation:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        lifetime = self.trusted_ttl * random.uniform(0.5, 1.0)
        self._entries[self._key(credential, acting_member)] = (self._clock(), lifetime, actor)

    def heard_epoch(self, epoch: str, age: float = 0.0) -> None:
        """Identity's announcement, read ``age`` seconds ago (by the wall clocks of the
        two hosts, kept in step by NTP): a value other than the last one heard means
        a change this gateway may not have been told of."""
        if epoch != self._epoch:
            self.clear()
            self._epoch = epoch
        remaining = self.heard_within - max(age, 0.0)
        if remaining > 0:
            self._trusted_until = max(self._trusted_until or 0.0, self._clock() + remaining)

    def forget_organisation(self, organisation_id: str) -> None:
        self._generation += 1
        for key, (_, _, actor) in list(self._entries.items()):
            if actor.get("organisation_id") == organisation_id:
                self._entries.pop(key, None)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()


class ActorCacheProvider(DependencyProvider):
    """One cache per gateway process, shared by its workers."""

    def __init__(self) -> None:
        self.cache = ActorCache()

    def get_dependency(self, worker_ctx: Any) -> ActorCache:
        return self.cache
