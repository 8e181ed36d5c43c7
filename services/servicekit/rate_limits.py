"""``RateLimits``: how many requests a second each caller of an HTTP edge may send.

``FairSlots`` (``fairness.py``) keeps one caller's flood from standing in front of
another's request, but lets it keep up to half of the edge's workers busy for as
long as it lasts, and everything behind them (the services, their databases)
with it. Past a sustained rate, a caller's requests are therefore refused at
once, before they take a slot or a worker: a ``429`` problem with
``Retry-After``, the seconds until it may send again. Nothing refused was
carried out, so sending it again is always safe.

One token bucket per authenticated party, the slots' callers (an organisation,
whatever key it uses): it holds ``burst`` requests and refills at
``per_second``. Two kinds of request are not limited, only shared out by the
slots:

- those without a credential (the health check, the liveness probe): refusing
  them would get a healthy process restarted;
- those whose credential is not authenticated yet (made up, or a partner's first
  since the process started): they are one caller between them, and one bucket
  for them all, emptied by a stranger's flood of made-up keys, would refuse every
  partner's first request, the one that makes her known, for as long as the
  flood lasts. The slots give that flood one share of the workers, no more.

The limits are per process: behind a load balancer, a caller may send that much
to each replica.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: Defaults, above what this machine's whole stack sustains (about 600 requests a
#: second through the gateway): set them for the deployment (``RATE_LIMITS``).
DEFAULT_PER_SECOND = 1000.0
DEFAULT_BURST = 2000
#: Callers with a bucket at most (then the least recently seen starts afresh).
MAX_CALLERS = 10_000


class RateLimitConfigError(ValueError):
    """``RATE_LIMITS`` in a service's config cannot be used; the message names the key."""


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimits:
    def __init__(self, per_second: float = DEFAULT_PER_SECOND, burst: int = DEFAULT_BURST,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RateLimits | None:
        """``RATE_LIMITS: {per_second: 1000, burst: 2000}`` (``per_second: 0``: none)."""
        section = config.get("RATE_LIMITS") or {}
        if not isinstance(section, Mapping):
            raise RateLimitConfigError("RATE_LIMITS: a mapping of per_second and burst")
        per_second = _number(section, "per_second", DEFAULT_PER_SECOND)
        if per_second == 0:
            return None
        burst = _number(section, "burst", DEFAULT_BURST)
        if burst < 1 or burst != int(burst):
            raise RateLimitConfigError(f"RATE_LIMITS.burst: {section.get('burst')!r} is not "
                                       "a whole number of 1 or more")
        return cls(per_second, int(burst))

    def spend(self, caller: str) -> int:
        """Take one request from ``caller``'s bucket: 0 if it may go, otherwise the
        whole seconds until it may send again (for ``Retry-After``)."""
        now = self._clock()
        bucket = self._buckets.get(caller)
        if bucket is None:
            bucket = self._buckets[caller] = _Bucket(float(self.burst), now)
            if len(self._buckets) > MAX_CALLERS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(caller)
            bucket.tokens = min(float(self.burst),
                                bucket.tokens + (now - bucket.at) * self.per_second)
            bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0
        return max(1, math.ceil((1 - bucket.tokens) / self.per_second))


def _number(section: Mapping[str, Any], key: str, default: float) -> float:
    raw = section.get(key, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = -1.0
    if isinstance(raw, bool) or not math.isfinite(value) or value < 0:
        raise RateLimitConfigError(f"RATE_LIMITS.{key}: {raw!r} is not a number of 0 or more")
    return value
