"""``PartyRateLimits``: how many requests a second each authenticated party may send
to an HTTP edge's service.

``FairSlots`` (``fairness.py``) keeps one caller's flood from standing in front of
another's request, but lets it keep up to half of the edge's workers busy for as
long as it lasts, and everything behind them (the services, their databases)
with it. Past a sustained rate, a party's requests are therefore refused: a
``429`` problem with ``Retry-After``, the whole seconds until it may send again.
Nothing refused was carried out, so sending it again is always safe.

A request is charged once its credential is authenticated (from the gateway's
cache, as a rule), to the party it authenticates as: an organisation, whatever
key it uses (it may issue itself any number), a moderator, the operator. So:

- a partner's first request since the process started is charged like the others
  (before authentication nobody knows whose it is);
- a key revoked, leaked or made up is refused as unauthenticated and charges
  nobody: whoever holds it cannot spend its organisation's rate;
- what is never authenticated (the health check, the metrics page, the OpenAPI
  document) is never refused: refusing a liveness probe would get a healthy
  process restarted.

One token bucket per party: it holds ``burst`` requests and refills at
``per_second``. The limits are per process: behind a load balancer, a party may
send that much to each replica.

    rate_limits = PartyRateLimits()       # on the service; in its handler:
    self.rate_limits.charge(party)        # after authenticating: raises the 429
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nameko.extensions import DependencyProvider

from services.servicekit.errors import ServiceError

#: Defaults, above what this machine's whole stack sustains (about 600 requests a
#: second through the gateway): set them for the deployment (``RATE_LIMITS``).
DEFAULT_PER_SECOND = 1000.0
DEFAULT_BURST = 2000
#: Bounds of what a config may set: slower than one request in 1,000 s would make
#: Retry-After meaningless, a burst beyond a million is no limit.
MIN_PER_SECOND, MAX_PER_SECOND = 0.001, 1_000_000.0
MAX_BURST = 1_000_000
#: Parties with a bucket at most (then the least recently seen starts afresh).
MAX_PARTIES = 10_000
#: Float slack: a party that waits exactly Retry-After seconds gets through.
_SLACK = 1e-9


class RateLimitConfigError(ValueError):
    """``RATE_LIMITS`` in a service's config cannot be used; the message names the key."""


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimits:
    """Token buckets, one per party."""

    def __init__(self, per_second: float = DEFAULT_PER_SECOND, burst: int = DEFAULT_BURST,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RateLimits | None:
        """``RATE_LIMITS: {per_second: 1000, burst: 2000}``; ``per_second: 0``: none."""
        section = config.get("RATE_LIMITS")
        if section is None:
            section = {}
        if not isinstance(section, Mapping):
            raise RateLimitConfigError(
                f"RATE_LIMITS: {section!r} is not a mapping of per_second and burst "
                "(per_second: 0 turns the limits off)")
        per_second = _number(section, "per_second", DEFAULT_PER_SECOND)
        if per_second == 0:
            return None
        if not MIN_PER_SECOND <= per_second <= MAX_PER_SECOND:
            raise RateLimitConfigError(
                f"RATE_LIMITS.per_second: {section.get('per_second')!r} is outside "
                f"{MIN_PER_SECOND:g}..{MAX_PER_SECOND:g} (0 turns the limits off)")
        burst = _number(section, "burst", DEFAULT_BURST)
        if not 1 <= burst <= MAX_BURST or burst != int(burst):
            raise RateLimitConfigError(
                f"RATE_LIMITS.burst: {section.get('burst')!r} is not a whole number "
                f"in 1..{MAX_BURST}")
        return cls(per_second, int(burst))

    def spend(self, party: str) -> int:
        """Take one request from ``party``'s bucket: 0 if it may go, otherwise the
        whole seconds until it may send again (for ``Retry-After``)."""
        now = self._clock()
        bucket = self._buckets.get(party)
        if bucket is None:
            bucket = self._buckets[party] = _Bucket(float(self.burst), now)
            if len(self._buckets) > MAX_PARTIES:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(party)
            bucket.tokens = min(float(self.burst),
                                bucket.tokens + (now - bucket.at) * self.per_second)
            bucket.at = now
        if bucket.tokens >= 1 - _SLACK:
            bucket.tokens -= 1
            return 0
        return max(1, math.ceil((1 - bucket.tokens) / self.per_second))


class PartyRateLimits(DependencyProvider):
    """The service's ``RateLimits`` (from its config), charged by its handler once it
    knows the party: ``self.rate_limits.charge(party)``."""

    def setup(self) -> None:
        self.limits = RateLimits.from_config(self.container.config)

    def charge(self, party: str) -> None:
        """One request of ``party``'s; past its rate, the 429 the edge answers."""
        if self.limits is None:
            return
        wait = self.limits.spend(party)
        if wait:
            raise ServiceError.make(
                429, "rate_limited",
                f"More requests than {self.limits.per_second:g} a second (in bursts of "
                f"{self.limits.burst}): this one was not carried out; send it again after "
                "Retry-After seconds.", retry_after=wait)

    def get_dependency(self, worker_ctx: Any) -> PartyRateLimits:
        return self


def _number(section: Mapping[str, Any], key: str, default: float) -> float:
    raw = section.get(key, default)
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        value = -1.0
    if isinstance(raw, bool) or not math.isfinite(value) or value < 0:
        raise RateLimitConfigError(
            f"RATE_LIMITS.{key}: {raw!r} is not a number of 0 or more"
            + (" (0 turns the limits off)" if key == "per_second" else ""))
    return value
